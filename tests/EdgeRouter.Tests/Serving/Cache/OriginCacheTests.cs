using System.Net;
using EdgeRouter.Serving.Cache;
using EdgeRouter.Storage;
using EdgeRouter.Tests.TestUtilities;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeRouter.Tests.Serving.Cache;

/// <summary>
/// The origin cache in the router: one backend read per object however many ask at once, nothing cached from a
/// backend that fails or sends other bytes than the record's, never an old version after an overwrite or a delete,
/// the byte budget kept, large objects streamed through, and proxy storages answered from it.
/// </summary>
public sealed class OriginCacheTests
{
    [Fact]
    public async Task AThousandConcurrentReadsOfAColdKey_AreOneBackendRead()
    {
        using var router = Router();
        var png = await router.UploadAsync("cold.png", 20_000);
        var gate = new TaskCompletionSource();
        router.Store.ReadGate = gate.Task;

        var reads = Enumerable.Range(0, 1000).Select(_ => router.Client.GetAsync("/cold.png")).ToList();
        await WaitUntil(() => router.Cache.Misses == 1000);
        gate.SetResult();
        var responses = await Task.WhenAll(reads);

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        foreach (var response in responses)
        {
            Assert.Equal(png, await response.Content.ReadAsByteArrayAsync());
        }

        Assert.Equal(1, router.Store.Reads);
        Assert.Equal(20_000, router.Cache.FilledBytes);
    }

    [Fact]
    public async Task ABackendFailingMidBody_NeverCompletesAResponse_AndLeavesNoEntry()
    {
        using var router = Router();
        var png = await router.UploadAsync("cut.png", 20_000);
        var gate = new TaskCompletionSource();
        router.Store.ReadGate = gate.Task;
        router.Store.FailReadsAfter = 4096;

        // The others waited: 502 no-store. The first is answered as the bytes arrive: cut off if it had sent some when
        // the backend failed, else a 502 as well. None completes.
        var reads = Enumerable.Range(0, 5).Select(_ => Outcome(router.Client, "/cut.png")).ToList();
        await WaitUntil(() => router.Cache.Misses == 5);
        gate.SetResult();
        var outcomes = await Task.WhenAll(reads);

        Assert.All(outcomes, o => Assert.Contains(o, new[] { "cut off", "502 no-store" }));
        Assert.True(outcomes.Count(o => o == "502 no-store") >= 4, string.Join(", ", outcomes));
        Assert.Equal(1, router.Store.Reads);
        Assert.Equal((0, 0L), (router.Cache.Count, router.Cache.UsedBytes));

        // The backend recovers: the next read fills the cache afresh.
        router.Store.FailReadsAfter = null;
        Assert.Equal(png, await router.Client.GetByteArrayAsync("/cut.png"));
        Assert.Equal(1, router.Cache.Count);
    }

    [Fact]
    public async Task BytesThatAreNotTheRecordsSha256_AreNeverServedNorCached()
    {
        using var router = Router();
        await router.UploadAsync("swapped.png", 20_000);

        // Another tool wrote other bytes of the same length: only the hash can tell.
        await File.WriteAllBytesAsync(Path.Combine(router.Factory.Root, "f", "swapped.png"), TestFiles.Jpeg(20_000));

        // Each read is a miss whose answer streams (the backend pauses halfway, so the answer has begun): the check
        // fails at the end, and the last byte is never sent.
        for (var i = 0; i < 2; i++)
        {
            var rest = new TaskCompletionSource();
            router.Store.PauseReads = (10_000, rest.Task);
            var outcome = Outcome(router.Client, "/swapped.png");
            await WaitUntil(() => router.Store.Reads == i + 1);
            await Task.Delay(200);
            rest.SetResult();
            Assert.Equal("cut off", await outcome);
        }

        router.Store.PauseReads = null;

        // A range waits for the whole, verified: it fails cleanly.
        using var range = new HttpRequestMessage(HttpMethod.Get, "/swapped.png") { Headers = { Range = new(0, 99) } };
        using var ranged = await router.Client.SendAsync(range);
        Assert.Equal(HttpStatusCode.BadGateway, ranged.StatusCode);
        Assert.True(ranged.Headers.CacheControl?.NoStore);
        Assert.Null(ranged.Headers.ETag);

        Assert.Equal((3, 0), (router.Store.Reads, router.Cache.Count));
    }

    [Fact]
    public async Task AnOverwriteOrADelete_IsNeverAnsweredFromTheCache()
    {
        using var router = Router();
        var first = await router.UploadAsync("changing.png", 3000);
        Assert.Equal(first, await router.Client.GetByteArrayAsync("/changing.png"));

        var second = await router.UploadAsync("changing.png", 4000, overwrite: true);
        using (var response = await router.Client.GetAsync("/changing.png"))
        {
            Assert.Equal(second, await response.Content.ReadAsByteArrayAsync());
            Assert.Equal($"\"{TestFiles.Sha256(second)}\"", response.Headers.ETag?.ToString());
        }

        Assert.Equal(HttpStatusCode.NoContent, (await router.Client.DeleteAsync("/api/v1/objects/changing.png")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await router.Client.GetAsync("/changing.png")).StatusCode);
        Assert.Equal(2, router.Store.Reads);
    }

    [Fact]
    public async Task TheBudgetIsKept_ByEvicting()
    {
        using var router = Router(new() { ["EdgeRouter:OriginCache:MemoryBytes"] = "12000", ["EdgeRouter:OriginCache:MaxObjectBytes"] = "6000" });
        foreach (var name in new[] { "a", "b", "c" })
        {
            var png = await router.UploadAsync($"{name}.png", 5000);
            Assert.Equal(png, await router.Client.GetByteArrayAsync($"/{name}.png"));
        }

        Assert.Equal((2, 10_000L, 1L), (router.Cache.Count, router.Cache.UsedBytes, router.Cache.Evictions));
    }

    [Fact]
    public async Task AnObjectAboveMaxObjectBytes_IsStreamedThrough_Uncached()
    {
        using var router = Router(new() { ["EdgeRouter:OriginCache:MaxObjectBytes"] = "4096" });
        var png = await router.UploadAsync("large.png", 5000);

        Assert.Equal(png, await router.Client.GetByteArrayAsync("/large.png"));
        Assert.Equal(png, await router.Client.GetByteArrayAsync("/large.png"));

        Assert.Equal((2, 0L, 0), (router.Store.Reads, router.Cache.Misses, router.Cache.Count));
    }

    [Fact]
    public async Task AProxyStoragesObjects_AreAnsweredFromTheCache_WithTheStreamHeaders()
    {
        // Nothing answers at the Storage URL: every byte comes from the storage's API, once.
        using var router = Router(read: "proxy");
        var png = await router.UploadAsync("proxied.png", 3000);

        for (var i = 0; i < 2; i++)
        {
            using var response = await router.Client.GetAsync("/proxied.png");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(png, await response.Content.ReadAsByteArrayAsync());
            Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal($"\"{TestFiles.Sha256(png)}\"", response.Headers.ETag?.ToString());
            Assert.Equal("public, max-age=31536000, immutable", response.Headers.CacheControl?.ToString());
            Assert.Equal(["nosniff"], response.Headers.GetValues("X-Content-Type-Options"));
        }

        Assert.Equal((1, 1L, 1L), (router.Store.Reads, router.Cache.Misses, router.Cache.Hits));
    }

    [Fact]
    public async Task TheDiskTier_KeepsLargeObjectsAndWhatMemoryHolds_AcrossARestart_WithoutTheBackend()
    {
        var (shared, small, large) = await CachedOnDiskAsync();

        using var second = Router(DiskTier(shared), root: Path.Combine(shared, "f"));
        using var range = new HttpRequestMessage(HttpMethod.Get, "/large.png") { Headers = { Range = new(1_000_000, 1_000_099) } };
        using var partial = await second.Client.SendAsync(range);

        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(large.AsSpan(1_000_000, 100).ToArray(), await partial.Content.ReadAsByteArrayAsync());
        Assert.Equal(large, await second.Client.GetByteArrayAsync("/large.png"));
        Assert.Equal(small, await second.Client.GetByteArrayAsync("/small.png"));
        Assert.Equal(small, await second.Client.GetByteArrayAsync("/small.png"));
        // The small object waited for its load from disk into memory (a miss that read no backend), then was a hit.
        Assert.Equal((0, 3L, 1L, 0L), (second.Store.Reads, second.Cache.Hits, second.Cache.Misses, second.Cache.FilledBytes));
    }

    [Fact]
    public async Task ADiskEntryChangedOrCutShortWhileTheRouterWasDown_IsNeverServed_AndIsReadAgain()
    {
        var (shared, small, large) = await CachedOnDiskAsync();

        // One entry's bytes are flipped (its length is kept: only the hash can tell), the other is cut short.
        var files = CacheFiles(shared).OrderBy(f => new FileInfo(f).Length).ToArray();
        var flipped = await File.ReadAllBytesAsync(files[0]);
        flipped[100] ^= 0xFF;
        await File.WriteAllBytesAsync(files[0], flipped);
        await using (var cut = new FileStream(files[1], FileMode.Open))
        {
            cut.SetLength(1000);
        }

        using var second = Router(DiskTier(shared), root: Path.Combine(shared, "f"));
        Assert.Equal(small, await second.Client.GetByteArrayAsync("/small.png"));
        Assert.Equal(large, await second.Client.GetByteArrayAsync("/large.png"));
        Assert.Equal(2, second.Store.Reads);

        // Read again from the backend, they are whole entries again.
        await WaitUntil(() => CacheFiles(shared).Sum(f => new FileInfo(f).Length) == small.Length + large.Length);
    }

    [Fact]
    public async Task ADiskTierThatCannotWrite_LeavesReadsToTheBackend_AndMemoryStillCaches()
    {
        var shared = Directory.CreateTempSubdirectory("edgerouter-disk-tier-").FullName;
        using var router = Router(DiskTier(shared), root: Path.Combine(shared, "f"));
        var small = await router.UploadAsync("small.png", 3000);
        var large = await router.UploadAsync("large.png", 2 * 1024 * 1024);

        // The tier's folder for files being written is gone, and a file stands in its place: every write fails.
        var temp = Path.Combine(shared, "cache", "tmp");
        Directory.Delete(temp, recursive: true);
        await File.WriteAllTextAsync(temp, "not a folder");

        Assert.Equal(large, await router.Client.GetByteArrayAsync("/large.png"));
        Assert.Equal(large, await router.Client.GetByteArrayAsync("/large.png"));
        Assert.Equal(small, await router.Client.GetByteArrayAsync("/small.png"));
        Assert.Equal(small, await router.Client.GetByteArrayAsync("/small.png"));

        // Each large read went to the backend (two fills whose disk writes failed, then two uncached reads); the small
        // object was read once and then kept in memory.
        Assert.Equal((5, 1), (router.Store.Reads, router.Cache.Count));
        Assert.Empty(CacheFiles(shared));
    }

    /// <summary>
    /// A router with a disk tier reads a small object (memory, then disk) and a large one (disk alone), once from the
    /// backend and once from the cache, and stops; its storage, catalog and cache are in the folder it returns.
    /// </summary>
    private static async Task<(string Folder, byte[] Small, byte[] Large)> CachedOnDiskAsync()
    {
        var shared = Directory.CreateTempSubdirectory("edgerouter-disk-tier-").FullName;
        using var first = Router(DiskTier(shared), root: Path.Combine(shared, "f"));
        var small = await first.UploadAsync("small.png", 3000);
        var large = await first.UploadAsync("large.png", 2 * 1024 * 1024);
        Assert.Equal(small, await first.Client.GetByteArrayAsync("/small.png"));
        Assert.Equal(large, await first.Client.GetByteArrayAsync("/large.png"));
        Assert.Equal(large, await first.Client.GetByteArrayAsync("/large.png"));
        Assert.Equal((2, 1L), (first.Store.Reads, first.Cache.Hits));
        await WaitUntil(() => CacheFiles(shared).Length == 2);
        return (shared, small, large);
    }

    private static Dictionary<string, string?> DiskTier(string folder) => new()
    {
        ["EdgeRouter:OriginCache:DiskPath"] = Path.Combine(folder, "cache"),
        ["EdgeRouter:Catalog:ConnectionString"] = $"Data Source={Path.Combine(folder, "catalog.db")}",
    };

    // The entries, not what is being written (under tmp/).
    private static string[] CacheFiles(string folder)
    {
        var root = Path.Combine(folder, "cache");
        return [.. Directory.GetFiles(root, "*", SearchOption.AllDirectories).Where(f => !Path.GetRelativePath(root, f).StartsWith("tmp", StringComparison.Ordinal))];
    }

    [Fact]
    public async Task TheFirstRequestOfAMiss_GetsTheBytesAsTheyArrive_InMemoryAndOnDisk()
    {
        var shared = Directory.CreateTempSubdirectory("edgerouter-disk-tier-").FullName;
        using var router = Router(DiskTier(shared), root: Path.Combine(shared, "f"));
        foreach (var (name, size) in new[] { ("memory.png", 300_000), ("disk.png", 3 * 1024 * 1024) })
        {
            var png = await router.UploadAsync(name, size);
            var rest = new TaskCompletionSource();
            router.Store.PauseReads = (size / 2, rest.Task);

            // Half the object has left the backend: the client has its first bytes while the rest is still to come.
            using var response = await router.Client.GetAsync("/" + name, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await using var body = await response.Content.ReadAsStreamAsync();
            var first = new byte[64 * 1024];
            await body.ReadExactlyAsync(first).AsTask().WaitAsync(TimeSpan.FromSeconds(20));
            Assert.Equal(png.AsSpan(0, first.Length).ToArray(), first);

            rest.SetResult();
            using var whole = new MemoryStream();
            whole.Write(first);
            await body.CopyToAsync(whole);
            Assert.Equal(png, whole.ToArray());
            router.Store.PauseReads = null;

            // And it was cached, verified: the next read is a hit.
            Assert.Equal(png, await router.Client.GetByteArrayAsync("/" + name));
        }

        Assert.Equal((2, 2L), (router.Store.Reads, router.Cache.Hits));
    }

    /// <summary>What a read came to: "200" with the whole body, "cut off" (a 200 whose body did not complete), or the status.</summary>
    private static async Task<string> Outcome(HttpClient client, string path)
    {
        try
        {
            using var response = await client.GetAsync(path);
            return response.StatusCode == HttpStatusCode.OK ? "200" : $"{(int)response.StatusCode}{(response.Headers.CacheControl?.NoStore == true ? " no-store" : string.Empty)}";
        }
        catch (HttpRequestException)
        {
            return "cut off";
        }
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out");
            await Task.Delay(10);
        }
    }

    private static CachedRouter Router(Dictionary<string, string?>? settings = null, string read = "stream", string root = "f")
    {
        var factory = new RouterFactory(
            $$"""{ "storages": [ { "id": "f", "api": "flaky", "root": "{{root}}", "read": "{{read}}", "storageUrl": "http://127.0.0.1:9/", "keyLayout": "direct" } ] }""",
            FlakyStorageProvider.Register,
            settings);
        var client = factory.CreateAuthorizedClient();
        var store = factory.Services.GetRequiredService<IStorageRegistry>().Current.ById["f"].Store.As<FlakyStorageProvider.FlakyStore>()!;
        return new CachedRouter(factory, client, store, factory.Services.GetRequiredService<OriginCache>());
    }

    private sealed record CachedRouter(RouterFactory Factory, HttpClient Client, FlakyStorageProvider.FlakyStore Store, OriginCache Cache) : IDisposable
    {
        public async Task<byte[]> UploadAsync(string key, int size, bool overwrite = false)
        {
            var png = TestFiles.Png(size);
            using var response = await Client.PutAsync($"/api/v1/objects/{key}{(overwrite ? "?overwrite=true" : string.Empty)}", TestFiles.Raw(png, "image/png"));
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            return png;
        }

        public void Dispose()
        {
            Client.Dispose();
            Factory.Dispose();
        }
    }
}

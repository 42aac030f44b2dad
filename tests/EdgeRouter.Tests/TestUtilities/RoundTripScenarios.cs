using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;

namespace EdgeRouter.Tests.TestUtilities;

/// <summary>Upload-read-delete through the router, shared by each remote storage API's tests.</summary>
public static class RoundTripScenarios
{
    /// <summary>
    /// With one storage (<paramref name="storageEntry"/>, read mode <paramref name="read"/>), uploads a PNG through the router
    /// and checks its mapped URL; lets the caller check the object at the backend; reads it back through the router
    /// (following a redirect straight to the backend: the mapped URL itself, or a signed URL carrying
    /// <paramref name="signatureParameter"/> and <c>no-store</c>); deletes it, and lets the caller check it is gone.
    /// </summary>
    public static async Task AssertEveryReadModeAsync(string storageEntry, string read, string storageUrlPrefix, string signatureParameter, Func<string, Task> assertStored, Func<string, Task> assertGone)
    {
        using var factory = new RouterFactory($$"""{ "storages": [ {{storageEntry}} ] }""");
        using var router = factory.CreateAuthorizedClient();
        using var direct = new HttpClient();
        var png = TestFiles.Png(30_000);

        var created = await (await router.PostAsync("/api/v1/objects", TestFiles.Raw(png, "image/png"))).Content.ReadFromJsonAsync<JsonElement>();
        var key = created.GetProperty("key").GetString()!;
        Assert.Equal(storageUrlPrefix + key, created.GetProperty("storageUrl").GetString());
        await assertStored(key);

        var response = await router.GetAsync("/" + key);
        if (read is "redirect" or "presigned")
        {
            Assert.Equal(HttpStatusCode.Found, response.StatusCode);
            if (read == "redirect")
            {
                Assert.Equal(storageUrlPrefix + key, response.Headers.Location!.OriginalString);
            }
            else
            {
                Assert.Contains(signatureParameter, response.Headers.Location!.Query, StringComparison.Ordinal);
                Assert.True(response.Headers.CacheControl?.NoStore);
            }

            Assert.Equal(png, await direct.GetByteArrayAsync(response.Headers.Location));
        }
        else
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(png, await response.Content.ReadAsByteArrayAsync());
        }

        // A takedown: the bytes go at once, not after the delete grace.
        Assert.Equal(HttpStatusCode.NoContent, (await router.DeleteAsync("/api/v1/objects/" + key + "?immediate=true")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await router.GetAsync("/" + key)).StatusCode);
        await assertGone(key);
    }

    /// <summary>
    /// Concurrent overwrites of one key through the router to <paramref name="storageEntry"/> (read mode
    /// <c>stream</c>): every replacement is written to a location of its own, every read in between is one whole
    /// version under its ETag, the replaced locations stay on the backend for the delete grace and are gone after it,
    /// and the last version stays. <paramref name="existsAtBackend"/> says whether a location is on the backend.
    /// </summary>
    public static async Task AssertReplacementsKeepEveryVersionWholeAsync(string storageEntry, Func<string, Task<bool>> existsAtBackend)
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        using var factory = new RouterFactory($$"""{ "storages": [ {{storageEntry}} ] }""", services => Microsoft.Extensions.DependencyInjection.ServiceCollectionServiceExtensions.AddSingleton<TimeProvider>(services, clock));
        using var router = factory.CreateAuthorizedClient();
        var key = $"replace/{Guid.NewGuid():N}.png";
        var locations = new List<string>();
        for (var round = 0; round < 3; round++)
        {
            var bodies = Enumerable.Range(0, 4).Select(_ => TestFiles.Png(40_000)).ToList();
            var answers = await Task.WhenAll(bodies.Select(b => router.PutAsync($"/api/v1/objects/{key}?overwrite=true", TestFiles.Raw(b, "image/png"))));
            foreach (var answer in answers)
            {
                Assert.Equal(HttpStatusCode.Created, answer.StatusCode);
                locations.Add((await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("location").GetString()!);
            }

            using var read = await router.GetAsync("/" + key);
            var body = await read.Content.ReadAsByteArrayAsync();
            Assert.Equal($"\"{TestFiles.Sha256(body)}\"", read.Headers.ETag?.Tag);
            Assert.Contains(body, bodies, new BytesComparer());
        }

        var current = (await router.GetFromJsonAsync<JsonElement>("/api/v1/objects/" + key)).GetProperty("location").GetString()!;
        Assert.Equal(locations.Count, locations.Distinct().Count());
        Assert.Contains(key, locations);
        foreach (var location in locations)
        {
            Assert.True(await existsAtBackend(location), $"{location} was removed before the grace was over");
        }

        clock.Advance(TimeSpan.FromHours(1));
        await Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<EdgeRouter.Catalog.CatalogJanitor>(factory.Services).RunOnceAsync(CancellationToken.None);

        foreach (var location in locations)
        {
            Assert.Equal(location == current, await existsAtBackend(location));
        }

        Assert.Equal(HttpStatusCode.OK, (await router.GetAsync("/" + key)).StatusCode);
    }

    private sealed class BytesComparer : IEqualityComparer<byte[]>
    {
        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj) => obj.Length;
    }

    /// <summary>Uploads 20 MiB through the router to <paramref name="storageEntry"/>, streams it back whole, and returns its key.</summary>
    public static async Task<string> AssertTwentyMegabytesRoundTripAsync(string storageEntry)
    {
        using var factory = new RouterFactory($$"""{ "storages": [ {{storageEntry}} ] }""", settings: new Dictionary<string, string?> { ["EdgeRouter:Uploads:MaxUploadBytes"] = "67108864" });
        using var router = factory.CreateAuthorizedClient();
        var big = TestFiles.Png(20 * 1024 * 1024 + 7);

        var created = await (await router.PostAsync("/api/v1/objects", TestFiles.Multipart(big, "image/png"))).Content.ReadFromJsonAsync<JsonElement>();
        var key = created.GetProperty("key").GetString()!;
        var back = await router.GetByteArrayAsync("/" + key);

        Assert.Equal(TestFiles.Sha256(big), created.GetProperty("sha256").GetString());
        Assert.Equal(SHA256.HashData(big), SHA256.HashData(back));
        return key;
    }
}

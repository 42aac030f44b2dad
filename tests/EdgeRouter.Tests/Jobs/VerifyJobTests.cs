using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.Jobs;

/// <summary>Verify against problems injected behind the router's back: it must find exactly those, and repair what it can.</summary>
public sealed class VerifyJobTests : IDisposable
{
    private readonly RouterFactory _router = JobsTestRouter.Create("""
        { "id": "main", "api": "local", "root": "data/main", "read": "stream" },
        { "id": "spare", "api": "local", "root": "data/spare", "read": "stream", "weight": 0 }
        """);

    public void Dispose() => _router.Dispose();

    [Fact]
    public async Task Verify_FindsExactlyTheInjectedOrphansMissingObjectsAndMismatches()
    {
        var keys = await UploadAsync("v/", 20);
        var main = Path.Combine(_router.Root, "data", "main");
        string[] orphans = ["v/orphan-1.png", "v/deeper/orphan-2.png", "v/orphan-3.jpg"];
        foreach (var orphan in orphans)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(main, orphan))!);
            File.WriteAllBytes(Path.Combine(main, orphan), TestFiles.Png(77));
        }

        File.Delete(Path.Combine(main, keys[3]));
        File.Delete(Path.Combine(main, keys[7]));
        File.WriteAllBytes(Path.Combine(main, keys[11]), TestFiles.Png(5));
        var sameSize = File.ReadAllBytes(Path.Combine(main, keys[15]));
        sameSize[^1] ^= 0xFF;
        File.WriteAllBytes(Path.Combine(main, keys[15]), sameSize);
        using var admin = JobsTestRouter.AdminClient(_router);

        var shallow = await JobsTestRouter.RunAsync(admin, """{ "kind": "verify", "storage": "main", "prefix": "v/" }""");
        var deep = await JobsTestRouter.RunAsync(admin, """{ "kind": "verify", "storage": "main", "prefix": "v/", "deep": true }""");

        foreach (var job in new[] { shallow, deep })
        {
            Assert.Equal(orphans.Order(StringComparer.Ordinal), JobsTestRouter.Listed(job, "orphans", "location").Order(StringComparer.Ordinal));
            Assert.Equal([keys[3], keys[7]], JobsTestRouter.Listed(job, "missing", "key").Order(StringComparer.Ordinal));
            Assert.Equal([keys[11]], JobsTestRouter.Listed(job, "sizeMismatches", "key"));
        }

        // Each object a record names counts once, whether or not it was read and hashed.
        Assert.Equal(18, (long)shallow["processed"]!);
        Assert.Equal(18, (long)deep["processed"]!);
        Assert.True((long)deep["bytes"]! > 0, "a deep verify reports the bytes it read");
        Assert.Empty(JobsTestRouter.Listed(shallow, "hashMismatches", "key"));
        Assert.Equal([keys[15]], JobsTestRouter.Listed(deep, "hashMismatches", "key"));

        // Nothing is repaired unless asked: the orphans are still there, and no record was removed.
        Assert.All(orphans, o => Assert.True(File.Exists(Path.Combine(main, o))));
        var records = (await admin.GetFromJsonAsync<JsonObject>("/admin/api/objects?prefix=v/&limit=100"))!["items"]!.AsArray();
        Assert.Equal(20, records.Count);
    }

    [Fact]
    public async Task Repair_QueuesOrphansAfterTheGrace_AndCopiesAMissingObjectBackFromAFormerLocation()
    {
        var keys = await UploadAsync("r/", 4);
        using var admin = JobsTestRouter.AdminClient(_router);
        await JobsTestRouter.RunAsync(admin, """{ "kind": "migrate", "from": "main", "to": "spare", "prefix": "r/" }""");

        // The moved copy is lost behind the router's back; the old one, on main, is still there within the grace.
        var spare = Path.Combine(_router.Root, "data", "spare");
        File.Delete(Path.Combine(spare, keys[1]));
        File.WriteAllBytes(Path.Combine(spare, "r/orphan.png"), TestFiles.Png(50));
        using var client = _router.CreateAnonymousClient();
        Assert.Equal(HttpStatusCode.BadGateway, (await client.GetAsync("/" + keys[1])).StatusCode);

        var repair = await JobsTestRouter.RunAsync(admin, """{ "kind": "verify", "storage": "spare", "prefix": "r/", "repair": true }""");

        Assert.Equal([keys[1]], JobsTestRouter.Listed(repair, "repaired", "key"));
        Assert.Equal(1, JobsTestRouter.Count(repair, "orphansQueued"));
        using var read = await client.GetAsync("/" + keys[1]);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(TestFiles.Sha256(await read.Content.ReadAsByteArrayAsync()), read.Headers.ETag!.Tag.Trim('"'));

        // Once queued, the orphan is the janitor's (after the grace): a second verify finds nothing left to report.
        var after = await JobsTestRouter.RunAsync(admin, """{ "kind": "verify", "storage": "spare", "prefix": "r/" }""");
        Assert.Equal(0, JobsTestRouter.Count(after, "orphansCount"));
        Assert.Equal(0, JobsTestRouter.Count(after, "missingCount"));
        Assert.True(File.Exists(Path.Combine(spare, "r/orphan.png")), "an orphan is deleted only after the grace");
    }

    private async Task<List<string>> UploadAsync(string prefix, int count)
    {
        using var api = _router.CreateAuthorizedClient();
        var keys = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var key = $"{prefix}{i:D2}.png";
            using var created = await api.PutAsync("/api/v1/objects/" + key, TestFiles.Raw(TestFiles.Png(500 + i), "image/png"));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            keys.Add(key);
        }

        return keys;
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.Jobs;

/// <summary>Retiring a storage, evening out storages by weight, and stopping a job midway.</summary>
public sealed class DrainRebalanceTests
{
    [Fact]
    public async Task Drain_SwitchesTheStorageOff_MovesEveryObjectByPolicy_AndTheStorageCanThenBeRemoved()
    {
        using var router = JobsTestRouter.Create("""
            { "id": "old", "api": "local", "root": "data/old", "read": "stream" },
            { "id": "a", "api": "local", "root": "data/a", "read": "stream" },
            { "id": "b", "api": "local", "root": "data/b", "read": "stream" }
            """);
        var objects = await UploadAsync(router, "d/", 60);
        using var admin = JobsTestRouter.AdminClient(router);
        var before = await StoragesAsync(admin);
        Assert.True(before["old"].Objects > 0, "the weighted placement put nothing on 'old'");

        var job = await JobsTestRouter.RunAsync(admin, """{ "kind": "drain", "storage": "old" }""");

        Assert.Equal(before["old"].Objects, JobsTestRouter.Count(job, "moved"));
        Assert.Equal(before["old"].Objects, (long)job["total"]!);
        var after = await StoragesAsync(admin);
        Assert.False(after["old"].Active);
        Assert.Equal(0, after["old"].Objects);
        Assert.Equal(60, after["a"].Objects + after["b"].Objects);
        Assert.True(after["a"].Objects > before["a"].Objects && after["b"].Objects > before["b"].Objects, "the placement policy spreads a drain over the others");
        Assert.Contains("\"active\": false", await File.ReadAllTextAsync(router.StoragesPath), StringComparison.Ordinal);
        await AssertEveryObjectReadsAsync(router, objects);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("/admin/api/storages/old")).StatusCode);
        await AssertEveryObjectReadsAsync(router, objects);
    }

    [Fact]
    public async Task Rebalance_DryRunOnlyPlans_ThenMovesBytesUntilEachStorageFollowsItsWeight()
    {
        using var router = JobsTestRouter.Create("""
            { "id": "a", "api": "local", "root": "data/a", "read": "stream" },
            { "id": "b", "api": "local", "root": "data/b", "read": "stream", "weight": 0 }
            """);
        var objects = await UploadAsync(router, "rb/", 40);
        using var admin = JobsTestRouter.AdminClient(router);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.PatchAsync("/admin/api/storages/b", new StringContent("""{ "weight": 1 }""", Encoding.UTF8, "application/json"))).StatusCode);
        var total = objects.Values.Sum(b => (long)b.Length);

        var plan = await JobsTestRouter.RunAsync(admin, """{ "kind": "rebalance", "tolerance": 0.1, "dryRun": true }""");

        var move = Assert.Single(plan["report"]!["plan"]!["moves"]!.AsArray());
        Assert.Equal(("a", "b"), ((string)move!["from"]!, (string)move["to"]!));
        Assert.Equal(total - (total / 2), (long)move["bytes"]!);
        Assert.Equal(40, (await StoragesAsync(admin))["a"].Objects);

        await JobsTestRouter.RunAsync(admin, """{ "kind": "rebalance", "tolerance": 0.1 }""");

        var after = await StoragesAsync(admin);
        Assert.InRange(after["b"].Bytes, total * 0.4, total * 0.6);
        Assert.Equal(total, after["a"].Bytes + after["b"].Bytes);
        await AssertEveryObjectReadsAsync(router, objects);
    }

    [Fact]
    public async Task Cancel_StopsARunningJob_AndLeavesEveryObjectWhole()
    {
        using var router = JobsTestRouter.Create("""
            { "id": "a", "api": "local", "root": "data/a", "read": "stream" },
            { "id": "b", "api": "local", "root": "data/b", "read": "stream", "weight": 0 }
            """);
        var objects = await UploadAsync(router, "c/", 50);
        using var admin = JobsTestRouter.AdminClient(router);
        var id = await JobsTestRouter.StartAsync(admin, """{ "kind": "migrate", "from": "a", "to": "b", "objectsPerSecond": 10 }""");
        while ((long)(await admin.GetFromJsonAsync<JsonObject>($"/admin/api/jobs/{id}"))!["processed"]! < 5)
        {
            await Task.Delay(50);
        }

        using var cancel = await admin.DeleteAsync($"/admin/api/jobs/{id}");
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        var job = await JobsTestRouter.WaitAsync(admin, id, TimeSpan.FromSeconds(30));

        Assert.Equal("cancelled", (string?)job["state"]);
        Assert.InRange((long)job["processed"]!, 5, 49);
        Assert.NotNull(job["finishedAt"]);
        await AssertEveryObjectReadsAsync(router, objects);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync("/admin/api/jobs/no-such-job")).StatusCode);
    }

    private static async Task<Dictionary<string, byte[]>> UploadAsync(RouterFactory router, string prefix, int count)
    {
        using var api = router.CreateAuthorizedClient();
        var objects = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            var bytes = TestFiles.Png(1_000 + (i * 97));
            using var created = await api.PutAsync($"/api/v1/objects/{prefix}{i:D2}.png", TestFiles.Raw(bytes, "image/png"));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            objects[$"{prefix}{i:D2}.png"] = bytes;
        }

        return objects;
    }

    private static async Task AssertEveryObjectReadsAsync(RouterFactory router, Dictionary<string, byte[]> objects)
    {
        using var client = router.CreateAnonymousClient();
        foreach (var (key, bytes) in objects)
        {
            Assert.Equal(bytes, await client.GetByteArrayAsync("/" + key));
        }
    }

    private static async Task<Dictionary<string, (long Objects, long Bytes, bool Active)>> StoragesAsync(HttpClient admin)
        => (await admin.GetFromJsonAsync<JsonArray>("/admin/api/storages"))!
            .ToDictionary(s => (string)s!["id"]!, s => ((long)s!["objects"]!, (long)s["usedBytes"]!, (bool)s["active"]!), StringComparer.Ordinal);
}

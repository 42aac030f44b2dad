using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EdgeRouter.Tests.Jobs;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.OutOfProcess;

/// <summary>A migration in the built router, killed with SIGKILL halfway and started again.</summary>
public sealed class JobResumeTests
{
    [Fact]
    public async Task AMigrationKilledHalfway_ResumesAfterARestart_AndFinishes_WithNoObjectLostOrDuplicated()
    {
        await using var host = new RouterHost(
            new Dictionary<string, string>
            {
                ["Admin__KeyHashes__0"] = JobsTestRouter.AdminKeyHash,
                ["EdgeRouter__Jobs__LeaseTime"] = "00:00:03",
                ["EdgeRouter__Jobs__PollInterval"] = "00:00:00.200",
            },
            """
            { "storages": [
              { "id": "old", "api": "local", "root": "data/old", "read": "stream" },
              { "id": "new", "api": "local", "root": "data/new", "read": "stream", "weight": 0 }
            ] }
            """);
        await host.StartAsync();
        using var admin = new HttpClient { BaseAddress = new Uri(host.BaseUrl), DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", JobsTestRouter.AdminKey) } };
        var objects = Enumerable.Range(0, 300).ToDictionary(i => $"k/{i:D3}.png", i => TestFiles.Png(1_000 + i));
        await Parallel.ForEachAsync(objects, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (o, cancellationToken) =>
        {
            using var created = await host.Client.PutAsync("/api/v1/objects/" + o.Key, TestFiles.Raw(o.Value, "image/png"), cancellationToken);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        });
        var id = await JobsTestRouter.StartAsync(admin, """{ "kind": "migrate", "from": "old", "to": "new", "objectsPerSecond": 60 }""");
        while ((long)(await admin.GetFromJsonAsync<JsonObject>($"/admin/api/jobs/{id}"))!["processed"]! < 100)
        {
            await Task.Delay(50);
        }

        await host.KillAsync();
        await host.StartAsync();
        var job = await JobsTestRouter.WaitAsync(admin, id);

        Assert.True((string?)job["state"] == "succeeded", job.ToJsonString() + host.Output);
        Assert.Equal(0, (long)job["errors"]!);
        foreach (var (key, bytes) in objects)
        {
            Assert.Equal(bytes, await host.Client.GetByteArrayAsync("/" + key));
        }

        // Every record is on the new storage, each once; the only files there no record names are copies the kill
        // interrupted, still claimed by their intents (the janitor removes them once those expire): at most the page
        // of moves the kill cut short, which claims its locations together.
        Assert.Equal([["new", 300L]], host.Query("SELECT storage_id, count(*) FROM objects GROUP BY storage_id").Select(r => r.ToList()));
        var recorded = host.Query("SELECT location FROM objects").Select(r => (string)r[0]).ToHashSet(StringComparer.Ordinal);
        var claimed = host.Query("SELECT location FROM upload_intents WHERE storage_id = 'new'").Select(r => (string)r[0]).ToHashSet(StringComparer.Ordinal);
        var files = Directory.GetFiles(Path.Combine(host.Root, "data", "new"), "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(Path.Combine(host.Root, "data", "new"), f).Replace('\\', '/'))
            .Where(f => !Path.GetFileName(f).StartsWith(".er-probe-", StringComparison.Ordinal))
            .ToList();
        Assert.Subset(files.ToHashSet(StringComparer.Ordinal), recorded);
        // A copy cut short mid-write is still under its staged name (beside its location, named after it), which the
        // janitor's abort of the intent removes too.
        var staged = claimed.Select(c => c[..(c.LastIndexOf('/') + 1)] + EdgeRouter.Storage.ObjectKeys.TemporaryFileName(c));
        Assert.All(files.Where(f => !recorded.Contains(f)), f => Assert.Contains(f, claimed.Concat(staged).ToHashSet(StringComparer.Ordinal)));
        Assert.True(claimed.Count <= 100, $"{claimed.Count} locations were left claimed; at most one page of moves (100) can be interrupted");
    }
}

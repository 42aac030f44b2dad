using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.Jobs;

/// <summary>
/// A migration under load, for any two storages of a router (read mode <c>stream</c>): objects uploaded to one are
/// migrated to the other while some keys are overwritten, others deleted, and a reader reads the rest in a loop.
/// </summary>
internal static class MigrationScenario
{
    /// <summary>
    /// The reader must never see anything but 200 with the bytes it uploaded; afterwards every live key reads its newest
    /// version under its unchanged URL, the untouched ones from the target, deleted keys are gone, and a deep verify of
    /// both storages finds nothing missing, orphaned or different.
    /// </summary>
    public static async Task AssertEveryUrlKeepsItsBytesAsync(RouterFactory router, string from, string to, int count = 120)
    {
        using var api = router.CreateAuthorizedClient();
        using var admin = JobsTestRouter.AdminClient(router);
        using var reader = router.CreateAnonymousClient();
        var prefix = $"mig-{Guid.NewGuid():N}/";
        var versions = new ConcurrentDictionary<string, byte[]>(StringComparer.Ordinal);
        var keys = Enumerable.Range(0, count).Select(i => $"{prefix}{i:D4}.png").ToList();
        await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (key, cancellationToken) =>
        {
            var bytes = TestFiles.Png(2_000 + (keys.IndexOf(key) * 37));
            using var created = await api.PutAsync("/api/v1/objects/" + key, TestFiles.Raw(bytes, "image/png"), cancellationToken);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            versions[key] = bytes;
        });
        var stable = keys.Where((_, i) => i % 4 < 2).ToList();
        var overwritten = keys.Where((_, i) => i % 4 == 2).ToList();
        var deleted = keys.Where((_, i) => i % 4 == 3).ToList();

        // Slowed, so that the writes and reads below happen while it runs.
        var id = await JobsTestRouter.StartAsync(admin, $$"""{ "kind": "migrate", "from": "{{from}}", "to": "{{to}}", "prefix": "{{prefix}}", "objectsPerSecond": 40 }""");
        using var stop = new CancellationTokenSource();
        var failures = new ConcurrentQueue<string>();
        var reads = 0;
        var reading = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                foreach (var key in stable)
                {
                    using var response = await reader.GetAsync("/" + key);
                    var body = await response.Content.ReadAsByteArrayAsync();
                    if (response.StatusCode != HttpStatusCode.OK || !body.AsSpan().SequenceEqual(versions[key]))
                    {
                        failures.Enqueue($"{key}: {(int)response.StatusCode}, {body.Length} bytes");
                    }

                    Interlocked.Increment(ref reads);
                }
            }
        });
        var writing = Task.Run(async () =>
        {
            foreach (var key in overwritten)
            {
                var bytes = TestFiles.Png(9_000 + keys.IndexOf(key));
                using var replaced = await api.PutAsync("/api/v1/objects/" + key + "?overwrite=true", TestFiles.Raw(bytes, "image/png"));
                Assert.True(replaced.IsSuccessStatusCode, $"overwrite of {key}: {(int)replaced.StatusCode}");
                versions[key] = bytes;
                await Task.Delay(15);
            }
        });
        var deleting = Task.Run(async () =>
        {
            foreach (var key in deleted)
            {
                using var gone = await api.DeleteAsync("/api/v1/objects/" + key);
                Assert.Equal(HttpStatusCode.NoContent, gone.StatusCode);
                versions.TryRemove(key, out _);
                await Task.Delay(15);
            }
        });
        await Task.WhenAll(writing, deleting);
        var job = await JobsTestRouter.WaitAsync(admin, id);
        await stop.CancelAsync();
        await reading;

        Assert.True((string?)job["state"] == "succeeded", job.ToJsonString());
        Assert.Empty(failures);
        Assert.True(reads >= stable.Count, $"only {reads} reads ran during the migration");
        Assert.Equal(0, (long)job["errors"]!);
        Assert.InRange(JobsTestRouter.Count(job, "moved"), stable.Count, count);

        // Every live key reads its newest bytes under the same URL; the deleted ones are gone; nothing else is recorded.
        foreach (var (key, bytes) in versions)
        {
            Assert.Equal(bytes, await reader.GetByteArrayAsync("/" + key));
        }

        foreach (var key in deleted)
        {
            Assert.Equal(HttpStatusCode.NotFound, (await reader.GetAsync("/" + key)).StatusCode);
        }

        var records = (await admin.GetFromJsonAsync<JsonObject>($"/admin/api/objects?prefix={prefix}&limit=1000"))!["items"]!.AsArray();
        Assert.Equal(versions.Keys.Order(StringComparer.Ordinal), records.Select(r => (string)r!["key"]!));
        Assert.All(records.Where(r => stable.Contains((string)r!["key"]!)), r => Assert.Equal(to, (string)r!["storage"]!));

        // Nothing lost, dangling or altered on either storage.
        foreach (var storage in new[] { from, to })
        {
            var verify = await JobsTestRouter.RunAsync(admin, $$"""{ "kind": "verify", "storage": "{{storage}}", "prefix": "{{prefix}}", "deep": true }""");
            foreach (var problem in new[] { "missingCount", "orphansCount", "sizeMismatchesCount", "hashMismatchesCount" })
            {
                Assert.True(JobsTestRouter.Count(verify, problem) == 0, $"{storage}: {verify["report"]!.ToJsonString()}");
            }
        }
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EdgeRouter.Tests.Caching.Redis;
using EdgeRouter.Tests.Catalog.Postgres;
using EdgeRouter.Tests.Jobs;
using EdgeRouter.Tests.TestUtilities;
using Npgsql;

namespace EdgeRouter.Tests.Cluster;

/// <summary>A job in a cluster: one instance runs it at a time, and when that one dies another takes it over.</summary>
[Collection(SharedCatalogGroup.Name)]
public sealed class ClusterJobsTests(PostgresFixture postgres, RedisFixture redis)
{
    [Fact]
    public async Task AMigration_RunsOnOneInstance_AndWhenThatOneIsKilled_TheOtherFinishesItFromItsCheckpoint()
    {
        await using var cluster = await RouterCluster.StartAsync(
            postgres,
            redis,
            """
            { "storages": [
              { "id": "old", "api": "local", "root": "{files}/old", "read": "stream" },
              { "id": "new", "api": "local", "root": "{files}/new", "read": "stream", "weight": 0 }
            ] }
            """,
            settings: new Dictionary<string, string>
            {
                ["Admin__KeyHashes__0"] = JobsTestRouter.AdminKeyHash,
                ["EdgeRouter__Jobs__LeaseTime"] = "00:00:03",
                ["EdgeRouter__Jobs__PollInterval"] = "00:00:00.200",
            });
        var objects = Enumerable.Range(0, 300).ToDictionary(i => $"c/{i:D3}.png", i => TestFiles.Png(800 + i));
        await Parallel.ForEachAsync(objects, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (o, cancellationToken) =>
            Assert.Equal(HttpStatusCode.Created, (await cluster.Clients[0].PutAsync("/api/v1/objects/" + o.Key, TestFiles.Raw(o.Value, "image/png"), cancellationToken)).StatusCode));
        var admins = cluster.Clients.Select(c => new HttpClient { BaseAddress = c.BaseAddress, DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", JobsTestRouter.AdminKey) } }).ToList();
        var id = await JobsTestRouter.StartAsync(admins[1], """{ "kind": "migrate", "from": "old", "to": "new", "objectsPerSecond": 60 }""");

        // One owner, the same one seen from both instances, until it dies.
        JsonObject job;
        var owners = new HashSet<string>(StringComparer.Ordinal);
        do
        {
            await Task.Delay(50);
            job = (await admins[0].GetFromJsonAsync<JsonObject>($"/admin/api/jobs/{id}"))!;
            if ((string?)job["owner"] is { } owner)
            {
                owners.Add(owner);
            }
        }
        while ((long)job["processed"]! < 100);

        var running = Assert.Single(owners);
        var killed = Enumerable.Range(0, 2).Single(i => running.Contains($":{cluster.ProcessId(i)}:", StringComparison.Ordinal));
        cluster.Kill(killed);
        var survivor = 1 - killed;
        job = await JobsTestRouter.WaitAsync(admins[survivor], id);

        Assert.True((string?)job["state"] == "succeeded", job.ToJsonString());
        Assert.Contains($":{cluster.ProcessId(survivor)}:", (string)job["owner"]!, StringComparison.Ordinal);
        Assert.Equal(0, (long)job["errors"]!);
        foreach (var (key, bytes) in objects)
        {
            Assert.Equal(bytes, await cluster.Clients[survivor].GetByteArrayAsync("/" + key));
        }

        await using var database = new NpgsqlConnection(cluster.Database);
        await database.OpenAsync();
        await using var count = new NpgsqlCommand("SELECT storage_id, count(*) FROM objects GROUP BY storage_id", database);
        await using var rows = await count.ExecuteReaderAsync();
        Assert.True(await rows.ReadAsync());
        Assert.Equal(("new", 300L), (rows.GetString(0), rows.GetInt64(1)));
        Assert.False(await rows.ReadAsync());
    }
}

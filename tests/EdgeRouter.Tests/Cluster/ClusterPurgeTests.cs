using System.Net;
using System.Text.Json.Nodes;
using EdgeRouter.Tests.Caching.Redis;
using EdgeRouter.Tests.Catalog.Postgres;
using EdgeRouter.Tests.Cdn;
using EdgeRouter.Tests.TestUtilities;
using Npgsql;

namespace EdgeRouter.Tests.Cluster;

/// <summary>Two instances on one PostgreSQL catalog both send purges from the one outbox: each purge goes out once.</summary>
[Collection(SharedCatalogGroup.Name)]
public sealed class ClusterPurgeTests(PostgresFixture postgres, RedisFixture redis)
{
    [Fact]
    public async Task DeletesThroughBothInstances_ArePurgedOnceEach()
    {
        using var cdn = new CdnTestServer();
        await using var cluster = await RouterCluster.StartAsync(
            postgres,
            redis,
            """{ "storages": [ { "id": "main", "api": "local", "root": "{files}/main", "read": "stream" } ] }""",
            settings: new Dictionary<string, string>
            {
                ["EdgeRouter__Cdn__Targets__0__Name"] = "hook",
                ["EdgeRouter__Cdn__Targets__0__Kind"] = "webhook",
                ["EdgeRouter__Cdn__Targets__0__Url"] = cdn.Url + "/hooks/purge",
                ["EdgeRouter__Cdn__Targets__0__Secret"] = CdnTestServer.WebhookSecret,
                ["EdgeRouter__Cdn__Targets__0__RequestsPerSecond"] = "1000",
                ["EdgeRouter__Cdn__PollInterval"] = "00:00:00.050",
            });
        var keys = Enumerable.Range(0, 120).Select(i => $"d/{i:D3}.png").ToList();
        await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (key, cancellationToken) =>
            Assert.Equal(HttpStatusCode.Created, (await cluster.Clients[0].PutAsync("/api/v1/objects/" + key, TestFiles.Raw(TestFiles.Png(), "image/png"), cancellationToken)).StatusCode));

        await Parallel.ForEachAsync(keys.Select((k, i) => (k, i)), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (d, cancellationToken) =>
            Assert.Equal(HttpStatusCode.NoContent, (await cluster.Clients[d.i % 2].DeleteAsync("/api/v1/objects/" + d.k, cancellationToken)).StatusCode));

        await using var database = new NpgsqlConnection(cluster.Database);
        await database.OpenAsync();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            await using var count = new NpgsqlCommand("SELECT count(*) FILTER (WHERE state = 'sent'), count(DISTINCT owner) FROM purges", database);
            await using var rows = await count.ExecuteReaderAsync();
            await rows.ReadAsync();
            if (rows.GetInt64(0) == keys.Count)
            {
                // Both instances sent some: the claims really raced.
                Assert.Equal(2, rows.GetInt64(1));
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"{rows.GetInt64(0)} of {keys.Count} purges sent.");
            await Task.Delay(100);
        }

        var hooks = cdn.Requests("/hooks/purge");
        Assert.All(hooks, CdnTestServer.AssertSigned);
        Assert.Equal(keys, hooks.Select(h => (string)JsonNode.Parse(h.RequestMessage.Body!)!["key"]!).Order(StringComparer.Ordinal));
    }
}

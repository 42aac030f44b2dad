using System.Diagnostics;
using System.Net;
using System.Text.Json;
using EdgeRouter.Tests.Caching.Redis;
using EdgeRouter.Tests.Catalog.Postgres;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.Cluster;

/// <summary>Two router processes on one PostgreSQL catalog and one Redis: what one instance does, the other sees.</summary>
[Collection(SharedCatalogGroup.Name)]
public sealed class TwoRoutersTests(PostgresFixture postgres, RedisFixture redis)
{
    private const string OneLocalStorage = """{ "storages": [ { "id": "local", "api": "local", "root": "{files}", "read": "stream" } ] }""";

    [Fact]
    public async Task AnUploadOnA_ReadsOnBAtOnce_AndADeleteOnA_Is404OnBWithinASecond()
    {
        await using var cluster = await RouterCluster.StartAsync(postgres, redis, OneLocalStorage);
        var (a, b) = (cluster.Clients[0], cluster.Clients[1]);
        var png = TestFiles.Png(5_000);

        Assert.Equal(HttpStatusCode.Created, (await a.PutAsync("/api/v1/objects/shared/one.png", TestFiles.Raw(png, "image/png"))).StatusCode);
        Assert.Equal(png, await b.GetByteArrayAsync("/shared/one.png"));

        Assert.Equal(HttpStatusCode.NoContent, (await a.DeleteAsync("/api/v1/objects/shared/one.png")).StatusCode);
        var gone = await TimeUntil404Async(b, "/shared/one.png", TimeSpan.FromSeconds(5));

        Assert.True(gone < TimeSpan.FromSeconds(1), $"B still served the deleted key after {gone.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public async Task A404ForAKeyBeingUploadedOnA_IsNoStoreOnB_AndTheFirstReadAfterThe201Finds()
    {
        await using var cluster = await RouterCluster.StartAsync(postgres, redis, OneLocalStorage);
        var (a, b) = (cluster.Clients[0], cluster.Clients[1]);
        var before = await b.GetAsync("/soon/here.png");
        Assert.Equal(HttpStatusCode.NotFound, before.StatusCode);
        Assert.Equal("public, max-age=60", before.Headers.CacheControl?.ToString());

        var gate = new TaskCompletionSource();
        var body = TestFiles.Png(100_000);
        var upload = a.PutAsync("/api/v1/objects/soon/here.png", new GatedContent(body, 8 * 1024, gate.Task));
        await GatedContent.WaitForStagingFileAsync(cluster.Files, upload);

        // B heard that A is writing the key (the announcement goes out before the body): its 404 is not to be cached.
        var deadline = Stopwatch.StartNew();
        HttpResponseMessage during;
        while ((during = await b.GetAsync("/soon/here.png")).Headers.CacheControl?.NoStore != true)
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(1), $"B's 404 during the upload said '{during.Headers.CacheControl}'");
            await Task.Delay(20);
        }

        Assert.Equal(HttpStatusCode.NotFound, during.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await a.GetAsync("/soon/here.png")).StatusCode);
        Assert.True((await a.GetAsync("/soon/here.png")).Headers.CacheControl?.NoStore);

        gate.SetResult();
        Assert.Equal(HttpStatusCode.Created, (await upload).StatusCode);
        Assert.Equal(body, await b.GetByteArrayAsync("/soon/here.png"));
    }

    [Fact]
    public async Task OverwritesUnderReadsOnEveryInstance_NeverSendAWrongBody_AndEveryInstanceServesTheLastVersionASecondLater()
    {
        await using var cluster = await RouterCluster.StartAsync(postgres, redis, OneLocalStorage, instances: 3);
        var keys = Enumerable.Range(0, 30).Select(i => $"over/{i}.png").ToArray();
        var last = new System.Collections.Concurrent.ConcurrentDictionary<string, string>();
        foreach (var key in keys)
        {
            var body = TestFiles.Png(20_000);
            Assert.Equal(HttpStatusCode.Created, (await cluster.Clients[0].PutAsync("/api/v1/objects/" + key, TestFiles.Raw(body, "image/png"))).StatusCode);
            last[key] = TestFiles.Sha256(body);
        }

        // Each key has one writer (so "the last acknowledged version" is well defined), spread over the instances;
        // every instance reads every key meanwhile.
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(6));
        var writers = Enumerable.Range(0, 3).Select(w => Task.Run(async () =>
        {
            var random = new Random(w);
            while (!stop.IsCancellationRequested)
            {
                var key = keys[(random.Next(10) * 3) + w];
                var body = TestFiles.Png(random.Next(10_000, 60_000));
                using var response = await cluster.Clients[random.Next(3)].PutAsync($"/api/v1/objects/{key}?overwrite=true", TestFiles.Raw(body, "image/png"));
                Assert.Equal(HttpStatusCode.Created, response.StatusCode);
                last[key] = TestFiles.Sha256(body);
            }
        }));
        var wrong = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var reads = 0;
        var readers = Enumerable.Range(0, 6).Select(r => Task.Run(async () =>
        {
            var random = new Random(100 + r);
            var client = cluster.Clients[r % 3];
            while (!stop.IsCancellationRequested)
            {
                var key = keys[random.Next(keys.Length)];
                try
                {
                    using var response = await client.GetAsync("/" + key);
                    var body = await response.Content.ReadAsByteArrayAsync();
                    if (response.StatusCode != HttpStatusCode.OK || response.Headers.ETag?.Tag != $"\"{TestFiles.Sha256(body)}\"")
                    {
                        wrong.Enqueue($"{key}: {(int)response.StatusCode} ETag {response.Headers.ETag?.Tag}, body {TestFiles.Sha256(body)}");
                    }
                }
                catch (HttpRequestException ex)
                {
                    wrong.Enqueue($"{key}: reset ({ex.Message})");
                }

                Interlocked.Increment(ref reads);
            }
        }));
        await Task.WhenAll(writers.Concat(readers));

        Assert.True(reads > 300, $"only {reads} reads");
        Assert.Equal([], wrong.Take(10));
        await Task.Delay(TimeSpan.FromSeconds(1));
        var stale = new List<string>();
        foreach (var key in keys)
        {
            for (var i = 0; i < 3; i++)
            {
                using var response = await cluster.Clients[i].GetAsync("/" + key);
                if (response.Headers.ETag?.Tag != $"\"{last[key]}\"")
                {
                    stale.Add($"{key} on instance {i}: {response.Headers.ETag?.Tag}, last acknowledged \"{last[key]}\"");
                }
            }
        }

        Assert.Equal([], stale);
    }

    [Fact]
    public async Task TwoHundredConcurrentUploadsAcrossThree_NeverOverfillASmallStorage_NorRunOutOfConnections_NorLeaveAReservation()
    {
        // Room for 40 objects of 1,000 bytes; 200 uploads at once across three instances, each with its default pool
        // of 20, on a PostgreSQL of the default 100 connections (97 past the superuser reserve). A tighter budget
        // (50, less than 3 x 20) must make uploads wait for a connection, never fail.
        foreach (var limit in new[] { 97, 50 })
        {
            await AssertTwoHundredUploadsFitAsync(limit);
        }
    }

    private async Task AssertTwoHundredUploadsFitAsync(int connectionLimit)
    {
        await using var cluster = await RouterCluster.StartAsync(postgres, redis, """
            { "storages": [ { "id": "small", "api": "local", "root": "{files}", "read": "stream", "capacity": 40000 } ] }
            """, instances: 3, connectionLimit: connectionLimit);
        var body = TestFiles.Png(1_000);

        var statuses = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => cluster.Clients[i % 3].PostAsync("/api/v1/objects", TestFiles.Raw(body, "image/png"))));

        var created = statuses.Count(r => r.StatusCode == HttpStatusCode.Created);
        var unexpected = await Task.WhenAll(statuses.Where(r => r.StatusCode is not (HttpStatusCode.Created or HttpStatusCode.InsufficientStorage))
            .Select(async r => $"{(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}"));
        Assert.True(unexpected.Length == 0, $"with {connectionLimit} connections: {string.Join(Environment.NewLine, unexpected)}");
        Assert.InRange(created, 1, 40);
        var stored = RouterFactory.StoredFiles(cluster.Files).Sum(f => new FileInfo(Path.Combine(cluster.Files, f)).Length);
        Assert.True(stored <= 40_000, $"{stored} bytes stored on a 40,000-byte storage");
        Assert.Equal(created * 1_000L, stored);
        await using var connection = new Npgsql.NpgsqlConnection(cluster.Database);
        await connection.OpenAsync();
        await using var reservations = new Npgsql.NpgsqlCommand("SELECT count(*) FROM reservations", connection);
        Assert.Equal(0L, await reservations.ExecuteScalarAsync());
    }

    [Fact]
    public async Task OverwritesAndDeletesOfOneKeyFromBothAtOnce_EndConsistent_WithNothingOrphaned()
    {
        // Two storages on separate folders, so an overwrite may move the key from one to the other.
        await using var cluster = await RouterCluster.StartAsync(postgres, redis, """
            { "storages": [
              { "id": "one", "api": "local", "root": "{files}/one", "read": "stream" },
              { "id": "two", "api": "local", "root": "{files}/two", "read": "stream" } ] }
            """);
        var (a, b) = (cluster.Clients[0], cluster.Clients[1]);

        for (var round = 0; round < 20; round++)
        {
            var body = TestFiles.Png(1_000 + round);
            await Task.WhenAll(
                a.PutAsync("/api/v1/objects/race/key.png?overwrite=true", TestFiles.Raw(body, "image/png")),
                b.PutAsync("/api/v1/objects/race/key.png?overwrite=true", TestFiles.Raw(TestFiles.Png(2_000 + round), "image/png")),
                b.DeleteAsync("/api/v1/objects/race/key.png"),
                a.DeleteAsync("/api/v1/objects/race/key.png"));

            // Whatever won, both instances agree within the documented second, and once the janitor has run (every
            // second here, after a 2 s grace) the files on disk are exactly what the catalog names.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
            while (true)
            {
                var onA = await a.GetAsync("/race/key.png");
                var onB = await b.GetAsync("/race/key.png");
                var files = Directory.EnumerateFiles(cluster.Files, "key*.png", SearchOption.AllDirectories).ToList();
                var bodies = (await onA.Content.ReadAsByteArrayAsync(), await onB.Content.ReadAsByteArrayAsync());
                var settled = onA.StatusCode == onB.StatusCode && onA.StatusCode switch
                {
                    HttpStatusCode.OK => bodies.Item1.AsSpan().SequenceEqual(bodies.Item2) && files.Count == 1,
                    HttpStatusCode.NotFound => files.Count == 0,
                    _ => false,
                };
                if (settled)
                {
                    break;
                }

                Assert.True(DateTime.UtcNow < deadline, $"round {round}: A {onA.StatusCode}, B {onB.StatusCode}, files: {string.Join(", ", files)}");
                await Task.Delay(100);
            }
        }
    }

    [Fact]
    public async Task WithRedisKilled_ReadsGoOn_ReadyzSaysDegraded_AndAfterItsReturnInvalidationWorksAgain()
    {
        await using var cluster = await RouterCluster.StartAsync(postgres, redis, OneLocalStorage);
        var (a, b) = (cluster.Clients[0], cluster.Clients[1]);
        await a.PutAsync("/api/v1/objects/redis/kept.png", TestFiles.Raw(TestFiles.Png(), "image/png"));
        Assert.Equal(HttpStatusCode.OK, (await b.GetAsync("/redis/kept.png")).StatusCode);

        await redis.KillAsync();
        try
        {
            Assert.Equal(HttpStatusCode.OK, (await b.GetAsync("/redis/kept.png")).StatusCode);
            await a.PutAsync("/api/v1/objects/redis/during.png", TestFiles.Raw(TestFiles.Png(), "image/png"));
            Assert.Equal(HttpStatusCode.OK, (await b.GetAsync("/redis/during.png")).StatusCode);
            await WaitForRedisStatusAsync(b, "Degraded");
        }
        finally
        {
            await redis.StartAsync();
        }

        await WaitForRedisStatusAsync(a, "Healthy");
        await WaitForRedisStatusAsync(b, "Healthy");
        Assert.Equal(HttpStatusCode.OK, (await b.GetAsync("/redis/kept.png")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await a.DeleteAsync("/api/v1/objects/redis/kept.png")).StatusCode);
        Assert.True(await TimeUntil404Async(b, "/redis/kept.png", TimeSpan.FromSeconds(5)) < TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task WithRedisHung_DeletesAnswerAtOnce_ReadyzSaysDegraded_AndAfterItResumesEveryInstanceAgrees()
    {
        await using var cluster = await RouterCluster.StartAsync(postgres, redis, OneLocalStorage);
        var (a, b) = (cluster.Clients[0], cluster.Clients[1]);
        var keys = Enumerable.Range(0, 5).Select(i => $"hung/{i}.png").ToList();
        foreach (var key in keys)
        {
            Assert.Equal(HttpStatusCode.Created, (await a.PutAsync("/api/v1/objects/" + key, TestFiles.Raw(TestFiles.Png(), "image/png"))).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await b.GetAsync("/" + key)).StatusCode);
        }

        redis.Pause();
        try
        {
            // Deletes are committed in PostgreSQL; a hung Redis must neither fail nor hold them up.
            foreach (var key in keys)
            {
                var clock = Stopwatch.StartNew();
                using var deleted = await a.DeleteAsync("/api/v1/objects/" + key);
                Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"a delete took {clock.Elapsed.TotalSeconds:0.0} s with Redis hung");
            }

            // Within the heartbeat's timeout, B notices it may be missing changes.
            await WaitForRedisStatusAsync(b, "Degraded");
            await Task.Delay(TimeSpan.FromSeconds(3));
        }
        finally
        {
            redis.Resume();
        }

        await WaitForRedisStatusAsync(b, "Healthy");
        foreach (var key in keys)
        {
            Assert.True(await TimeUntil404Async(b, "/" + key, TimeSpan.FromSeconds(3)) < TimeSpan.FromSeconds(3), $"B still serves {key} 3 s after Redis resumed");
            Assert.Equal(HttpStatusCode.NotFound, (await a.GetAsync("/" + key)).StatusCode);
        }
    }

    [Fact]
    public async Task WithRedisKilled_UploadsAndDeletesAnswerAtOnce()
    {
        await using var cluster = await RouterCluster.StartAsync(postgres, redis, OneLocalStorage);
        var a = cluster.Clients[0];
        await redis.KillAsync();
        try
        {
            for (var i = 0; i < 5; i++)
            {
                var clock = Stopwatch.StartNew();
                Assert.Equal(HttpStatusCode.Created, (await a.PutAsync($"/api/v1/objects/dead/{i}.png", TestFiles.Raw(TestFiles.Png(), "image/png"))).StatusCode);
                Assert.Equal(HttpStatusCode.NoContent, (await a.DeleteAsync($"/api/v1/objects/dead/{i}.png")).StatusCode);
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"an upload and a delete took {clock.Elapsed.TotalSeconds:0.0} s with Redis dead");
            }
        }
        finally
        {
            await redis.StartAsync();
        }
    }

    [Fact]
    public async Task WithPostgresKilled_UploadsAre503ProblemsLeavingNothing_AndCachedReadsGoOn()
    {
        await using var cluster = await RouterCluster.StartAsync(postgres, redis, OneLocalStorage, settings: RouterCluster.LongCache);
        var (a, b) = (cluster.Clients[0], cluster.Clients[1]);
        await a.PutAsync("/api/v1/objects/pg/kept.png", TestFiles.Raw(TestFiles.Png(), "image/png"));
        Assert.Equal(HttpStatusCode.OK, (await b.GetAsync("/pg/kept.png")).StatusCode);
        var filesBefore = RouterFactory.StoredFiles(cluster.Files);

        await postgres.StopAsync();
        try
        {
            var upload = await a.PostAsync("/api/v1/objects", TestFiles.Raw(TestFiles.Png(), "image/png"));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, upload.StatusCode);
            Assert.Equal("application/problem+json", upload.Content.Headers.ContentType?.MediaType);
            using var problem = JsonDocument.Parse(await upload.Content.ReadAsStringAsync());
            Assert.Equal("The object could not be recorded in the catalog; nothing was kept. Try again later.", problem.RootElement.GetProperty("detail").GetString());
            Assert.Equal(filesBefore, RouterFactory.StoredFiles(cluster.Files));
            Assert.Equal(HttpStatusCode.OK, (await b.GetAsync("/pg/kept.png")).StatusCode);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await b.GetAsync("/readyz")).StatusCode);
        }
        finally
        {
            await postgres.RestartAsync();
        }
    }

    [Fact]
    public async Task WithPostgresStoppedMidOverwrite_TheUploadIs503_ThePreviousVersionIsServedWhole_AndItsBytesAreRemovedLater()
    {
        // Uploads may take 10 s here, so what the failed one wrote is the janitor's 30 s after it began.
        await using var cluster = await RouterCluster.StartAsync(postgres, redis, OneLocalStorage, instances: 1, new Dictionary<string, string>(RouterCluster.LongCache) { ["EdgeRouter__Uploads__MaxUploadDuration"] = "00:00:10" });
        var router = cluster.Clients[0];
        var first = TestFiles.Png(50_000);
        Assert.Equal(HttpStatusCode.Created, (await router.PutAsync("/api/v1/objects/pg/over.png", TestFiles.Raw(first, "image/png"))).StatusCode);
        Assert.Equal(first, await router.GetByteArrayAsync("/pg/over.png"));

        var gate = new TaskCompletionSource();
        var upload = router.PutAsync("/api/v1/objects/pg/over.png?overwrite=true", new GatedContent(TestFiles.Png(300_000), 64 * 1024, gate.Task));
        await GatedContent.WaitForStagingFileAsync(cluster.Files, upload);
        await postgres.StopAsync();
        try
        {
            gate.SetResult();
            using var response = await upload.WaitAsync(TimeSpan.FromSeconds(60));

            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal("The object could not be recorded in the catalog; nothing was kept. Try again later.", problem.RootElement.GetProperty("detail").GetString());
            Assert.Equal(first, await router.GetByteArrayAsync("/pg/over.png"));
        }
        finally
        {
            await postgres.RestartAsync();
        }

        // The catalog is back: the previous version is still the one served, and once the failed upload's intent has
        // expired the janitor removes what it wrote, leaving only the previous version's file.
        using var read = await router.GetAsync("/pg/over.png");
        Assert.Equal(first, await read.Content.ReadAsByteArrayAsync());
        Assert.Equal($"\"{TestFiles.Sha256(first)}\"", read.Headers.ETag?.Tag);
        var deadline = Stopwatch.StartNew();
        while (RouterFactory.StoredFiles(cluster.Files) is var files && !files.SequenceEqual([Path.Combine("pg", "over.png")]))
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), "left behind: " + string.Join(", ", files));
            await Task.Delay(200);
        }
    }

    private static async Task<TimeSpan> TimeUntil404Async(HttpClient client, string path, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < limit)
        {
            if ((await client.GetAsync(path)).StatusCode == HttpStatusCode.NotFound)
            {
                return clock.Elapsed;
            }

            await Task.Delay(20);
        }

        return clock.Elapsed;
    }

    private static async Task WaitForRedisStatusAsync(HttpClient client, string status)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        string? seen = null;
        while (DateTime.UtcNow < deadline)
        {
            using var ready = JsonDocument.Parse(await client.GetStringAsync("/readyz"));
            seen = ready.RootElement.GetProperty("checks").GetProperty("redis").GetProperty("status").GetString();
            if (seen == status)
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail($"/readyz redis status stayed {seen}, expected {status}");
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using EdgeRouter.Tests.Caching.Redis;
using EdgeRouter.Tests.Catalog.Postgres;
using EdgeRouter.Tests.TestUtilities;
using Xunit.Abstractions;

namespace EdgeRouter.Tests.Cluster;

/// <summary>
/// A recorded history of a minute of mixed traffic on three instances, with Redis paused and a router killed on the
/// way, checked as a register per key (<see cref="RegisterHistory"/>): no read returns a version older than one
/// acknowledged before the read began, beyond the invalidation window; no body differs from its ETag.
/// </summary>
[Collection(SharedCatalogGroup.Name)]
public sealed class HistoryTests(PostgresFixture postgres, RedisFixture redis, ITestOutputHelper output)
{
    private static readonly TimeSpan Run = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan PauseAt = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan PauseFor = TimeSpan.FromSeconds(8);
    private static readonly TimeSpan KillAt = TimeSpan.FromSeconds(35);

    // The documented window is 1 s. While Redis hangs, an instance learns it within the heartbeat's 3 s (checked each
    // second) and then keeps lookups 1 s: a change acknowledged meanwhile may be unseen for up to 5 s.
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan HungRedisWindow = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task AMinuteOfMixedTraffic_WithRedisPausedAndARouterKilled_HasNoStaleRead_AndNoBodyThatIsNotItsETag()
    {
        await using var cluster = await RouterCluster.StartAsync(postgres, redis, """
            { "storages": [ { "id": "shared", "api": "local", "root": "{files}", "read": "stream" } ] }
            """, instances: 3, settings: new Dictionary<string, string> { ["EdgeRouter__Catalog__DeleteGrace"] = "00:01:00" });
        // Enough keys, and pauses between changes, that a key often stays unchanged for longer than the window: a stale
        // entry is only seen when no later change of the key happens to clear it.
        var keys = Enumerable.Range(0, 24).Select(i => $"history/k{i}.png").ToArray();
        var history = new ConcurrentQueue<RegisterOperation>();
        var wrongBodies = new ConcurrentQueue<string>();
        var failures = new ConcurrentDictionary<string, int>();
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource(Run);

        async Task WriteAsync(int instance, int seed)
        {
            var random = new Random(seed);
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(random.Next(150));
                var key = keys[random.Next(keys.Length)];
                var start = clock.Elapsed;
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                try
                {
                    if (random.Next(8) == 0)
                    {
                        using var deleted = await cluster.Clients[instance].DeleteAsync($"/api/v1/objects/{key}", timeout.Token);
                        history.Enqueue(deleted.StatusCode == HttpStatusCode.NotFound
                            ? new RegisterOperation(key, true, null, start, clock.Elapsed, true)
                            : new RegisterOperation(key, false, null, start, clock.Elapsed, deleted.StatusCode == HttpStatusCode.NoContent));
                        Count(deleted.StatusCode is HttpStatusCode.NoContent or HttpStatusCode.NotFound ? null : $"DELETE {(int)deleted.StatusCode}");
                    }
                    else
                    {
                        var body = TestFiles.Png(2_000 + random.Next(2_000));
                        var etag = $"\"{Convert.ToHexStringLower(SHA256.HashData(body))}\"";
                        using var put = await cluster.Clients[instance].PutAsync($"/api/v1/objects/{key}?overwrite=true", TestFiles.Raw(body, "image/png"), timeout.Token);
                        var acknowledged = put.StatusCode == HttpStatusCode.Created;
                        if (acknowledged)
                        {
                            Assert.Equal(etag, (await put.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("etag").GetString());
                        }

                        history.Enqueue(new RegisterOperation(key, false, etag, start, clock.Elapsed, acknowledged));
                        Count(acknowledged ? null : $"PUT {(int)put.StatusCode}");
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
                {
                    // No answer: the change may or may not have happened (recorded unacknowledged only for PUTs, whose version is known).
                    Count("write without an answer");
                    if (instance == 2 && clock.Elapsed > KillAt)
                    {
                        return;
                    }
                }
            }
        }

        async Task ReadAsync(int instance)
        {
            while (!stop.IsCancellationRequested)
            {
                var key = keys[Random.Shared.Next(keys.Length)];
                var start = clock.Elapsed;
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                try
                {
                    using var response = await cluster.Clients[instance].GetAsync("/" + key, timeout.Token);
                    var body = await response.Content.ReadAsByteArrayAsync(timeout.Token);
                    var end = clock.Elapsed;
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        var etag = response.Headers.ETag?.Tag;
                        if (etag != $"\"{Convert.ToHexStringLower(SHA256.HashData(body))}\"")
                        {
                            wrongBodies.Enqueue($"{key} on instance {instance} at {start.TotalMilliseconds:0} ms: {body.Length} bytes under {etag}");
                        }

                        history.Enqueue(new RegisterOperation(key, true, etag, start, end, true));
                    }
                    else if (response.StatusCode == HttpStatusCode.NotFound)
                    {
                        history.Enqueue(new RegisterOperation(key, true, null, start, end, true));
                    }
                    else
                    {
                        Count($"GET {(int)response.StatusCode}");
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
                {
                    Count("read without an answer");
                    if (instance == 2 && clock.Elapsed > KillAt)
                    {
                        return;
                    }
                }
            }
        }

        void Count(string? failure)
        {
            if (failure is not null)
            {
                failures.AddOrUpdate(failure, 1, (_, n) => n + 1);
            }
        }

        async Task FaultsAsync()
        {
            await Task.Delay(PauseAt);
            redis.Pause();
            try
            {
                await Task.Delay(PauseFor);
            }
            finally
            {
                redis.Resume();
            }

            await Task.Delay(KillAt - PauseAt - PauseFor);
            cluster.Kill(2);
        }

        await Task.WhenAll(
        [
            FaultsAsync(),
            .. Enumerable.Range(0, 3).Select(i => Task.Run(() => WriteAsync(i, 17 + i))),
            .. Enumerable.Range(0, 6).Select(i => Task.Run(() => ReadAsync(i % 3))),
        ]);

        var operations = history.ToList();
        var stale = RegisterHistory.StaleReads(operations, start => start >= PauseAt && start <= PauseAt + PauseFor + Window ? HungRedisWindow : Window);
        var reads = operations.Count(o => o.IsRead);
        output.WriteLine($"{operations.Count} operations: {reads} reads ({operations.Count(o => o.IsRead && o.Value is null)} of nothing), " +
            $"{operations.Count(o => !o.IsRead && o.Value is not null && o.Acknowledged)} acknowledged writes, {operations.Count(o => !o.IsRead && o.Value is null && o.Acknowledged)} acknowledged deletes, " +
            $"{operations.Count(o => !o.IsRead && !o.Acknowledged)} unanswered; reads during the Redis pause: {operations.Count(o => o.IsRead && o.Start >= PauseAt && o.Start <= PauseAt + PauseFor)}; " +
            $"stale reads: {stale.Count}; bodies not their ETag: {wrongBodies.Count}; other answers: {string.Join(", ", failures.Select(f => $"{f.Key} x {f.Value}"))}");
        Assert.Empty(wrongBodies);
        Assert.Empty(stale);
        Assert.True(reads > 1_000, $"only {reads} reads were recorded");
        Assert.True(operations.Count(o => !o.IsRead && o.Acknowledged) > 100, "too few changes were acknowledged");
        Assert.True(operations.Any(o => o.IsRead && o.Start >= PauseAt && o.Start <= PauseAt + PauseFor), "no read ran while Redis was paused");
    }
}

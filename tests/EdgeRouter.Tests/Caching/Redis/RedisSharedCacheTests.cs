using EdgeRouter.Caching.Redis;
using EdgeRouter.Catalog;
using EdgeRouter.Configuration;
using EdgeRouter.Health;
using EdgeRouter.Observability;
using EdgeRouter.Tests.Catalog.Postgres;
using EdgeRouter.Tests.TestUtilities;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EdgeRouter.Tests.Caching.Redis;

/// <summary>
/// Two "instances" in one process (each its own cache, Redis connection and health tracker) on a real Redis and one
/// counting database: what one instance tells the other, and what a miss may keep.
/// </summary>
[Collection(SharedCatalogGroup.Name)]
public sealed class RedisSharedCacheTests : IAsyncLifetime
{
    private readonly CountingCatalog _database = new();
    private readonly GatedCatalog _gate;
    private Instance? _a;
    private Instance? _b;

    public RedisSharedCacheTests(RedisFixture redis)
    {
        this.redis = redis;
        _gate = new GatedCatalog(_database);
    }

    private readonly RedisFixture redis;

    public async Task InitializeAsync()
    {
        _a = Instance.Create(redis, _database);
        _b = Instance.Create(redis, _gate);
        await Task.WhenAll(_a.ConnectedAsync(), _b.ConnectedAsync());
    }

    public async Task DisposeAsync()
    {
        await _a!.DisposeAsync();
        await _b!.DisposeAsync();
    }

    [Fact]
    public async Task ALookupOnB_ThatReadAVersionJustBeforeAsReplacementCommitted_NeverKeepsIt()
    {
        var key = $"race/{Guid.NewGuid():N}.png";
        var old = new ObjectRecord(key, "s", 10, "image/png", "old", DateTimeOffset.UnixEpoch);
        var replacement = old with { Sha256 = "new", Location = key + "~2" };
        _database.Records[key] = old;

        // B reads the old version, and is held before it can cache it, while A commits the replacement and B hears of it.
        var held = _gate.HoldNext();
        var lookup = _b!.Catalog.FindAsync(key, CancellationToken.None).AsTask();
        await held.Entered.WaitAsync(TimeSpan.FromSeconds(10));
        var heard = _b.HeardAsync(key);
        await _a!.Catalog.AddAsync(replacement, overwrite: true, CancellationToken.None);
        await heard.WaitAsync(TimeSpan.FromSeconds(10));
        held.Release();

        Assert.Equal(old, await lookup);
        Assert.Equal(replacement, await _b.Catalog.FindAsync(key, CancellationToken.None));
    }

    [Fact]
    public async Task AStormOfOneUnknownKey_BarelyReachesTheDatabase_AndNeverRedis()
    {
        var key = $"unknown/{Guid.NewGuid():N}.png";
        var before = _database.Finds;

        // Concurrent misses share one lookup; one more may slip in at the instant between the shared answer and
        // its memory entry. Either way, 200 requests are not 200 queries, on either instance.
        await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => _a!.Catalog.FindAsync(key, CancellationToken.None).AsTask()));
        var onA = _database.Finds - before;
        Assert.InRange(onA, 1, 2);

        await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => _b!.Catalog.FindAsync(key, CancellationToken.None).AsTask()));
        Assert.InRange(_database.Finds - before - onA, 1, 2);
    }

    [Fact]
    public async Task ADeleteOnA_EvictsBsMemory_ThroughTheChannel()
    {
        var record = new ObjectRecord($"evict/{Guid.NewGuid():N}.png", "s", 10, "image/png", "ab", DateTimeOffset.UnixEpoch);
        await _a!.Catalog.AddAsync(record, false, CancellationToken.None);
        Assert.NotNull(await _b!.Catalog.FindAsync(record.Key, CancellationToken.None));

        Assert.True(await _a.Catalog.RemoveAsync(record, immediate: false, CancellationToken.None));

        var deadline = DateTime.UtcNow.AddSeconds(1);
        while (await _b.Catalog.FindAsync(record.Key, CancellationToken.None) is not null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        Assert.Null(await _b.Catalog.FindAsync(record.Key, CancellationToken.None));
    }

    [Fact]
    public async Task AStorageThatFailsOnA_IsTakenOutOnB()
    {
        var storage = "failing-" + Guid.NewGuid().ToString("N")[..6];

        _a!.Health.ReportFailure(storage, "PUT answered 503");

        var deadline = DateTime.UtcNow.AddSeconds(2);
        while (_b!.Health.IsHealthy(storage) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        Assert.False(_b.Health.IsHealthy(storage));
        Assert.Equal("reported by another instance: PUT answered 503", _b.Health.GetStatus(storage).LastError);
    }

    private sealed class Instance : IAsyncDisposable
    {
        private readonly RedisClusterEvents _events;

        private Instance(RedisClusterEvents events, CachingObjectCatalog catalog, StorageHealthTracker health)
        {
            _events = events;
            Catalog = catalog;
            Health = health;
        }

        public const string Channel = "edgerouter-tests:changes";

        public CachingObjectCatalog Catalog { get; }

        public StorageHealthTracker Health { get; }

        /// <summary>Completes once this instance has heard of a change to <paramref name="key"/> (after its cache did).</summary>
        public Task HeardAsync(string key)
        {
            var heard = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _events.KeyChanged += changed =>
            {
                if (changed == key)
                {
                    heard.TrySetResult();
                }
            };
            return heard.Task;
        }

        public static Instance Create(RedisFixture redis, IObjectCatalog database)
        {
            var options = Options.Create(new EdgeRouterOptions { Catalog = { Redis = redis.Configuration, RedisChannel = Channel } });
            var events = new RedisClusterEvents(options, NullLogger<RedisClusterEvents>.Instance, new EdgeRouter.Observability.EdgeRouterMetrics(new TestMeterFactory()), TimeProvider.System);
            var catalog = new CachingObjectCatalog(database, options, TimeProvider.System, new EdgeRouterMetrics(new TestMeterFactory()), events);
            var health = new StorageHealthTracker(TimeProvider.System, options, NullLogger<StorageHealthTracker>.Instance, events);
            return new Instance(events, catalog, health);
        }

        /// <summary>Waits until both instances' subscriptions are live: a probe on the channel reaches two subscribers.</summary>
        public async Task ConnectedAsync()
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            long subscribers = 0;
            while (DateTime.UtcNow < deadline)
            {
                if (_events.IsConnected && (subscribers = await _events.Multiplexer.GetSubscriber().PublishAsync(StackExchange.Redis.RedisChannel.Literal(Channel), "probe")) >= 2)
                {
                    return;
                }

                await Task.Delay(20);
            }

            Assert.Fail($"The two instances' channel was not up within 10 s: connected {_events.IsConnected}, {subscribers} subscriber(s) heard the last probe.");
        }

        public async ValueTask DisposeAsync()
        {
            Catalog.Dispose();
            await _events.DisposeAsync();
        }
    }
}

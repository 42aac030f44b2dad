using EdgeRouter.Catalog;
using EdgeRouter.Configuration;
using EdgeRouter.Observability;
using EdgeRouter.Tests.TestUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace EdgeRouter.Tests.Catalog;

public sealed class CachingObjectCatalogTests
{
    private readonly CountingCatalog _inner = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
    private readonly CachingObjectCatalog _cache;

    public CachingObjectCatalogTests()
    {
        var options = Options.Create(new EdgeRouterOptions { Catalog = { CacheTtl = TimeSpan.FromMinutes(10), NegativeCacheTtl = TimeSpan.FromSeconds(5) } });
        _cache = new CachingObjectCatalog(_inner, options, _time, new EdgeRouterMetrics(new TestMeterFactory()));
    }

    [Fact]
    public async Task FindCurrent_ReadsTheDatabase_PastAStaleEntry_AndRefreshesIt()
    {
        _inner.Records["moved.png"] = new ObjectRecord("moved.png", "old", 1, "image/png", "ab", DateTimeOffset.UnixEpoch);
        Assert.Equal("old", (await _cache.FindAsync("moved.png", CancellationToken.None))!.StorageId);

        // Changed behind the cache's back, as another instance's write is until its notice arrives.
        _inner.Records["moved.png"] = new ObjectRecord("moved.png", "new", 1, "image/png", "cd", DateTimeOffset.UnixEpoch);

        Assert.Equal("old", (await _cache.FindAsync("moved.png", CancellationToken.None))!.StorageId);
        Assert.Equal("new", (await _cache.FindCurrentAsync("moved.png", CancellationToken.None))!.StorageId);
        Assert.Equal("new", (await _cache.FindAsync("moved.png", CancellationToken.None))!.StorageId);
    }

    [Fact]
    public async Task AHotKey_IsReadFromTheDatabaseOnce()
    {
        _inner.Records["a.png"] = Record("a.png");

        for (var i = 0; i < 100; i++)
        {
            Assert.NotNull(await _cache.FindAsync("a.png", CancellationToken.None));
        }

        Assert.Equal(1, _inner.Finds);
    }

    [Fact]
    public async Task AnUnknownKey_IsRememberedBriefly_ThenAskedAgain()
    {
        for (var i = 0; i < 50; i++)
        {
            Assert.Null(await _cache.FindAsync("storm.png", CancellationToken.None));
        }

        Assert.Equal(1, _inner.Finds);
        _time.Advance(TimeSpan.FromSeconds(6));
        await _cache.FindAsync("storm.png", CancellationToken.None);
        Assert.Equal(2, _inner.Finds);
    }

    [Fact]
    public async Task AStormOfUnknownKeys_DoesNotPushTheHotKeysOut()
    {
        var options = Options.Create(new EdgeRouterOptions { Catalog = { CacheEntryLimit = 100 } });
        using var cache = new CachingObjectCatalog(_inner, options, _time, new EdgeRouterMetrics(new TestMeterFactory()));
        for (var i = 0; i < 50; i++)
        {
            _inner.Records[$"hot/{i}.png"] = Record($"hot/{i}.png");
            await cache.FindAsync($"hot/{i}.png", CancellationToken.None);
        }

        for (var i = 0; i < 5_000; i++)
        {
            Assert.Null(await cache.FindAsync($"storm/{i}.png", CancellationToken.None));
        }

        // Let MemoryCache's background compactions finish, then every hot key must still be answered from memory.
        await Task.Delay(200);
        var before = _inner.Finds;
        for (var i = 0; i < 50; i++)
        {
            Assert.NotNull(await cache.FindAsync($"hot/{i}.png", CancellationToken.None));
        }

        Assert.Equal(before, _inner.Finds);
    }

    [Fact]
    public async Task WritesThroughTheCache_AreSeenAtOnce()
    {
        Assert.Null(await _cache.FindAsync("new.png", CancellationToken.None));

        await _cache.AddAsync(Record("new.png"), false, CancellationToken.None);
        Assert.NotNull(await _cache.FindAsync("new.png", CancellationToken.None));

        await _cache.RemoveAsync(Record("new.png"), immediate: false, CancellationToken.None);
        Assert.Null(await _cache.FindAsync("new.png", CancellationToken.None));
    }

    [Fact]
    public async Task ALookupThatReadAVersionJustBeforeThisInstanceReplacedIt_NeverKeepsIt()
    {
        var gate = new GatedCatalog(_inner);
        var options = Options.Create(new EdgeRouterOptions());
        using var cache = new CachingObjectCatalog(gate, options, _time, new EdgeRouterMetrics(new TestMeterFactory()));
        var old = Record("race.png");
        var replacement = old with { Sha256 = "new", Location = "race~2.png" };
        _inner.Records["race.png"] = old;

        // The write has begun (its entry is already evicted) but not committed when the lookup starts and reads the
        // old version; the commit then lands before the lookup can cache what it read.
        var committing = gate.HoldNextCommit();
        var write = cache.AddAsync(replacement, overwrite: true, CancellationToken.None);
        await committing.Entered.WaitAsync(TimeSpan.FromSeconds(10));
        var held = gate.HoldNext();
        var lookup = cache.FindAsync("race.png", CancellationToken.None).AsTask();
        await held.Entered.WaitAsync(TimeSpan.FromSeconds(10));
        committing.Release();
        await write;
        held.Release();

        Assert.Equal(old, await lookup);
        Assert.Equal(replacement, await cache.FindAsync("race.png", CancellationToken.None));
    }

    [Fact]
    public async Task AChangeHeardFromAnotherInstanceDuringThisInstancesCommit_WinsOverTheCommittedRecord()
    {
        var channel = new Channel();
        var gate = new GatedCatalog(_inner);
        using var cache = new CachingObjectCatalog(gate, Options.Create(new EdgeRouterOptions()), _time, new EdgeRouterMetrics(new TestMeterFactory()), channel);
        var mine = Record("race.png");

        // This instance's commit lands; before it returns, another instance deletes the key and says so. The record
        // this instance committed must not be kept: its file goes once the delete's grace is over.
        var committing = gate.HoldNextCommit();
        var write = cache.AddAsync(mine, overwrite: true, CancellationToken.None);
        await committing.Entered.WaitAsync(TimeSpan.FromSeconds(10));
        channel.RaiseKeyChanged("race.png");
        committing.Release();
        await write;
        _inner.Records.TryRemove("race.png", out _);

        Assert.Null(await cache.FindAsync("race.png", CancellationToken.None));
    }

    [Fact]
    public async Task WhileTheChangeChannelIsDown_ALookupIsKeptForOneSecondOnly_AndItsReturnForgetsEverything()
    {
        var channel = new Channel();
        using var cache = new CachingObjectCatalog(_inner, Options.Create(new EdgeRouterOptions { Catalog = { CacheTtl = TimeSpan.FromMinutes(10) } }), _time, new EdgeRouterMetrics(new TestMeterFactory()), channel);
        _inner.Records["a.png"] = Record("a.png");
        _inner.Records["b.png"] = Record("b.png");
        await cache.FindAsync("b.png", CancellationToken.None);

        channel.Connected = false;
        await cache.FindAsync("a.png", CancellationToken.None);
        _inner.Records["a.png"] = Record("a.png") with { StorageId = "moved" };

        // A change announced while the channel is down is missed; within 1 s the old answer may still be given.
        _time.Advance(TimeSpan.FromMilliseconds(900));
        Assert.Equal("s", (await cache.FindAsync("a.png", CancellationToken.None))!.StorageId);
        _time.Advance(TimeSpan.FromMilliseconds(200));
        Assert.Equal("moved", (await cache.FindAsync("a.png", CancellationToken.None))!.StorageId);

        // Entries cached while connected are forgotten when the channel comes back.
        _inner.Records["b.png"] = Record("b.png") with { StorageId = "moved" };
        channel.Connected = true;
        Assert.Equal("moved", (await cache.FindAsync("b.png", CancellationToken.None))!.StorageId);
    }

    [Fact]
    public async Task AnotherInstancesForgetEverything_DropsEveryEntry()
    {
        var channel = new Channel();
        using var cache = new CachingObjectCatalog(_inner, Options.Create(new EdgeRouterOptions()), _time, new EdgeRouterMetrics(new TestMeterFactory()), channel);
        _inner.Records["a.png"] = Record("a.png");
        await cache.FindAsync("a.png", CancellationToken.None);
        _inner.Records["a.png"] = Record("a.png") with { StorageId = "moved" };

        channel.RaiseAllChanged();

        Assert.Equal("moved", (await cache.FindAsync("a.png", CancellationToken.None))!.StorageId);
    }

    private static ObjectRecord Record(string key) => new(key, "s", 1, "image/png", "ab", DateTimeOffset.UnixEpoch);

    /// <summary>A change channel that goes down and comes back when told.</summary>
    private sealed class Channel : EdgeRouter.Caching.IClusterEvents
    {
        private bool _connected = true;

        public event Action<string>? KeyChanged;

        public event Action<string>? KeyWriting
        {
            add { }
            remove { }
        }

        public event Action<string, string>? StorageFailed
        {
            add { }
            remove { }
        }

        public event Action? AllChanged;

        public event Action<bool>? ConnectionChanged;

        public bool IsConnected => _connected;

        public bool Connected
        {
            set
            {
                _connected = value;
                ConnectionChanged?.Invoke(value);
            }
        }

        public void RaiseAllChanged() => AllChanged?.Invoke();

        public void RaiseKeyChanged(string key) => KeyChanged?.Invoke(key);

        public ValueTask PublishKeyChangedAsync(string key) => ValueTask.CompletedTask;

        public ValueTask PublishKeyWritingAsync(string key) => ValueTask.CompletedTask;

        public ValueTask PublishStorageFailedAsync(string storageId, string reason) => ValueTask.CompletedTask;
    }
}

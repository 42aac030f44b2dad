using EdgeRouter.Configuration;
using EdgeRouter.Observability;
using EdgeRouter.Caching;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace EdgeRouter.Catalog;

/// <summary>
/// Keeps catalog lookups in memory so a hot key costs no database round-trip and a 404 storm does not reach the
/// database. Writes through this instance update or evict the entry at once; with several instances, a write
/// also evicts the shared second level (Redis, through <see cref="HybridCache"/>) and tells every other instance
/// to drop its entry (<see cref="IClusterEvents"/>).
/// </summary>
/// <remarks>
/// The first level is a plain <see cref="MemoryCache"/>: a hit is one dictionary lookup with no allocation. With
/// several instances a miss goes through <see cref="HybridCache"/> (its own memory level off): it asks Redis before
/// the database, and concurrent misses of one key make one database call. One instance asks its database directly.
/// Unknown keys live apart (<see cref="UnknownKeys"/>) and fewer: a storm of distinct unknown keys can neither push the
/// hot keys out nor make a cache sort itself to compact.
/// </remarks>
internal sealed class CachingObjectCatalog : IObjectCatalog, IDisposable
{
    private const string KeyPrefix = "edgerouter:catalog:";

    private readonly IObjectCatalog _inner;
    private readonly MemoryCache _cache;
    private readonly UnknownKeys _unknown;
    private readonly MemoryCacheEntryOptions _found;
    private readonly MemoryCacheEntryOptions _degraded;
    private readonly TimeSpan _notFoundTtl;
    private readonly TimeSpan _degradedTtl;
    private readonly HybridCacheEntryOptions _shared;
    private readonly HybridCacheEntryOptions _sharedLookup;
    private readonly HybridCache _hybrid;
    private readonly IClusterEvents? _events;
    private readonly TimeProvider _timeProvider;
    private readonly EdgeRouterMetrics _metrics;

    // Bumped by every write; a miss that raced a write does not put what it read into the cache.
    private long _generation;

    public CachingObjectCatalog(IObjectCatalog inner, IOptions<EdgeRouterOptions> options, TimeProvider timeProvider, EdgeRouterMetrics metrics, HybridCache hybrid, IClusterEvents? events = null)
    {
        _inner = inner;
        _metrics = metrics;
        _hybrid = hybrid;
        _events = events;
        _timeProvider = timeProvider;
        var catalog = options.Value.Catalog;
        var clock = new TimeProviderClock(timeProvider);
        _cache = new MemoryCache(new MemoryCacheOptions { SizeLimit = catalog.CacheEntryLimit, Clock = clock });
        // At most 2,000: in a storm of distinct unknown keys, a larger memory keeps each key long enough to outlive the
        // youngest garbage collections, and the collections of older objects raised the storm's p99 from 1.5-1.8 ms to
        // 5-8 ms at 20,000. A key asked again and again is still answered from memory nearly every time.
        _unknown = new UnknownKeys(Math.Clamp(catalog.CacheEntryLimit / 10, 100, 2_000), timeProvider);
        _found = new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = catalog.CacheTtl };
        _notFoundTtl = catalog.NegativeCacheTtl;
        _degradedTtl = catalog.DegradedCacheTtl;
        _degraded = new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = catalog.DegradedCacheTtl };
        _shared = new HybridCacheEntryOptions { Expiration = catalog.CacheTtl, Flags = HybridCacheEntryFlags.DisableLocalCache };
        _sharedLookup = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableLocalCache | HybridCacheEntryFlags.DisableDistributedCacheWrite };
        if (events is not null)
        {
            // Redis too: this instance may have written the old value there just before the change.
            events.KeyChanged += key =>
            {
                Forget(key);
                _ = hybrid.RemoveAsync(KeyPrefix + key).AsTask();
            };

            // While the channel is down this instance may miss changes, and on its return it has: start afresh.
            events.ConnectionChanged += _ => ForgetAll();
        }
    }

    /// <summary>While the instances cannot tell each other about changes, nothing is kept for long, nor asked of Redis.</summary>
    private bool Degraded => _events is { IsConnected: false };

    public ValueTask<ObjectRecord?> FindAsync(string key, CancellationToken cancellationToken)
    {
        if (_cache.TryGetValue(key, out var cached))
        {
            _metrics.CatalogCacheHit();
            return ValueTask.FromResult(cached as ObjectRecord);
        }

        if (_unknown.Contains(key))
        {
            _metrics.CatalogCacheHit();
            return ValueTask.FromResult<ObjectRecord?>(null);
        }

        _metrics.CatalogCacheMiss();
        return LoadAsync(key, cancellationToken);
    }

    public ValueTask<ObjectRecord?> FindCurrentAsync(string key, CancellationToken cancellationToken)
    {
        Forget(key);
        return _inner.FindAsync(key, cancellationToken);
    }

    public async Task<CatalogWriteResult> AddAsync(ObjectRecord record, bool overwrite, CancellationToken cancellationToken)
    {
        Forget(record.Key);
        var result = await _inner.AddAsync(record, overwrite, cancellationToken);

        // Again after the commit: a lookup that began before it may have read the old record; it must not cache it.
        Forget(record.Key);
        if (result.Outcome is CatalogWriteOutcome.Added or CatalogWriteOutcome.Replaced)
        {
            _cache.Set(record.Key, record, Degraded ? _degraded : _found);
            await AnnounceAsync(record.Key);
        }

        return result;
    }

    public async Task<bool> RemoveAsync(ObjectRecord expected, bool immediate, CancellationToken cancellationToken)
    {
        Forget(expected.Key);
        var removed = await _inner.RemoveAsync(expected, immediate, cancellationToken);
        Forget(expected.Key);
        if (removed)
        {
            await AnnounceAsync(expected.Key);
        }

        return removed;
    }

    public Task<bool> TryBeginUploadAsync(UploadIntent intent, CancellationToken cancellationToken) => _inner.TryBeginUploadAsync(intent, cancellationToken);

    public Task<bool> HasIntentAsync(UploadIntent intent, CancellationToken cancellationToken) => _inner.HasIntentAsync(intent, cancellationToken);

    public Task EndUploadAsync(UploadIntent intent, CancellationToken cancellationToken) => _inner.EndUploadAsync(intent, cancellationToken);

    public Task<IReadOnlyList<UploadIntent>> GetExpiredIntentsAsync(DateTimeOffset expiredBefore, int limit, CancellationToken cancellationToken)
        => _inner.GetExpiredIntentsAsync(expiredBefore, limit, cancellationToken);

    public ValueTask<IAsyncDisposable?> TryLockMaintenanceAsync(CancellationToken cancellationToken) => _inner.TryLockMaintenanceAsync(cancellationToken);

    public Task<IReadOnlyList<PendingDelete>> GetPendingDeletesAsync(int limit, CancellationToken cancellationToken)
        => _inner.GetPendingDeletesAsync(limit, cancellationToken);

    public Task CompletePendingDeleteAsync(PendingDelete pending, CancellationToken cancellationToken)
        => _inner.CompletePendingDeleteAsync(pending, cancellationToken);

    public Task<IReadOnlyDictionary<string, StorageUsage>> GetUsageAsync(CancellationToken cancellationToken)
        => _inner.GetUsageAsync(cancellationToken);

    public Task<IReadOnlyList<ObjectRecord>> ListAsync(string prefix, string? after, int limit, CancellationToken cancellationToken)
        => _inner.ListAsync(prefix, after, limit, cancellationToken);

    public Task PingAsync(CancellationToken cancellationToken) => _inner.PingAsync(cancellationToken);

    /// <summary>Forgets a key, for changes made elsewhere (another instance, an operator) and before every write.</summary>
    public void Forget(string key)
    {
        Interlocked.Increment(ref _generation);
        _cache.Remove(key);
        _unknown.Remove(key);
    }

    /// <summary>Forgets every key: the instances could not tell each other about changes for a while.</summary>
    public void ForgetAll()
    {
        Interlocked.Increment(ref _generation);
        _cache.Clear();
        _unknown.Clear();
    }

    public void Dispose()
    {
        _cache.Dispose();
    }

    private async ValueTask<ObjectRecord?> LoadAsync(string key, CancellationToken cancellationToken)
    {
        var generation = Interlocked.Read(ref _generation);
        var degraded = Degraded;

        // One instance asks its database straight away: a local lookup costs less than the shared level's bookkeeping.
        var shared = _events is not null && !degraded;
        var load = shared ? new Load(_inner, key) : null;
        var entry = load is not null
            ? await _hybrid.GetOrCreateAsync(
                KeyPrefix + key,
                load,
                static async (load, token) =>
                {
                    var found = await load.Inner.FindAsync(load.Key, token);
                    load.FromDatabase = true;
                    return new CatalogEntry(found);
                },
                _sharedLookup,
                cancellationToken: cancellationToken)
            : new CatalogEntry(await _inner.FindAsync(key, cancellationToken));
        var record = entry.Record;
        if (Interlocked.Read(ref _generation) == generation)
        {
            if (record is null)
            {
                _unknown.Add(key, degraded ? _degradedTtl : _notFoundTtl);
            }
            else
            {
                _cache.Set(key, record, degraded ? _degraded : _found);
            }

            // Only the caller whose lookup read the database shares the answer, awaited (not in the background),
            // and only if no change to the key arrived meanwhile. An unknown key is not shared: in a storm of distinct
            // unknown keys, the usual kind, each write would be wasted (it cost a fifth of such a 404's CPU), and
            // one unknown key asked everywhere costs each instance one query per NegativeCacheTtl.
            if (load is { FromDatabase: true } && record is not null)
            {
                await _hybrid.SetAsync(KeyPrefix + key, entry, _shared, cancellationToken: cancellationToken);
            }
        }

        return record;
    }

    /// <summary>After a committed change: evict the shared level and tell the other instances.</summary>
    private async Task AnnounceAsync(string key)
    {
        if (_events is null)
        {
            return;
        }

        await _hybrid.RemoveAsync(KeyPrefix + key);
        await _events.PublishKeyChangedAsync(key);

        // A lookup on another instance that read the database just before this commit may write the old value to
        // Redis just after the eviction above; evicting once more a moment later closes that window.
        _ = Task.Delay(TimeSpan.FromSeconds(1), _timeProvider).ContinueWith(_ => _hybrid.RemoveAsync(KeyPrefix + key).AsTask(), TaskScheduler.Default);
    }

    private sealed class Load(IObjectCatalog inner, string key)
    {
        public IObjectCatalog Inner { get; } = inner;

        public string Key { get; } = key;

        public bool FromDatabase { get; set; }
    }

    /// <summary>What the shared level holds for a key, found or not. Immutable, so HybridCache hands it out without copying.</summary>
    [System.ComponentModel.ImmutableObject(true)]
    internal sealed record CatalogEntry(ObjectRecord? Record);

    private sealed class TimeProviderClock(TimeProvider timeProvider) : Microsoft.Extensions.Internal.ISystemClock
    {
        public DateTimeOffset UtcNow => timeProvider.GetUtcNow();
    }
}

using EdgeRouter.Configuration;
using EdgeRouter.Observability;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace EdgeRouter.Catalog;

/// <summary>
/// Keeps catalog lookups in memory so a hot key costs no database round-trip and a 404 storm does not reach the
/// database. Writes through this instance update or evict the entry at once.
/// </summary>
/// <remarks>
/// Unknown keys live in a cache of their own, a tenth of the size: a storm of distinct unknown keys then can
/// neither push the hot keys out nor make every insertion compact the whole cache.
/// </remarks>
internal sealed class CachingObjectCatalog : IObjectCatalog, IDisposable
{
    // Unknown keys are cached as this value: the cache cannot hold null.
    private static readonly object NotFound = new();

    private readonly IObjectCatalog _inner;
    private readonly MemoryCache _cache;
    private readonly MemoryCache _unknown;
    private readonly MemoryCacheEntryOptions _found;
    private readonly MemoryCacheEntryOptions _notFound;
    private readonly EdgeRouterMetrics _metrics;

    // Bumped by every write; a miss that raced a write does not put what it read into the cache.
    private long _generation;

    public CachingObjectCatalog(IObjectCatalog inner, IOptions<EdgeRouterOptions> options, TimeProvider timeProvider, EdgeRouterMetrics metrics)
    {
        _inner = inner;
        _metrics = metrics;
        var catalog = options.Value.Catalog;
        var clock = new TimeProviderClock(timeProvider);
        _cache = new MemoryCache(new MemoryCacheOptions { SizeLimit = catalog.CacheEntryLimit, Clock = clock });
        // A storm of distinct unknown keys keeps this cache full; dropping half at a time makes its compactions (a sort
        // of every entry) ten times rarer than the default 5%, and losing a remembered unknown key costs one lookup.
        _unknown = new MemoryCache(new MemoryCacheOptions { SizeLimit = Math.Max(100, catalog.CacheEntryLimit / 10), CompactionPercentage = 0.5, Clock = clock });
        _found = new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = catalog.CacheTtl };
        _notFound = new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = catalog.NegativeCacheTtl };
    }

    public ValueTask<ObjectRecord?> FindAsync(string key, CancellationToken cancellationToken)
    {
        if (_cache.TryGetValue(key, out var cached))
        {
            _metrics.CatalogCacheHit();
            return ValueTask.FromResult(cached as ObjectRecord);
        }

        if (_unknown.TryGetValue(key, out _))
        {
            _metrics.CatalogCacheHit();
            return ValueTask.FromResult<ObjectRecord?>(null);
        }

        _metrics.CatalogCacheMiss();
        return LoadAsync(key, cancellationToken);
    }

    public async Task<CatalogWriteResult> AddAsync(ObjectRecord record, bool overwrite, CancellationToken cancellationToken)
    {
        Forget(record.Key);
        var result = await _inner.AddAsync(record, overwrite, cancellationToken);
        _cache.Set(record.Key, result.Outcome == CatalogWriteOutcome.Conflict ? result.Previous : record, _found);
        return result;
    }

    public async Task<bool> RemoveAsync(ObjectRecord expected, CancellationToken cancellationToken)
    {
        Forget(expected.Key);
        return await _inner.RemoveAsync(expected, cancellationToken);
    }

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

    public void Dispose()
    {
        _cache.Dispose();
        _unknown.Dispose();
    }

    private async ValueTask<ObjectRecord?> LoadAsync(string key, CancellationToken cancellationToken)
    {
        var generation = Interlocked.Read(ref _generation);
        var record = await _inner.FindAsync(key, cancellationToken);
        if (Interlocked.Read(ref _generation) == generation)
        {
            if (record is null)
            {
                _unknown.Set(key, NotFound, _notFound);
            }
            else
            {
                _cache.Set(key, record, _found);
            }
        }

        return record;
    }

    private sealed class TimeProviderClock(TimeProvider timeProvider) : Microsoft.Extensions.Internal.ISystemClock
    {
        public DateTimeOffset UtcNow => timeProvider.GetUtcNow();
    }
}

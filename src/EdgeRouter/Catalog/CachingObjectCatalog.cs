using System.Collections.Concurrent;
using EdgeRouter.Configuration;
using EdgeRouter.Observability;
using EdgeRouter.Caching;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace EdgeRouter.Catalog;

/// <summary>
/// Keeps catalog lookups in memory so a hot key costs no database round-trip and a 404 storm does not reach the
/// database. Writes through this instance update or evict the entry at once; with several instances, a write also
/// tells every other instance to drop its entry (<see cref="IClusterEvents"/>).
/// </summary>
/// <remarks>
/// The cache is a plain <see cref="MemoryCache"/>: a hit is one dictionary lookup with no allocation. Unknown keys live
/// apart (<see cref="UnknownKeys"/>) and fewer: a storm of distinct unknown keys can neither push the hot keys out nor
/// make a cache sort itself to compact.
/// A miss fills the cache only if no change to any key was announced or made here while it read (a generation
/// count, bumped by every write before and after its commit and by every announcement), so a lookup that read a
/// version just before its replacement can never keep it. With several instances, concurrent misses of one key make
/// one database call, shared only among callers of the same generation. There is no shared second level: a value a
/// lookup wrote there could not be told from a newer one, and Redis carries only the change channel.
/// </remarks>
internal sealed class CachingObjectCatalog : IObjectCatalog, IDisposable
{
    private readonly IObjectCatalog _inner;
    private readonly MemoryCache _cache;
    private readonly UnknownKeys _unknown;
    private readonly MemoryCacheEntryOptions _found;
    private readonly MemoryCacheEntryOptions _degraded;
    private readonly TimeSpan _notFoundTtl;
    private readonly TimeSpan _degradedTtl;
    private readonly IClusterEvents? _events;
    private readonly KeysBeingWritten? _writing;
    private readonly EdgeRouterMetrics _metrics;
    private readonly ConcurrentDictionary<string, SharedLookup> _inFlight = new(StringComparer.Ordinal);

    // Bumped by every write and every announced change; a miss that raced one does not put what it read into the cache.
    private long _generation;

    public CachingObjectCatalog(IObjectCatalog inner, IOptions<EdgeRouterOptions> options, TimeProvider timeProvider, EdgeRouterMetrics metrics, IClusterEvents? events = null, KeysBeingWritten? writing = null)
    {
        _inner = inner;
        _writing = writing;
        _metrics = metrics;
        _events = events;
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
        if (events is not null)
        {
            events.KeyChanged += Forget;

            // A 404 this instance remembers for the key must not outlive its upload elsewhere.
            events.KeyWriting += Forget;

            // While the channel is down this instance may miss changes, and on its return it has: start afresh.
            events.ConnectionChanged += _ => ForgetAll();
            events.AllChanged += ForgetAll;
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

    public async Task<CatalogWriteResult> AddAsync(ObjectRecord record, bool overwrite, Cdn.PurgeRequest? notify, CancellationToken cancellationToken)
    {
        // A lookup that runs while this commits must not cache what it read. The entry itself stays until the commit
        // is done: it is still the version in force, and a commit that fails (the database down) changes nothing,
        // so reads of the key go on from memory.
        var generation = Interlocked.Increment(ref _generation);
        var result = await _inner.AddAsync(record, overwrite, notify, cancellationToken);

        // Again after the commit: a lookup that began before it may have read the old record; it must not cache it.
        var forgotten = ForgetKey(record.Key);
        if (result.Outcome is CatalogWriteOutcome.Added or CatalogWriteOutcome.Replaced)
        {
            // Kept only if no change was heard during the commit: another instance's overwrite or delete that it
            // announced meanwhile may be newer than this record, and a cached record outlives its file.
            if (forgotten == generation + 1)
            {
                Remember(record.Key, record, forgotten, Degraded);
            }

            Announce(record.Key);
        }

        return result;
    }

    public Task<bool> RemoveAsync(ObjectRecord expected, bool immediate, CancellationToken cancellationToken)
        => ChangeAsync(expected.Key, () => _inner.RemoveAsync(expected, immediate, cancellationToken));

    /// <summary>
    /// A change of the key's record that keeps nothing in memory (a delete, an adoption, a relocation): a lookup that
    /// runs meanwhile does not cache what it read, the key is forgotten after the commit, and the change is announced.
    /// </summary>
    private async Task<bool> ChangeAsync(string key, Func<Task<bool>> commit)
    {
        Interlocked.Increment(ref _generation);
        bool changed;
        try
        {
            changed = await commit();
        }
        finally
        {
            Forget(key);
        }

        if (changed)
        {
            Announce(key);
        }

        return changed;
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

    public Task<bool> AdoptAsync(ObjectRecord record, CancellationToken cancellationToken)
        => ChangeAsync(record.Key, () => _inner.AdoptAsync(record, cancellationToken));

    public Task<bool> RecordHashAsync(ObjectRecord expected, string sha256, CancellationToken cancellationToken)
        => ChangeAsync(expected.Key, () => _inner.RecordHashAsync(expected, sha256, cancellationToken));

    public async Task<IReadOnlyList<bool>> RelocateManyAsync(IReadOnlyList<Relocation> relocations, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _generation);
        IReadOnlyList<bool> moved;
        try
        {
            moved = await _inner.RelocateManyAsync(relocations, cancellationToken);
        }
        finally
        {
            foreach (var relocation in relocations)
            {
                Forget(relocation.Expected.Key);
            }
        }

        for (var i = 0; i < moved.Count; i++)
        {
            if (moved[i])
            {
                Announce(relocations[i].Expected.Key);
            }
        }

        return moved;
    }

    public Task<IReadOnlyList<bool>> TryBeginUploadsAsync(IReadOnlyList<UploadIntent> intents, CancellationToken cancellationToken)
        => _inner.TryBeginUploadsAsync(intents, cancellationToken);

    public Task<IReadOnlyList<ObjectRecord>> ListStoredAsync(string storageId, string prefix, string? after, int limit, CancellationToken cancellationToken)
        => _inner.ListStoredAsync(storageId, prefix, after, limit, cancellationToken);

    public Task<IReadOnlyDictionary<string, ObjectRecord?>> FindLocationsAsync(string storageId, IReadOnlyCollection<string> locations, CancellationToken cancellationToken)
        => _inner.FindLocationsAsync(storageId, locations, cancellationToken);

    public Task<bool> QueueOrphanAsync(string storageId, string location, CancellationToken cancellationToken)
        => _inner.QueueOrphanAsync(storageId, location, cancellationToken);

    public Task<IReadOnlyList<PendingDelete>> FindFormerLocationsAsync(string key, CancellationToken cancellationToken)
        => _inner.FindFormerLocationsAsync(key, cancellationToken);

    /// <summary>Forgets a key, for changes made elsewhere (another instance, an operator) and before every write.</summary>
    public void Forget(string key) => ForgetKey(key);

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

        // One instance asks its database straight away: sharing lookups costs more bookkeeping than a local query.
        var record = _events is null ? await _inner.FindAsync(key, cancellationToken) : await FindSharedAsync(key, generation, cancellationToken);
        Remember(key, record, generation, degraded);
        return record;
    }

    /// <returns>The generation this change made.</returns>
    private long ForgetKey(string key)
    {
        var generation = Interlocked.Increment(ref _generation);
        _cache.Remove(key);
        _unknown.Remove(key);
        return generation;
    }

    /// <summary>
    /// Keeps what a lookup or a commit found (null: the key is unknown), unless a change was heard since
    /// <paramref name="generation"/>. Checked again once stored: a change heard meanwhile may have forgotten the key
    /// just before this stored it, and must win.
    /// </summary>
    private void Remember(string key, ObjectRecord? record, long generation, bool degraded)
    {
        if (Interlocked.Read(ref _generation) != generation)
        {
            return;
        }

        if (record is null)
        {
            if (_writing?.Contains(key) != true)
            {
                _unknown.Add(key, degraded ? _degradedTtl : _notFoundTtl);
            }
        }
        else
        {
            _cache.Set(key, record, degraded ? _degraded : _found);
        }

        if (Interlocked.Read(ref _generation) != generation)
        {
            _cache.Remove(key);
            _unknown.Remove(key);
        }
    }

    /// <summary>Joins a lookup of the key already running in this generation, or starts one.</summary>
    private Task<ObjectRecord?> FindSharedAsync(string key, long generation, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_inFlight.TryGetValue(key, out var running) && running.Generation == generation)
            {
                return running.Result.Task.WaitAsync(cancellationToken);
            }

            var mine = new SharedLookup(generation);
            if (running is null ? _inFlight.TryAdd(key, mine) : _inFlight.TryUpdate(key, mine, running))
            {
                _ = RunAsync(key, mine);
                return mine.Result.Task.WaitAsync(cancellationToken);
            }
        }
    }

    private async Task RunAsync(string key, SharedLookup lookup)
    {
        try
        {
            // No caller's token: the answer is shared, and one caller leaving must not fail the others.
            lookup.Result.SetResult(await _inner.FindAsync(key, CancellationToken.None));
        }
        catch (Exception ex)
        {
            lookup.Result.SetException(ex);
        }
        finally
        {
            _inFlight.TryRemove(new KeyValuePair<string, SharedLookup>(key, lookup));
        }
    }

    /// <summary>After a committed change: tell the other instances, without making the writer wait for Redis.</summary>
    private void Announce(string key)
    {
        // PublishKeyChangedAsync logs and swallows its own failures; while the channel is down every instance keeps
        // lookups for DegradedCacheTtl only, and drops everything when it returns.
        _ = _events?.PublishKeyChangedAsync(key).AsTask();
    }

    private sealed class SharedLookup(long generation)
    {
        public long Generation { get; } = generation;

        public TaskCompletionSource<ObjectRecord?> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class TimeProviderClock(TimeProvider timeProvider) : Microsoft.Extensions.Internal.ISystemClock
    {
        public DateTimeOffset UtcNow => timeProvider.GetUtcNow();
    }
}

using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using EdgeRouter.Catalog;
using EdgeRouter.Configuration;
using EdgeRouter.Observability;
using EdgeRouter.Storage;
using Microsoft.Extensions.Options;

namespace EdgeRouter.Serving.Cache;

/// <summary>An object version on a storage: what a cached body is kept under.</summary>
internal readonly record struct CacheKey(string StorageId, string Location, string Sha256)
{
    public static CacheKey Of(ObjectRecord record) => new(record.StorageId, record.Location, record.Sha256);
}

/// <summary>A cached body and its place in the eviction policy's order.</summary>
internal sealed class CacheEntry(CacheKey key, CachedBody body)
{
    public CacheKey Key { get; } = key;

    public CachedBody Body { get; } = body;

    // The eviction policy's state, changed only by the policy.
    internal volatile bool Visited;
    internal bool Tracked;
    internal CacheEntry? Newer;
    internal CacheEntry? Older;
}

/// <summary>
/// The origin cache's memory tier: verified object bodies under a byte budget. A miss is one backend read however
/// many requests wait for it (nginx's <c>proxy_cache_lock</c>); its body is checked against the catalog's size and
/// SHA-256 before anyone is served from it, so a wrong byte is never cached nor sent as a hit.
/// </summary>
internal sealed partial class OriginCache : IDisposable
{
    // A backend that stops answering must not hold the requests that wait on it for ever.
    private static readonly TimeSpan FillTimeout = TimeSpan.FromMinutes(2);

    private readonly ConcurrentDictionary<CacheKey, CacheEntry> _entries = new();
    private readonly ConcurrentDictionary<CacheKey, Task<CacheEntry>> _fills = new();
    private readonly Lock _lock = new();
    private readonly IEvictionPolicy _policy;
    private readonly long _capacity;
    private readonly ILogger<OriginCache> _logger;
    private long _used;
    private readonly ConcurrentDictionary<string, Lookups> _lookups = new(StringComparer.Ordinal);
    private long _servedBytes;
    private long _filledBytes;
    private long _evictions;

    public OriginCache(IOptions<EdgeRouterOptions> options, IMeterFactory meterFactory, ILogger<OriginCache> logger)
    {
        var settings = options.Value.OriginCache;
        _capacity = settings.MemoryBytes;
        MaxObjectBytes = settings.MaxObjectBytes;
        _policy = EvictionPolicies.Create(settings.Eviction);
        _logger = logger;

        // Plain counts on the hot path, observed at each collection.
        var meter = meterFactory.Create(EdgeRouterMetrics.MeterName);
        meter.CreateObservableCounter("edgerouter.origin_cache.lookups", ObserveLookups, "{lookup}", "Reads the origin cache answered (hit) or read from the backend (miss), by storage.");
        meter.CreateObservableCounter("edgerouter.origin_cache.served", () => ServedBytes, "By", "Body bytes sent from the origin cache.");
        meter.CreateObservableCounter("edgerouter.origin_cache.filled", () => FilledBytes, "By", "Bytes read from backends into the origin cache.");
        meter.CreateObservableCounter("edgerouter.origin_cache.evictions", () => Evictions, "{entry}", "Entries the origin cache let go for room.");
        meter.CreateObservableGauge("edgerouter.origin_cache.entries", () => Count, "{entry}", "Objects in the origin cache.");
        meter.CreateObservableGauge("edgerouter.origin_cache.used", () => UsedBytes, "By", "Bytes the origin cache holds.");
    }

    public long MaxObjectBytes { get; }

    public long CapacityBytes => _capacity;

    public long Hits => _lookups.Values.Sum(l => Volatile.Read(ref l.Hits));

    public long Misses => _lookups.Values.Sum(l => Volatile.Read(ref l.Misses));

    public long ServedBytes => Volatile.Read(ref _servedBytes);

    public long FilledBytes => Volatile.Read(ref _filledBytes);

    public long Evictions => Volatile.Read(ref _evictions);

    public long UsedBytes => Volatile.Read(ref _used);

    public int Count => _entries.Count;

    /// <summary>
    /// The body of <paramref name="record"/>, with a reference the caller must <see cref="CachedBody.Release"/>: from
    /// memory, or read once from <paramref name="storage"/> for every request that asks meanwhile.
    /// </summary>
    /// <exception cref="StorageException">The backend failed, or its bytes are not the record's; nothing was cached.</exception>
    public async ValueTask<CachedBody> GetAsync(StorageDefinition storage, ObjectRecord record, CancellationToken cancellationToken)
    {
        var key = CacheKey.Of(record);
        var lookups = _lookups.GetOrAdd(storage.Id, static _ => new Lookups());
        if (_entries.TryGetValue(key, out var entry) && entry.Body.TryAcquire())
        {
            _policy.OnHit(entry);
            Interlocked.Increment(ref lookups.Hits);
            return entry.Body;
        }

        Interlocked.Increment(ref lookups.Misses);
        while (true)
        {
            var fill = new TaskCompletionSource<CacheEntry>(TaskCreationOptions.RunContinuationsAsynchronously);
            var running = _fills.GetOrAdd(key, fill.Task);
            if (running == fill.Task)
            {
                _ = FillAsync(key, storage, record, fill);
            }

            entry = await running.WaitAsync(cancellationToken);
            if (entry.Body.TryAcquire())
            {
                return entry.Body;
            }

            // Evicted (and freed) between its fill and this request's turn: rare, and a new fill is right.
        }
    }

    /// <summary>Counts bytes a response sent from the cache.</summary>
    public void Served(long bytes) => Interlocked.Add(ref _servedBytes, bytes);

    private async Task FillAsync(CacheKey key, StorageDefinition storage, ObjectRecord record, TaskCompletionSource<CacheEntry> fill)
    {
        try
        {
            using var timeout = new CancellationTokenSource(FillTimeout);
            var body = new CachedBody(checked((int)record.Size));
            try
            {
                await LoadAsync(storage, record, body, timeout.Token);
            }
            catch
            {
                body.Release();
                throw;
            }

            Interlocked.Add(ref _filledBytes, record.Size);
            fill.SetResult(Add(key, body));
        }
        catch (Exception ex)
        {
            Log.FillFailed(_logger, record.Key, storage.Id, ex.Message);
            fill.SetException(ex as StorageException ?? new StorageException($"Reading '{record.Key}' from storage '{storage.Id}' failed: {ex.Message}", ex) { IsTimeout = ex is OperationCanceledException });
        }
        finally
        {
            _fills.TryRemove(new KeyValuePair<CacheKey, Task<CacheEntry>>(key, fill.Task));
        }
    }

    /// <summary>Reads the whole object into <paramref name="body"/> and checks it is exactly the record's bytes.</summary>
    private static async Task LoadAsync(StorageDefinition storage, ObjectRecord record, CachedBody body, CancellationToken cancellationToken)
    {
        var content = await storage.Store.OpenReadAsync(record.Location, null, cancellationToken)
            ?? throw new StorageException($"The catalog names storage '{storage.Id}' for '{record.Key}', but the object is not there.");
        await using (content)
        {
            if (content.TotalLength != record.Size)
            {
                throw new StorageException($"'{record.Location}' on storage '{storage.Id}' has {content.TotalLength} bytes; its catalog record says {record.Size}.");
            }

            var memory = body.Memory;
            var filled = 0;
            while (filled < memory.Length)
            {
                var read = await content.Content.ReadAsync(memory[filled..], cancellationToken);
                if (read == 0)
                {
                    throw new StorageException($"'{record.Location}' on storage '{storage.Id}' ended after {filled} of {record.Size} bytes.");
                }

                filled += read;
            }

            if (await content.Content.ReadAsync(new byte[1], cancellationToken) != 0)
            {
                throw new StorageException($"'{record.Location}' on storage '{storage.Id}' has more bytes than its catalog record's {record.Size}.");
            }
        }

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(body.GetSpan(), hash);
        if (!Convert.ToHexStringLower(hash).Equals(record.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new StorageException($"'{record.Location}' on storage '{storage.Id}' does not have the SHA-256 its catalog record names.");
        }
    }

    private CacheEntry Add(CacheKey key, CachedBody body)
    {
        var entry = new CacheEntry(key, body);
        lock (_lock)
        {
            while (_used + body.Length > _capacity && _policy.Evict() is { } victim)
            {
                _entries.TryRemove(victim.Key, out _);
                _used -= victim.Body.Length;
                _evictions++;
                victim.Body.Release();
            }

            _entries[key] = entry;
            _policy.OnAdd(entry);
            _used += body.Length;
        }

        return entry;
    }

    public void Dispose()
    {
        lock (_lock)
        {
            while (_policy.Evict() is { } entry)
            {
                _entries.TryRemove(entry.Key, out _);
                entry.Body.Release();
            }

            _used = 0;
        }
    }

    private IEnumerable<Measurement<long>> ObserveLookups()
    {
        foreach (var (storage, lookups) in _lookups)
        {
            yield return new(Volatile.Read(ref lookups.Hits), new KeyValuePair<string, object?>("storage", storage), new KeyValuePair<string, object?>("result", "hit"));
            yield return new(Volatile.Read(ref lookups.Misses), new KeyValuePair<string, object?>("storage", storage), new KeyValuePair<string, object?>("result", "miss"));
        }
    }

    /// <summary>One storage's lookups.</summary>
    private sealed class Lookups
    {
        public long Hits;
        public long Misses;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.OriginCacheFillFailed, Level = LogLevel.Error, Message = "{Key} from storage {StorageId} was not cached: {Error}")]
        public static partial void FillFailed(ILogger logger, string key, string storageId, string error);
    }
}

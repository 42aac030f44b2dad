using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using EdgeRouter.Catalog;
using EdgeRouter.Configuration;
using EdgeRouter.Observability;
using EdgeRouter.Storage;
using Microsoft.Extensions.Options;
using Microsoft.Win32.SafeHandles;

namespace EdgeRouter.Serving.Cache;

/// <summary>An object version on a storage: what a cached body is kept under.</summary>
internal readonly record struct CacheKey(string StorageId, string Location, string Sha256)
{
    public static CacheKey Of(ObjectRecord record) => new(record.StorageId, record.Location, record.Sha256);
}

/// <summary>
/// Where a cached read's bytes are: a body in memory, an open file of the disk tier, or the fill this request started
/// (<see cref="Pending"/>: answered as the bytes arrive); none of them when the disk tier could not keep the object
/// (the read goes to the backend, uncached). Dispose lets go of it.
/// </summary>
internal readonly struct CacheRead(CachedBody? body, SafeFileHandle? file, PendingFill? pending = null) : IDisposable
{
    public CachedBody? Body => body;

    public SafeFileHandle? File => file;

    public PendingFill? Pending => pending;

    public void Dispose()
    {
        body?.Release();
        file?.Dispose();
        pending?.Dispose();
    }
}

/// <summary>A cached body and its place in the eviction policy's order.</summary>
internal sealed class CacheEntry(CacheKey key, CachedBody body) : EvictionNode
{
    public CacheKey Key { get; } = key;

    public CachedBody Body { get; } = body;
}

/// <summary>
/// The origin cache: verified object bodies in memory under a byte budget, and, with <c>OriginCache:DiskPath</c>, on
/// disk under another (<see cref="DiskTier"/>), which keeps larger objects and what memory let go, across restarts.
/// A miss is one backend read however many requests wait for it (nginx's <c>proxy_cache_lock</c>); its body is checked
/// against the catalog's size and SHA-256 before it is kept or served whole (the request that started it gets the bytes
/// as they arrive, all but the last until the check passed), so a wrong byte is never cached nor completes a response.
/// </summary>
internal sealed partial class OriginCache : IDisposable
{
    // A backend that stops answering must not hold the requests that wait on it for ever.
    private static readonly TimeSpan FillTimeout = TimeSpan.FromMinutes(2);

    private readonly ConcurrentDictionary<CacheKey, CacheEntry> _entries = new();
    private readonly ConcurrentDictionary<CacheKey, Task<Filled>> _fills = new();
    private readonly Lock _lock = new();
    private readonly IEvictionPolicy _policy;
    private readonly long _capacity;
    private readonly ILogger<OriginCache> _logger;
    private readonly DiskTier? _disk;
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
        if (settings.MemoryBytes > 0 && !string.IsNullOrEmpty(settings.DiskPath))
        {
            _disk = new DiskTier(settings.DiskPath, settings.DiskBytes, settings.Eviction, logger);
            DiskMaxObjectBytes = settings.DiskMaxObjectBytes;
        }

        // Plain counts on the hot path, observed at each collection.
        var meter = meterFactory.Create(EdgeRouterMetrics.MeterName);
        meter.CreateObservableCounter("edgerouter.origin_cache.lookups", ObserveLookups, "{lookup}", "Reads the origin cache answered (hit) or read from the backend (miss), by storage.");
        meter.CreateObservableCounter("edgerouter.origin_cache.served", () => ServedBytes, "By", "Body bytes sent from the origin cache.");
        meter.CreateObservableCounter("edgerouter.origin_cache.filled", () => FilledBytes, "By", "Bytes read from backends into the origin cache.");
        meter.CreateObservableCounter("edgerouter.origin_cache.evictions", () => Evictions, "{entry}", "Entries the origin cache let go for room.");
        meter.CreateObservableGauge("edgerouter.origin_cache.entries", () => ByTier(Count, _disk?.Count), "{entry}", "Objects in the origin cache, by tier.");
        meter.CreateObservableGauge("edgerouter.origin_cache.used", () => ByTier(UsedBytes, _disk?.UsedBytes), "By", "Bytes the origin cache holds, by tier.");
    }

    public long MaxObjectBytes { get; }

    /// <summary>The largest object the disk tier keeps; 0 without one.</summary>
    public long DiskMaxObjectBytes { get; }

    /// <summary>Whether an object of this size is cached (in memory, or on disk when there is a disk tier).</summary>
    public bool Keeps(long size) => size <= MaxObjectBytes || size <= DiskMaxObjectBytes;

    public long CapacityBytes => _capacity;

    public long Hits => _lookups.Values.Sum(l => Volatile.Read(ref l.Hits));

    public long Misses => _lookups.Values.Sum(l => Volatile.Read(ref l.Misses));

    public long ServedBytes => Volatile.Read(ref _servedBytes);

    public long FilledBytes => Volatile.Read(ref _filledBytes);

    public long Evictions => Volatile.Read(ref _evictions);

    public long UsedBytes => Volatile.Read(ref _used);

    public int Count => _entries.Count;

    /// <summary>
    /// The bytes of <paramref name="record"/>, which the caller must dispose of: from memory or the disk tier, or read
    /// once from <paramref name="storage"/> for every request that asks meanwhile. Only for sizes it <see cref="Keeps"/>.
    /// A <paramref name="whole"/> read that starts the fill gets it as <see cref="CacheRead.Pending"/>, to be answered
    /// as the bytes arrive; the others wait for the verified whole.
    /// </summary>
    /// <exception cref="StorageException">The backend failed, or its bytes are not the record's; nothing was cached.</exception>
    public async ValueTask<CacheRead> GetAsync(StorageDefinition storage, ObjectRecord record, bool whole, CancellationToken cancellationToken)
    {
        var key = CacheKey.Of(record);
        var lookups = _lookups.GetOrAdd(storage.Id, static _ => new Lookups());
        if (_entries.TryGetValue(key, out var entry) && entry.Body.TryAcquire())
        {
            _policy.OnHit(entry);
            Interlocked.Increment(ref lookups.Hits);
            return new CacheRead(entry.Body, null);
        }

        if (record.Size > MaxObjectBytes && _disk is not null && await _disk.OpenAsync(key, record.Size, cancellationToken) is { } file)
        {
            Interlocked.Increment(ref lookups.Hits);
            return new CacheRead(null, file);
        }

        // A miss waits for a fill: from the backend, or from the disk tier into memory (filled bytes count the former).
        Interlocked.Increment(ref lookups.Misses);
        while (true)
        {
            var fill = new TaskCompletionSource<Filled>(TaskCreationOptions.RunContinuationsAsynchronously);
            var running = _fills.GetOrAdd(key, fill.Task);
            if (running == fill.Task)
            {
                var pending = whole ? new PendingFill(record.Size) : null;
                _ = FillAsync(key, storage, record, fill, pending);
                if (pending is not null)
                {
                    return new CacheRead(null, null, pending);
                }
            }

            var filled = await running.WaitAsync(cancellationToken);
            if (filled.Uncached)
            {
                return default;
            }

            if (filled.Memory is { } memory)
            {
                if (memory.Body.TryAcquire())
                {
                    return new CacheRead(memory.Body, null);
                }
            }
            else if (await _disk!.OpenAsync(key, record.Size, cancellationToken) is { } onDisk)
            {
                return new CacheRead(null, onDisk);
            }

            // Evicted between its fill and this request's turn: rare, and a new fill is right.
        }
    }

    /// <summary>Counts bytes a response sent from the cache.</summary>
    public void Served(long bytes) => Interlocked.Add(ref _servedBytes, bytes);

    /// <summary>
    /// Puts the object where its size belongs: in memory (from the disk tier when it has it, else from the backend,
    /// and then on disk too), or, above <see cref="MaxObjectBytes"/>, on disk alone.
    /// </summary>
    private async Task FillAsync(CacheKey key, StorageDefinition storage, ObjectRecord record, TaskCompletionSource<Filled> fill, PendingFill? pending)
    {
        try
        {
            using var timeout = new CancellationTokenSource(FillTimeout);
            if (record.Size > MaxObjectBytes)
            {
                var content = await OpenAsync(storage, record, timeout.Token);
                await using (content)
                {
                    string kept;
                    try
                    {
                        kept = await _disk!.FillAsync(key, record.Size, content.Content, RecordCheck.Describe(record), pending, timeout.Token);
                    }
                    catch (DiskTierException ex)
                    {
                        Log.DiskWriteFailed(_logger, record.Key, ex.Message);
                        fill.SetResult(new Filled(null, Uncached: true));
                        pending?.Complete(kept: false);
                        return;
                    }

                    Interlocked.Add(ref _filledBytes, record.Size);
                    fill.SetResult(new Filled(null));
                    pending?.Complete(kept: true, kept);
                }

                return;
            }

            var body = new CachedBody(checked((int)record.Size));
            pending?.Start(body);
            bool fromBackend;
            try
            {
                fromBackend = !await LoadFromDiskAsync(key, record, body, timeout.Token);
                if (fromBackend)
                {
                    await LoadAsync(storage, record, body, pending, timeout.Token);
                    Interlocked.Add(ref _filledBytes, record.Size);
                }
            }
            catch
            {
                body.Release();
                throw;
            }

            fill.SetResult(new Filled(Add(key, body)));
            pending?.Complete(kept: true);
            if (fromBackend && _disk is not null && body.TryAcquire())
            {
                try
                {
                    await _disk.AddAsync(key, body.Memory, timeout.Token);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or OperationCanceledException)
                {
                    Log.DiskWriteFailed(_logger, record.Key, ex.Message);
                }
                finally
                {
                    body.Release();
                }
            }
        }
        catch (Exception ex)
        {
            Log.FillFailed(_logger, record.Key, storage.Id, ex.Message);
            var failure = ex as StorageException ?? new StorageException($"Reading '{record.Key}' from storage '{storage.Id}' failed: {ex.Message}", ex) { IsTimeout = ex is OperationCanceledException };
            fill.TrySetException(failure);
            pending?.Fail(failure);
        }
        finally
        {
            _fills.TryRemove(new KeyValuePair<CacheKey, Task<Filled>>(key, fill.Task));
        }
    }

    /// <summary>Reads a small object's verified disk entry into memory; false when the disk tier has none.</summary>
    private async Task<bool> LoadFromDiskAsync(CacheKey key, ObjectRecord record, CachedBody body, CancellationToken cancellationToken)
    {
        if (_disk is null || await _disk.OpenAsync(key, record.Size, cancellationToken) is not { } file)
        {
            return false;
        }

        using (file)
        {
            var memory = body.Memory;
            for (var filled = 0; filled < memory.Length;)
            {
                var read = await RandomAccess.ReadAsync(file, memory[filled..], filled, cancellationToken);
                if (read == 0)
                {
                    return false;
                }

                filled += read;
            }
        }

        return true;
    }

    private static async Task<ObjectContent> OpenAsync(StorageDefinition storage, ObjectRecord record, CancellationToken cancellationToken)
    {
        var content = await storage.Store.OpenReadAsync(record.Location, null, cancellationToken)
            ?? throw new StorageException($"The catalog names storage '{storage.Id}' for '{record.Key}', but the object is not there.");
        if (content.TotalLength != record.Size)
        {
            await content.DisposeAsync();
            throw new StorageException($"'{record.Location}' on storage '{storage.Id}' has {content.TotalLength} bytes; its catalog record says {record.Size}.");
        }

        return content;
    }

    /// <summary>Reads the whole object into <paramref name="body"/> and checks it is exactly the record's bytes.</summary>
    private static async Task LoadAsync(StorageDefinition storage, ObjectRecord record, CachedBody body, PendingFill? pending, CancellationToken cancellationToken)
    {
        var content = await OpenAsync(storage, record, cancellationToken);
        await using (content)
        {
            var memory = body.Memory;
            var filled = 0;
            while (filled < memory.Length)
            {
                var read = await content.Content.ReadAsync(memory[filled..], cancellationToken);
                if (read == 0)
                {
                    throw RecordCheck.EndedEarly(RecordCheck.Describe(record), filled, record.Size);
                }

                filled += read;
                pending?.Advance(filled);
            }

            if (await content.Content.ReadAsync(new byte[1], cancellationToken) != 0)
            {
                throw RecordCheck.TooLong(RecordCheck.Describe(record), record.Size);
            }
        }

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(body.GetSpan(), hash);
        if (!RecordCheck.Matches(hash, record.Sha256))
        {
            throw RecordCheck.NotTheRecords(RecordCheck.Describe(record));
        }
    }

    private CacheEntry Add(CacheKey key, CachedBody body)
    {
        var entry = new CacheEntry(key, body);
        lock (_lock)
        {
            while (_used + body.Length > _capacity && _policy.Evict() is CacheEntry victim)
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
            while (_policy.Evict() is CacheEntry entry)
            {
                _entries.TryRemove(entry.Key, out _);
                entry.Body.Release();
            }

            _used = 0;
        }
    }

    private static Measurement<long>[] ByTier(long memory, long? disk) => disk is { } onDisk
        ? [new(memory, new KeyValuePair<string, object?>("tier", "memory")), new(onDisk, new KeyValuePair<string, object?>("tier", "disk"))]
        : [new(memory, new KeyValuePair<string, object?>("tier", "memory"))];

    private IEnumerable<Measurement<long>> ObserveLookups()
    {
        foreach (var (storage, lookups) in _lookups)
        {
            yield return new(Volatile.Read(ref lookups.Hits), new KeyValuePair<string, object?>("storage", storage), new KeyValuePair<string, object?>("result", "hit"));
            yield return new(Volatile.Read(ref lookups.Misses), new KeyValuePair<string, object?>("storage", storage), new KeyValuePair<string, object?>("result", "miss"));
        }
    }

    /// <summary>Where a fill put the object: in memory (the entry), on disk (null), or nowhere (the disk tier failed).</summary>
    private sealed record Filled(CacheEntry? Memory, bool Uncached = false);

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

        [LoggerMessage(EventId = EventIds.OriginCacheDiskWriteFailed, Level = LogLevel.Warning, Message = "{Key} was not kept on the origin cache's disk: {Error}")]
        public static partial void DiskWriteFailed(ILogger logger, string key, string error);
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace EdgeRouter.Observability;

/// <summary>The router's own instruments, on the meter <c>EdgeRouter</c>. ASP.NET Core's HTTP metrics sit beside them.</summary>
public sealed class EdgeRouterMetrics
{
    public const string MeterName = "EdgeRouter";
    public const string ReadsName = "edgerouter.reads";
    public const string ReadBytesName = "edgerouter.read.bytes";
    public const string UploadsName = "edgerouter.uploads";
    public const string StorageOperationDurationName = "edgerouter.storage.operation.duration";
    public const string CatalogQueryDurationName = "edgerouter.catalog.query.duration";

    private readonly Counter<long> _uploads;
    private readonly Counter<long> _uploadBytes;
    private readonly Counter<long> _failovers;

    // What every read counts (reads, bytes, catalog cache hits) is counted here and observed at each collection: an
    // OpenTelemetry counter aggregates every Add (a lookup of its labels), which on a hot redirect cost more than the
    // rest of the router's metrics together.
    private readonly ConcurrentDictionary<(string Mode, string Outcome), StrongBox<long>> _reads = new();
    private readonly ConcurrentDictionary<string, StrongBox<long>> _readBytes = new(StringComparer.Ordinal);
    private long _cacheHits;
    private long _cacheMisses;
    private readonly Counter<long> _janitorRemoved;
    private readonly Counter<long> _announcementsFailed;
    private readonly Counter<long> _configReloads;
    private readonly Histogram<double> _readDuration;
    private readonly Histogram<double> _uploadDuration;
    private readonly Histogram<double> _storageOperationDuration;
    private readonly Histogram<double> _catalogQueryDuration;
    private long _deletionsLeft = -1;
    private readonly Counter<long> _purges;
    private (long Pending, double Age) _purgeQueue = (-1, 0);

    public EdgeRouterMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _uploads = meter.CreateCounter<long>(UploadsName, "{upload}", "Uploads by storage and outcome.");
        _uploadBytes = meter.CreateCounter<long>("edgerouter.upload.bytes", "By", "Bytes stored, by storage.");
        _failovers = meter.CreateCounter<long>("edgerouter.upload.failovers", "{failover}", "Writes that failed on a storage and were retried on another.");
        meter.CreateObservableCounter(
            ReadsName,
            () => _reads.Select(r => new Measurement<long>(Volatile.Read(ref r.Value.Value), new("mode", r.Key.Mode), new("outcome", r.Key.Outcome))),
            "{read}",
            "Object reads by read mode and outcome.");
        meter.CreateObservableCounter(
            ReadBytesName,
            () => _readBytes.Select(r => new Measurement<long>(Volatile.Read(ref r.Value.Value), new KeyValuePair<string, object?>("mode", r.Key))),
            "By",
            "Object bytes served through the router (proxy and stream reads), by read mode.");
        meter.CreateObservableCounter("edgerouter.catalog.cache.hits", () => Volatile.Read(ref _cacheHits), "{lookup}", "Catalog lookups answered from memory.");
        meter.CreateObservableCounter("edgerouter.catalog.cache.misses", () => Volatile.Read(ref _cacheMisses), "{lookup}", "Catalog lookups that went to the database.");
        _announcementsFailed = meter.CreateCounter<long>("edgerouter.cluster.announcements.failed", "{announcement}", "Change announcements the channel refused, by kind; key changes are resent until it takes them.");
        _configReloads = meter.CreateCounter<long>("edgerouter.config.reloads", "{reload}", "Changes of storages.json read, by outcome: ok (in force) or rejected (the previous storages stay).");

        // Seconds, from half a millisecond (a hot redirect) to ten seconds (a large upload).
        var buckets = new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] };
        _readDuration = meter.CreateHistogram("edgerouter.read.duration", "s", "Time to answer an object read, by storage and read mode (a stream's or proxy's whole body included).", advice: buckets);
        _uploadDuration = meter.CreateHistogram("edgerouter.upload.duration", "s", "Time from an upload's start to its answer, by the storage that stored it.", advice: buckets);
        _storageOperationDuration = meter.CreateHistogram(
            StorageOperationDurationName,
            "s",
            "Time of each call to a storage's API, by storage, operation (put, read: until the body starts, stat, delete, probe) and error type (none when it succeeded).",
            advice: buckets);
        _catalogQueryDuration = meter.CreateHistogram(
            CatalogQueryDurationName,
            "s",
            "Time of each query to the catalog's database (lookups answered from memory are not queries), by operation and error type.",
            advice: buckets);
        meter.CreateObservableGauge(
            "edgerouter.janitor.deletions.left",
            () => Volatile.Read(ref _deletionsLeft) is var left and >= 0 ? [new Measurement<long>(left)] : Array.Empty<Measurement<long>>(),
            "{deletion}",
            "Due deletions the janitor's last round could not remove (up to one batch), on the instance that ran it; none before its first round.");
        _janitorRemoved = meter.CreateCounter<long>("edgerouter.janitor.removed", "{item}", "What the janitor removed, by kind: replaced-or-deleted objects past their grace, expired uploads, spool files.");
        _purges = meter.CreateCounter<long>(PurgesName, "{purge}", "CDN purges by target and outcome: sent, retry (a try failed; sent again later) or dead (dead-lettered).");
        meter.CreateObservableGauge(
            "edgerouter.cdn.purge.queue.age",
            () => Volatile.Read(ref _purgeQueue.Pending) >= 0 ? [new Measurement<double>(Volatile.Read(ref _purgeQueue.Age))] : Array.Empty<Measurement<double>>(),
            "s",
            "Age of the oldest purge waiting to be sent (0 when none waits), as the purge worker last saw the outbox.");
        meter.CreateObservableGauge(
            "edgerouter.cdn.purge.queue.pending",
            () => Volatile.Read(ref _purgeQueue.Pending) is var pending and >= 0 ? [new Measurement<long>(pending)] : Array.Empty<Measurement<long>>(),
            "{purge}",
            "Purges waiting to be sent, as the purge worker last saw the outbox.");
    }

    public const string PurgesName = "edgerouter.cdn.purges";

    public void Purges(string target, string outcome, long count) => _purges.Add(count, new KeyValuePair<string, object?>("target", target), new KeyValuePair<string, object?>("outcome", outcome));

    public void PurgeQueue(long pending, TimeSpan oldest)
    {
        Volatile.Write(ref _purgeQueue.Age, oldest.TotalSeconds);
        Volatile.Write(ref _purgeQueue.Pending, pending);
    }

    public void UploadStored(string storageId, long bytes)
    {
        _uploads.Add(1, new KeyValuePair<string, object?>("storage", storageId), new KeyValuePair<string, object?>("outcome", "stored"));
        _uploadBytes.Add(bytes, new KeyValuePair<string, object?>("storage", storageId));
    }

    public void UploadDuration(string storageId, TimeSpan elapsed) => _uploadDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("storage", storageId));

    public void ReadDuration(string storageId, string mode, TimeSpan elapsed)
    {
        if (_readDuration.Enabled)
        {
            _readDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("storage", storageId), new KeyValuePair<string, object?>("mode", mode));
        }
    }

    public void ConfigReloaded(bool inForce) => _configReloads.Add(1, new KeyValuePair<string, object?>("outcome", inForce ? "ok" : "rejected"));

    /// <summary>An upload answered with a 4xx or 5xx of the router's own, by that status.</summary>
    public void UploadRejected(int status)
        => _uploads.Add(1, new KeyValuePair<string, object?>("outcome", "rejected"), new KeyValuePair<string, object?>("status", status.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    // The timers take the call's start (Stopwatch.GetTimestamp()) as the argument before the call: C# evaluates
    // arguments in order, so the part of a call that completes synchronously (SQLite, a local file) is timed too.

    /// <summary>Times a call to a storage's API: <c>edgerouter.storage.operation.duration</c>.</summary>
    public Task<T> TimeStorageOperationAsync<T>(string storageId, string operation, long started, Task<T> call)
        => _storageOperationDuration.Enabled
            ? TimeAsync(_storageOperationDuration, new TagList { { "storage", storageId }, { "operation", operation } }, started, call)
            : call;

    /// <summary>Times a query to the catalog's database: <c>edgerouter.catalog.query.duration</c>.</summary>
    public Task<T> TimeCatalogQueryAsync<T>(string operation, long started, Task<T> call)
        => _catalogQueryDuration.Enabled ? TimeAsync(_catalogQueryDuration, new TagList { { "operation", operation } }, started, call) : call;

    /// <summary>Records how long <paramref name="call"/> took since <paramref name="started"/>, with an <c>error.type</c> label when it failed.</summary>
    private static async Task<T> TimeAsync<T>(Histogram<double> histogram, TagList tags, long started, Task<T> call)
    {
        try
        {
            var result = await call;
            histogram.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
            return result;
        }
        catch (Exception ex)
        {
            tags.Add("error.type", ErrorType(ex));
            histogram.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
            throw;
        }
    }

    /// <summary>A task without a result as one the timers take.</summary>
    internal static async Task<bool> Completion(Task task)
    {
        await task;
        return true;
    }

    /// <summary>A bounded name for what went wrong: never a message, which may hold a key.</summary>
    private static string ErrorType(Exception ex) => ex switch
    {
        Storage.ObjectAlreadyExistsException => "already_exists",
        Storage.StorageException { IsTimeout: true } => "timeout",
        Storage.StorageException => "backend",
        Catalog.CatalogUnavailableException => "unavailable",
        OperationCanceledException => "canceled",
        _ => ex.GetType().Name,
    };

    public void Failover(string storageId) => _failovers.Add(1, new KeyValuePair<string, object?>("storage", storageId));

    /// <summary>Each read as it is counted, for the admin's minute-by-minute hour.</summary>
    internal event Action? ReadCounted;

    /// <summary>Each body's bytes as they are counted, for the admin's minute-by-minute hour.</summary>
    internal event Action<long>? BytesCounted;

    public void Read(string mode, string outcome)
    {
        Interlocked.Increment(ref _reads.GetOrAdd((mode, outcome), static _ => new()).Value);
        ReadCounted?.Invoke();
    }

    public void ReadBytes(string mode, long bytes)
    {
        if (bytes > 0)
        {
            Interlocked.Add(ref _readBytes.GetOrAdd(mode, static _ => new()).Value, bytes);
            BytesCounted?.Invoke(bytes);
        }
    }

    public void CatalogCacheHit() => Interlocked.Increment(ref _cacheHits);

    public void CatalogCacheMiss() => Interlocked.Increment(ref _cacheMisses);

    public void AnnouncementFailed(string kind) => _announcementsFailed.Add(1, new KeyValuePair<string, object?>("kind", kind));

    public void DeletionsLeft(long count) => Volatile.Write(ref _deletionsLeft, count);

    public void JanitorRemoved(string kind, long count = 1) => _janitorRemoved.Add(count, new KeyValuePair<string, object?>("kind", kind));
}

using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using EdgeRouter.Admin;
using Microsoft.Extensions.Options;

using EdgeRouter.Serving.Cache;

namespace EdgeRouter.Observability;

/// <summary>
/// The last hour of traffic, minute by minute, for the admin's dashboard, taken from the router's own instruments:
/// ASP.NET Core's <c>http.server.request.duration</c> (requests, 4xx and 5xx, latency), EdgeRouter's uploads, and its
/// reads and bytes served (counted without an instrument's measurement: <see cref="EdgeRouterMetrics.ReadCounted"/>).
/// It listens only while the admin is on, so a router without one pays nothing for it.
/// </summary>
internal sealed class TrafficRecorder : IHostedService, IDisposable
{
    private const string HostingMeter = "Microsoft.AspNetCore.Hosting";
    private const string RequestDuration = "http.server.request.duration";
    private const int Minutes = 60;

    // Latency buckets grow by half each, from 50 µs: a p99 read off them is within 50% of the true one, plenty for a
    // dashboard, and a measurement costs one loop over at most 40 bounds.
    private static readonly double[] BucketBoundsMs = [.. Enumerable.Range(0, 40).Select(i => 0.05 * Math.Pow(1.5, i))];

    private readonly Slot[] _slots = [.. Enumerable.Range(0, Minutes).Select(_ => new Slot())];
    private readonly TimeProvider _timeProvider;
    private readonly IMeterFactory _meters;
    private readonly EdgeRouterMetrics _metrics;
    private readonly bool _enabled;
    private readonly DateTimeOffset _started;
    private readonly OriginCache? _originCache;
    private MeterListener? _listener;

    public TrafficRecorder(IOptions<AdminOptions> admin, IMeterFactory meters, EdgeRouterMetrics metrics, TimeProvider timeProvider, OriginCache? originCache = null)
    {
        _originCache = originCache;
        _timeProvider = timeProvider;
        _meters = meters;
        _metrics = metrics;
        _enabled = admin.Value.Enabled;
        _started = timeProvider.GetUtcNow();
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!_enabled)
        {
            return Task.CompletedTask;
        }

        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                // Only this host's meters (its own factory's): another host in the same process is not this router.
                if (!ReferenceEquals(instrument.Meter.Scope, _meters))
                {
                    return;
                }

                if ((instrument.Meter.Name == HostingMeter && instrument.Name == RequestDuration)
                    || (instrument.Meter.Name == EdgeRouterMetrics.MeterName && instrument.Name == EdgeRouterMetrics.UploadsName))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _listener.SetMeasurementEventCallback<double>(OnDuration);
        _listener.SetMeasurementEventCallback<long>(OnUpload);
        _listener.Start();
        _metrics.ReadCounted += OnRead;
        _metrics.BytesCounted += OnBytes;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _metrics.ReadCounted -= OnRead;
        _metrics.BytesCounted -= OnBytes;
        _listener?.Dispose();
    }

    /// <summary>The last hour, oldest minute first, the current (partial) minute last; minutes before the start are left out.</summary>
    public AdminTraffic Snapshot()
    {
        var now = _timeProvider.GetUtcNow();
        var current = MinuteOf(now);
        var first = Math.Max(current - Minutes + 1, MinuteOf(_started));
        var minutes = new List<AdminTrafficMinute>();
        var uploads = new Dictionary<string, long>(StringComparer.Ordinal);
        for (var minute = first; minute <= current; minute++)
        {
            var slot = _slots[minute % Minutes];
            if (Volatile.Read(ref slot.Minute) != minute)
            {
                minutes.Add(new AdminTrafficMinute(StartOf(minute), 0, 0, 0, 0, 0, null));
                continue;
            }

            minutes.Add(new AdminTrafficMinute(
                StartOf(minute),
                Interlocked.Read(ref slot.Requests),
                Interlocked.Read(ref slot.Reads),
                Interlocked.Read(ref slot.Bytes),
                Interlocked.Read(ref slot.ClientErrors),
                Interlocked.Read(ref slot.ServerErrors),
                Percentile(slot.Latency, 0.99)));
            foreach (var (storage, count) in slot.Uploads)
            {
                uploads[storage] = uploads.GetValueOrDefault(storage) + count;
            }
        }

        // Over the last 60 s: all of the current minute and the part of the previous one that the window still covers.
        var elapsed = (now - StartOf(current)).TotalSeconds;
        var previous = minutes.Count > 1 ? minutes[^2].Reads : 0;
        var window = Math.Clamp((now - _started).TotalSeconds, 1, 60);
        var readsPerSecond = (minutes[^1].Reads + (previous * Math.Max(0, 60 - elapsed) / 60)) / window;
        var cache = _originCache is { CapacityBytes: > 0 } c
            ? new AdminOriginCache(c.Hits, c.Misses, c.ServedBytes, c.FilledBytes, c.Count, c.UsedBytes, c.CapacityBytes)
            : null;
        return new AdminTraffic(minutes, uploads, readsPerSecond, cache);
    }

    private void OnDuration(Instrument instrument, double seconds, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        var slot = Current();
        Interlocked.Increment(ref slot.Requests);
        foreach (var tag in tags)
        {
            if (tag is { Key: "http.response.status_code", Value: int status })
            {
                if (status >= 500)
                {
                    Interlocked.Increment(ref slot.ServerErrors);
                }
                else if (status >= 400)
                {
                    Interlocked.Increment(ref slot.ClientErrors);
                }

                break;
            }
        }

        var ms = seconds * 1000;
        var bucket = 0;
        while (bucket < BucketBoundsMs.Length - 1 && ms > BucketBoundsMs[bucket])
        {
            bucket++;
        }

        Interlocked.Increment(ref slot.Latency[bucket]);
    }

    private void OnRead() => Interlocked.Increment(ref Current().Reads);

    private void OnBytes(long bytes) => Interlocked.Add(ref Current().Bytes, bytes);

    private void OnUpload(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        string? storage = null;
        var stored = false;
        foreach (var tag in tags)
        {
            storage = tag.Key == "storage" ? tag.Value as string : storage;
            stored |= tag is { Key: "outcome", Value: "stored" };
        }

        if (stored && storage is not null)
        {
            Current().Uploads.AddOrUpdate(storage, value, (_, count) => count + value);
        }
    }

    private Slot Current()
    {
        var minute = MinuteOf(_timeProvider.GetUtcNow());
        var slot = _slots[minute % Minutes];
        if (Volatile.Read(ref slot.Minute) != minute)
        {
            lock (slot)
            {
                if (slot.Minute != minute)
                {
                    slot.Reset();
                    Volatile.Write(ref slot.Minute, minute);
                }
            }
        }

        return slot;
    }

    private static double? Percentile(long[] buckets, double quantile)
    {
        var total = buckets.Sum();
        if (total == 0)
        {
            return null;
        }

        var rank = (long)Math.Ceiling(total * quantile);
        long seen = 0;
        for (var i = 0; i < buckets.Length; i++)
        {
            seen += Interlocked.Read(ref buckets[i]);
            if (seen >= rank)
            {
                return BucketBoundsMs[i];
            }
        }

        return BucketBoundsMs[^1];
    }

    private static long MinuteOf(DateTimeOffset time) => time.ToUnixTimeSeconds() / 60;

    private static DateTimeOffset StartOf(long minute) => DateTimeOffset.FromUnixTimeSeconds(minute * 60);

    private sealed class Slot
    {
        public readonly long[] Latency = new long[BucketBoundsMs.Length];
        public readonly ConcurrentDictionary<string, long> Uploads = new(StringComparer.Ordinal);
        public long Minute = -1;
        public long Requests;
        public long Reads;
        public long Bytes;
        public long ClientErrors;
        public long ServerErrors;

        public void Reset()
        {
            Requests = Reads = Bytes = ClientErrors = ServerErrors = 0;
            Array.Clear(Latency);
            Uploads.Clear();
        }
    }
}

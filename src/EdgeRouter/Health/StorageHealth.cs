using EdgeRouter.Caching;
using System.Collections.Concurrent;
using EdgeRouter.Configuration;
using EdgeRouter.Observability;
using Microsoft.Extensions.Options;

namespace EdgeRouter.Health;

/// <summary>What is known of one storage's health.</summary>
public sealed record StorageHealthStatus(bool Healthy, DateTimeOffset? LastChecked, TimeSpan? Latency, string? LastError, int ConsecutiveFailures)
{
    public static readonly StorageHealthStatus Unknown = new(true, null, null, null, 0);
}

/// <summary>
/// Health of each storage, fed by the active probes and by failed writes (passive): placement skips a storage as
/// soon as a write to it fails, and takes it back when a probe succeeds.
/// </summary>
public interface IStorageHealth
{
    /// <summary>A storage never probed counts as healthy, so the router can take uploads right after start.</summary>
    bool IsHealthy(string storageId);

    StorageHealthStatus GetStatus(string storageId);

    void ReportSuccess(string storageId, TimeSpan latency);

    /// <summary>A write failed: the storage is unhealthy at once, so the next upload goes elsewhere.</summary>
    void ReportFailure(string storageId, string message);

    /// <summary>
    /// A probe failed. One slow probe of a busy backend is not an outage: the storage turns unhealthy only after
    /// <see cref="Configuration.HealthOptions.UnhealthyAfterProbeFailures"/> in a row.
    /// </summary>
    void ReportProbeFailure(string storageId, string message);
}

internal sealed partial class StorageHealthTracker : IStorageHealth
{
    private readonly int _probeFailureThreshold;
    private readonly ConcurrentDictionary<string, StorageHealthStatus> _statuses = new(StringComparer.Ordinal);
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<StorageHealthTracker> _logger;
    private readonly IClusterEvents? _events;

    public StorageHealthTracker(TimeProvider timeProvider, IOptions<EdgeRouterOptions> options, ILogger<StorageHealthTracker> logger, IClusterEvents? events = null)
    {
        _timeProvider = timeProvider;
        _logger = logger;
        _probeFailureThreshold = Math.Max(1, options.Value.Health.UnhealthyAfterProbeFailures);
        _events = events;

        // A storage another instance saw fail is taken out here too, rather than each instance failing an upload
        // first; this instance's own probes bring it back.
        if (events is not null)
        {
            events.StorageFailed += (storageId, reason) => Record(storageId, $"reported by another instance: {reason}", threshold: 1);
        }
    }

    public bool IsHealthy(string storageId) => GetStatus(storageId).Healthy;

    public StorageHealthStatus GetStatus(string storageId) => _statuses.GetValueOrDefault(storageId, StorageHealthStatus.Unknown);

    public void ReportSuccess(string storageId, TimeSpan latency)
    {
        var now = _timeProvider.GetUtcNow();
        var previous = GetStatus(storageId);
        _statuses[storageId] = new StorageHealthStatus(true, now, latency, previous.LastError, 0);
        if (!previous.Healthy)
        {
            Log.Recovered(_logger, storageId);
        }
    }

    public void ReportFailure(string storageId, string message)
    {
        if (Record(storageId, message, threshold: 1) && _events is not null)
        {
            _ = _events.PublishStorageFailedAsync(storageId, message).AsTask();
        }
    }

    public void ReportProbeFailure(string storageId, string message) => Record(storageId, message, _probeFailureThreshold);

    /// <summary>Counts a failure; true when it took the storage out.</summary>
    private bool Record(string storageId, string message, int threshold)
    {
        var previous = GetStatus(storageId);
        var failures = previous.ConsecutiveFailures + 1;
        var healthy = previous.Healthy && failures < threshold;
        _statuses[storageId] = new StorageHealthStatus(healthy, _timeProvider.GetUtcNow(), null, message, failures);
        if (previous.Healthy && !healthy)
        {
            Log.Unhealthy(_logger, storageId, message);
            return true;
        }

        return false;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.StorageUnhealthy, Level = LogLevel.Warning, Message = "Storage {StorageId} is unhealthy and receives no uploads: {Error}")]
        public static partial void Unhealthy(ILogger logger, string storageId, string error);

        [LoggerMessage(EventId = EventIds.StorageRecovered, Level = LogLevel.Information, Message = "Storage {StorageId} is healthy again")]
        public static partial void Recovered(ILogger logger, string storageId);
    }
}

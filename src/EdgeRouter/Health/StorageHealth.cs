using System.Collections.Concurrent;
using EdgeRouter.Observability;

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

    void ReportFailure(string storageId, string message);
}

internal sealed partial class StorageHealthTracker(TimeProvider timeProvider, ILogger<StorageHealthTracker> logger) : IStorageHealth
{
    private readonly ConcurrentDictionary<string, StorageHealthStatus> _statuses = new(StringComparer.Ordinal);

    public bool IsHealthy(string storageId) => GetStatus(storageId).Healthy;

    public StorageHealthStatus GetStatus(string storageId) => _statuses.GetValueOrDefault(storageId, StorageHealthStatus.Unknown);

    public void ReportSuccess(string storageId, TimeSpan latency)
    {
        var now = timeProvider.GetUtcNow();
        var previous = GetStatus(storageId);
        _statuses[storageId] = new StorageHealthStatus(true, now, latency, previous.LastError, 0);
        if (!previous.Healthy)
        {
            Log.Recovered(logger, storageId);
        }
    }

    public void ReportFailure(string storageId, string message)
    {
        var now = timeProvider.GetUtcNow();
        var previous = GetStatus(storageId);
        _statuses[storageId] = new StorageHealthStatus(false, now, null, message, previous.ConsecutiveFailures + 1);
        if (previous.Healthy)
        {
            Log.Unhealthy(logger, storageId, message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.StorageUnhealthy, Level = LogLevel.Warning, Message = "Storage {StorageId} is unhealthy and receives no uploads: {Error}")]
        public static partial void Unhealthy(ILogger logger, string storageId, string error);

        [LoggerMessage(EventId = EventIds.StorageRecovered, Level = LogLevel.Information, Message = "Storage {StorageId} is healthy again")]
        public static partial void Recovered(ILogger logger, string storageId);
    }
}

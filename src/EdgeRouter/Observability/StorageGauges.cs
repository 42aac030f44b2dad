using System.Diagnostics.Metrics;
using EdgeRouter.Caching;
using EdgeRouter.Health;
using EdgeRouter.Placement;
using EdgeRouter.Storage;

namespace EdgeRouter.Observability;

/// <summary>
/// Gauges read when a scrape asks, on the <c>EdgeRouter</c> meter: each storage's health, usage and capacity, and
/// whether this instance hears the cluster's change channel. One series per storage id; never a key or a URL.
/// </summary>
internal sealed class StorageGauges
{
    public StorageGauges(IMeterFactory meterFactory, IStorageRegistry registry, IStorageHealth health, StorageUsageTracker usage, IClusterEvents? events = null)
    {
        var meter = meterFactory.Create(EdgeRouterMetrics.MeterName);

        // Usage is read from the catalog once (uploads read it too); until then it has no series rather than zeros.
        _ = usage.EnsureLoadedAsync(CancellationToken.None).AsTask().ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
        meter.CreateObservableGauge("edgerouter.storage.healthy", () => Each(registry.Current.Storages, s => health.IsHealthy(s.Id) ? 1 : 0), "1", "1 while the storage takes uploads by its probes and writes, 0 while it is unhealthy.");
        meter.CreateObservableGauge("edgerouter.storage.used", () => usage.Loaded ? Each(registry.Current.Storages, s => usage.UsageOf(s.Id).Bytes) : [], "By", "Bytes the catalog records on the storage.");
        meter.CreateObservableGauge("edgerouter.storage.objects", () => usage.Loaded ? Each(registry.Current.Storages, s => usage.UsageOf(s.Id).Objects) : [], "{object}", "Objects the catalog records on the storage.");
        meter.CreateObservableGauge("edgerouter.storage.capacity", () => Each(registry.Current.Storages.Where(s => s.Capacity is not null), s => s.Capacity!.Value), "By", "The storage's configured capacity (storages without one have no series).");
        if (events is not null)
        {
            meter.CreateObservableGauge("edgerouter.cluster.channel.up", () => events.IsConnected ? 1 : 0, "1", "1 while this instance hears the change channel (its echo came back within 3 s), 0 while degraded.");
        }
    }

    private static IEnumerable<Measurement<long>> Each(IEnumerable<StorageDefinition> storages, Func<StorageDefinition, long> value)
        => storages.Select(s => new Measurement<long>(value(s), new KeyValuePair<string, object?>("storage", s.Id)));
}

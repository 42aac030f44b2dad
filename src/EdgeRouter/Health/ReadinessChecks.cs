using EdgeRouter.Catalog;
using EdgeRouter.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace EdgeRouter.Health;

/// <summary>Ready when the catalog answers.</summary>
internal sealed class CatalogHealthCheck(IObjectCatalog catalog) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await catalog.PingAsync(cancellationToken);
            return HealthCheckResult.Healthy("The catalog answers.");
        }
        catch (CatalogUnavailableException ex)
        {
            return HealthCheckResult.Unhealthy("The catalog does not answer.", ex);
        }
    }
}

/// <summary>Ready when at least one storage can take uploads (active, weight above 0, healthy).</summary>
internal sealed class StoragesHealthCheck(IStorageRegistry registry, IStorageHealth health) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        var writable = 0;
        foreach (var storage in registry.Current.Storages)
        {
            var status = health.GetStatus(storage.Id);
            var canWrite = storage.Active && storage.Weight > 0 && status.Healthy;
            writable += canWrite ? 1 : 0;
            data[storage.Id] = status.Healthy ? (canWrite ? "writable" : "healthy, not taking uploads") : $"unhealthy: {status.LastError}";
        }

        return Task.FromResult(writable > 0
            ? HealthCheckResult.Healthy($"{writable} storage(s) take uploads.", data)
            : HealthCheckResult.Unhealthy("No storage can take uploads.", data: data));
    }
}

using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace EdgeRouter.Caching.Redis;

/// <summary>
/// Redis in <c>/readyz</c>: degraded, not unhealthy, when it is down, because reads and uploads go on from the
/// database (with short-lived cache entries); the detail says so.
/// </summary>
internal sealed class ClusterEventsHealthCheck(IClusterEvents events) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        => Task.FromResult(events.IsConnected
            ? HealthCheckResult.Healthy("Redis connected: shared cache and change notices on.")
            : HealthCheckResult.Degraded("Redis unreachable: serving from the database with short-lived cache entries; reconnecting."));
}

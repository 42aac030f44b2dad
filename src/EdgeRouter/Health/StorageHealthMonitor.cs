using EdgeRouter.Configuration;
using EdgeRouter.Storage;
using Microsoft.Extensions.Options;

namespace EdgeRouter.Health;

/// <summary>Probes every storage at start and then every <see cref="HealthOptions.ProbeInterval"/>.</summary>
internal sealed class StorageHealthMonitor(
    IStorageRegistry registry,
    IStorageHealth health,
    IOptions<EdgeRouterOptions> options,
    TimeProvider timeProvider) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value.Health;
        while (!stoppingToken.IsCancellationRequested)
        {
            await ProbeAllAsync(settings.ProbeTimeout, stoppingToken);
            try
            {
                await Task.Delay(settings.ProbeInterval, timeProvider, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Probes each storage once, in parallel, and records the outcome.</summary>
    public Task ProbeAllAsync(TimeSpan timeout, CancellationToken cancellationToken)
        => Task.WhenAll(registry.Current.Storages.Select(storage => ProbeAsync(storage, timeout, cancellationToken)));

    private async Task ProbeAsync(StorageDefinition storage, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        var started = timeProvider.GetTimestamp();
        try
        {
            await storage.Store.ProbeAsync(cts.Token);
            health.ReportSuccess(storage.Id, timeProvider.GetElapsedTime(started));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            health.ReportProbeFailure(storage.Id, $"The probe did not finish within {timeout.TotalSeconds:0.#} s.");
        }
        catch (StorageException ex)
        {
            health.ReportProbeFailure(storage.Id, ex.Message);
        }
    }
}

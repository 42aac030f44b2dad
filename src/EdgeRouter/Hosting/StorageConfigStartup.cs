using EdgeRouter.Configuration;

namespace EdgeRouter.Hosting;

/// <summary>
/// Makes the host build the <see cref="StorageConfigManager"/> while it starts: its constructor loads storages.json
/// and throws with every problem listed, so a bad file stops the host instead of the first request.
/// </summary>
internal sealed class StorageConfigStartup(StorageConfigManager manager) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.FromResult(manager.Current);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

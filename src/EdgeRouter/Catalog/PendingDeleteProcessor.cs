using EdgeRouter.Observability;
using EdgeRouter.Storage;
using EdgeRouter.Uploads;

namespace EdgeRouter.Catalog;

/// <summary>
/// Deletes objects the catalog has let go of. The catalog queues each one in the same transaction that forgets
/// it, so a failed or interrupted delete is retried here until the storage confirms; no object is forgotten.
/// </summary>
internal sealed partial class PendingDeleteProcessor(
    IObjectCatalog catalog,
    IStorageRegistry registry,
    KeyLocks keyLocks,
    TimeProvider timeProvider,
    ILogger<PendingDeleteProcessor> logger) : BackgroundService
{
    private static readonly TimeSpan SweepInterval = TimeSpan.FromMinutes(1);

    /// <summary>Deletes one queued object now. The caller holds the key's lock.</summary>
    public async Task<bool> TryDeleteAsync(PendingDelete pending, CancellationToken cancellationToken)
    {
        // Past the cache: another instance may have just written the key to this storage again.
        var current = await catalog.FindCurrentAsync(pending.Key, cancellationToken);
        if (current?.StorageId == pending.StorageId)
        {
            // The key was written to the same storage again since: the object there is live.
            await catalog.CompletePendingDeleteAsync(pending, cancellationToken);
            return true;
        }

        if (!registry.Current.ById.TryGetValue(pending.StorageId, out var storage))
        {
            Log.StorageGone(logger, pending.StorageId, pending.Key);
            return false;
        }

        try
        {
            await storage.Store.DeleteAsync(pending.Key, cancellationToken);
            await catalog.CompletePendingDeleteAsync(pending, cancellationToken);
            return true;
        }
        catch (Exception ex) when (ex is StorageException or CatalogUnavailableException)
        {
            Log.DeleteFailed(logger, pending.StorageId, pending.Key, ex.Message);
            return false;
        }
    }

    /// <summary>Works through the queue once.</summary>
    public async Task SweepAsync(CancellationToken cancellationToken)
    {
        foreach (var pending in await catalog.GetPendingDeletesAsync(500, cancellationToken))
        {
            await using (await keyLocks.AcquireAsync(pending.Key, cancellationToken))
            {
                await TryDeleteAsync(pending, cancellationToken);
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SweepAsync(stoppingToken);
                await Task.Delay(SweepInterval, timeProvider, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (CatalogUnavailableException ex)
            {
                Log.DeleteFailed(logger, "*", "*", ex.Message);
                await Task.Delay(SweepInterval, timeProvider, stoppingToken);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.PendingDeleteFailed, Level = LogLevel.Warning, Message = "Could not delete {Key} from storage {StorageId}; it stays queued and will be retried: {Error}")]
        public static partial void DeleteFailed(ILogger logger, string storageId, string key, string error);

        [LoggerMessage(EventId = EventIds.PendingDeleteStorageGone, Level = LogLevel.Warning, Message = "Storage {StorageId} is no longer configured; {Key} stays queued for deletion until it is")]
        public static partial void StorageGone(ILogger logger, string storageId, string key);
    }
}

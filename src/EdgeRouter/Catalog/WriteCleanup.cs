using EdgeRouter.Observability;
using EdgeRouter.Storage;

namespace EdgeRouter.Catalog;

/// <summary>
/// Undoes a write to a claimed location that will not be committed (an upload that failed or lost, a job's copy that
/// lost to a newer version): what it wrote, then its intent. Whatever cannot be done now is left to the janitor, which
/// finds the intent once it expires.
/// </summary>
public sealed partial class WriteCleanup(IObjectCatalog catalog, ILogger<WriteCleanup> logger)
{
    /// <summary>
    /// Removes what was written at the intent's location, then the intent. The intent is checked first: if it is gone,
    /// a commit took it after all (its answer was lost), and the object is live.
    /// </summary>
    public async Task AbandonAsync(StorageDefinition storage, UploadIntent intent)
    {
        try
        {
            if (!await catalog.HasIntentAsync(intent, CancellationToken.None))
            {
                return;
            }

            await storage.Store.AbortWriteAsync(intent.Location, CancellationToken.None);
            await catalog.EndUploadAsync(intent, CancellationToken.None);
        }
        catch (Exception ex) when (ex is StorageException or CatalogUnavailableException)
        {
            Log.OrphanCleanupFailed(logger, storage.Id, intent.Location, ex.Message);
        }
    }

    /// <summary>Forgets an intent under which nothing was written.</summary>
    public async Task EndIntentAsync(UploadIntent intent)
    {
        try
        {
            await catalog.EndUploadAsync(intent, CancellationToken.None);
        }
        catch (CatalogUnavailableException ex)
        {
            Log.OrphanCleanupFailed(logger, intent.StorageId, intent.Location, ex.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.OrphanCleanupFailed, Level = LogLevel.Warning, Message = "Could not remove {Key} from storage {StorageId} after a failed write; the janitor will once its intent expires: {Error}")]
        public static partial void OrphanCleanupFailed(ILogger logger, string storageId, string key, string error);
    }
}

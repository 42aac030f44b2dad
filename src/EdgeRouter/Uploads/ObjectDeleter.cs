using EdgeRouter.Catalog;
using EdgeRouter.Observability;
using EdgeRouter.Placement;

namespace EdgeRouter.Uploads;

/// <summary>
/// Deletes an object for the public API and the admin alike: the record first, so readers see 404 at once, with its
/// location queued for removal after the delete grace (a redirect a cache still holds keeps resolving), or at once
/// when asked (a takedown). Nothing waits for an upload of the key still streaming: that upload loses at its commit.
/// </summary>
internal sealed partial class ObjectDeleter(IObjectCatalog catalog, StorageUsageTracker usage, CatalogJanitor janitor, ILogger<ObjectDeleter> logger)
{
    /// <returns>The record that was deleted, or null when no object has <paramref name="key"/>.</returns>
    public async Task<ObjectRecord?> DeleteAsync(string key, bool immediate, CancellationToken cancellationToken)
    {
        // The cached record may be a version another instance has replaced since: then ask the database itself.
        var record = await catalog.FindAsync(key, cancellationToken);
        for (var attempt = 0; record is not null; attempt++)
        {
            if (await catalog.RemoveAsync(record, immediate, cancellationToken))
            {
                usage.Remove(record.StorageId, record.Size);
                if (immediate)
                {
                    await janitor.TryDeleteAsync(new PendingDelete(record.StorageId, record.Location), CancellationToken.None);
                }

                Log.Deleted(logger, key, record.StorageId);
                return record;
            }

            if (attempt == 3)
            {
                break;
            }

            record = await catalog.FindCurrentAsync(key, cancellationToken);
        }

        return null;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.ObjectDeleted, Level = LogLevel.Information, Message = "Deleted {Key} (was on {StorageId})")]
        public static partial void Deleted(ILogger logger, string key, string storageId);
    }
}

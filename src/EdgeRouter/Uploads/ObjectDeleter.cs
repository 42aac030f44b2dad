using EdgeRouter.Catalog;
using EdgeRouter.Observability;
using EdgeRouter.Placement;

namespace EdgeRouter.Uploads;

/// <summary>
/// Deletes an object for the public API and the admin alike: the catalog entry first, under the key's lock, so readers
/// see 404 at once; then the object, now or, failing that, by the pending-delete sweeper. Nothing is orphaned.
/// </summary>
internal sealed partial class ObjectDeleter(IObjectCatalog catalog, KeyLocks keyLocks, StorageUsageTracker usage, PendingDeleteProcessor deletes, ILogger<ObjectDeleter> logger)
{
    /// <returns>The record that was deleted, or null when no object has <paramref name="key"/>.</returns>
    public async Task<ObjectRecord?> DeleteAsync(string key, CancellationToken cancellationToken)
    {
        await using (await keyLocks.AcquireAsync(key, cancellationToken))
        {
            var record = await catalog.FindAsync(key, cancellationToken);
            if (record is null || !await catalog.RemoveAsync(record, cancellationToken))
            {
                return null;
            }

            usage.Remove(record.StorageId, record.Size);
            await deletes.TryDeleteAsync(new PendingDelete(record.StorageId, record.Key), CancellationToken.None);
            Log.Deleted(logger, key, record.StorageId);
            return record;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.ObjectDeleted, Level = LogLevel.Information, Message = "Deleted {Key} (was on {StorageId})")]
        public static partial void Deleted(ILogger logger, string key, string storageId);
    }
}

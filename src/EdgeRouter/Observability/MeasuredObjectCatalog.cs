using System.Diagnostics;
using EdgeRouter.Catalog;

namespace EdgeRouter.Observability;

/// <summary>
/// Times each query to the catalog's database (<c>edgerouter.catalog.query.duration</c>, by operation and error
/// type). It sits under the cache, so the lookups answered from memory are not counted as queries.
/// </summary>
internal sealed class MeasuredObjectCatalog(IObjectCatalog inner, EdgeRouterMetrics metrics) : IObjectCatalog
{
    // Only a lookup the cache could not answer comes here.
    public ValueTask<ObjectRecord?> FindAsync(string key, CancellationToken cancellationToken)
        => new(metrics.TimeCatalogQueryAsync("find", Stopwatch.GetTimestamp(), inner.FindAsync(key, cancellationToken).AsTask()));

    public Task<bool> TryBeginUploadAsync(UploadIntent intent, CancellationToken cancellationToken)
        => metrics.TimeCatalogQueryAsync("begin_upload", Stopwatch.GetTimestamp(), inner.TryBeginUploadAsync(intent, cancellationToken));

    public Task<bool> HasIntentAsync(UploadIntent intent, CancellationToken cancellationToken)
        => metrics.TimeCatalogQueryAsync("has_intent", Stopwatch.GetTimestamp(), inner.HasIntentAsync(intent, cancellationToken));

    public Task EndUploadAsync(UploadIntent intent, CancellationToken cancellationToken)
        => metrics.TimeCatalogQueryAsync("end_upload", Stopwatch.GetTimestamp(), EdgeRouterMetrics.Completion(inner.EndUploadAsync(intent, cancellationToken)));

    public Task<IReadOnlyList<UploadIntent>> GetExpiredIntentsAsync(DateTimeOffset expiredBefore, int limit, CancellationToken cancellationToken)
        => metrics.TimeCatalogQueryAsync("expired_intents", Stopwatch.GetTimestamp(), inner.GetExpiredIntentsAsync(expiredBefore, limit, cancellationToken));

    public Task<CatalogWriteResult> AddAsync(ObjectRecord record, bool overwrite, Cdn.PurgeRequest? notify, CancellationToken cancellationToken)
        => metrics.TimeCatalogQueryAsync("commit", Stopwatch.GetTimestamp(), inner.AddAsync(record, overwrite, notify, cancellationToken));

    public Task<bool> RemoveAsync(ObjectRecord expected, bool immediate, CancellationToken cancellationToken)
        => metrics.TimeCatalogQueryAsync("remove", Stopwatch.GetTimestamp(), inner.RemoveAsync(expected, immediate, cancellationToken));

    public Task<IReadOnlyList<PendingDelete>> GetPendingDeletesAsync(int limit, CancellationToken cancellationToken)
        => metrics.TimeCatalogQueryAsync("pending_deletes", Stopwatch.GetTimestamp(), inner.GetPendingDeletesAsync(limit, cancellationToken));

    public Task CompletePendingDeleteAsync(PendingDelete pending, CancellationToken cancellationToken)
        => metrics.TimeCatalogQueryAsync("complete_delete", Stopwatch.GetTimestamp(), EdgeRouterMetrics.Completion(inner.CompletePendingDeleteAsync(pending, cancellationToken)));

    public ValueTask<IAsyncDisposable?> TryLockMaintenanceAsync(CancellationToken cancellationToken) => inner.TryLockMaintenanceAsync(cancellationToken);

    public Task<IReadOnlyDictionary<string, StorageUsage>> GetUsageAsync(CancellationToken cancellationToken)
        => metrics.TimeCatalogQueryAsync("usage", Stopwatch.GetTimestamp(), inner.GetUsageAsync(cancellationToken));

    public Task<IReadOnlyList<ObjectRecord>> ListAsync(string prefix, string? after, int limit, CancellationToken cancellationToken)
        => metrics.TimeCatalogQueryAsync("list", Stopwatch.GetTimestamp(), inner.ListAsync(prefix, after, limit, cancellationToken));

    public Task PingAsync(CancellationToken cancellationToken) => metrics.TimeCatalogQueryAsync("ping", Stopwatch.GetTimestamp(), EdgeRouterMetrics.Completion(inner.PingAsync(cancellationToken)));

    public Task<bool> AdoptAsync(ObjectRecord record, CancellationToken cancellationToken)
        => metrics.TimeCatalogQueryAsync("adopt", Stopwatch.GetTimestamp(), inner.AdoptAsync(record, cancellationToken));

    public Task<bool> RecordHashAsync(ObjectRecord expected, string sha256, CancellationToken cancellationToken)
        => metrics.TimeCatalogQueryAsync("record-hash", Stopwatch.GetTimestamp(), inner.RecordHashAsync(expected, sha256, cancellationToken));

    public Task<IReadOnlyList<bool>> RelocateManyAsync(IReadOnlyList<Relocation> relocations, CancellationToken cancellationToken)
        => metrics.TimeCatalogQueryAsync("relocate", Stopwatch.GetTimestamp(), inner.RelocateManyAsync(relocations, cancellationToken));

    public Task<IReadOnlyList<bool>> TryBeginUploadsAsync(IReadOnlyList<UploadIntent> intents, CancellationToken cancellationToken)
        => metrics.TimeCatalogQueryAsync("begin_uploads", Stopwatch.GetTimestamp(), inner.TryBeginUploadsAsync(intents, cancellationToken));

    public Task<IReadOnlyList<ObjectRecord>> ListStoredAsync(string storageId, string prefix, string? after, int limit, CancellationToken cancellationToken)
        => metrics.TimeCatalogQueryAsync("list_stored", Stopwatch.GetTimestamp(), inner.ListStoredAsync(storageId, prefix, after, limit, cancellationToken));

    public Task<IReadOnlyDictionary<string, ObjectRecord?>> FindLocationsAsync(string storageId, IReadOnlyCollection<string> locations, CancellationToken cancellationToken)
        => metrics.TimeCatalogQueryAsync("find_locations", Stopwatch.GetTimestamp(), inner.FindLocationsAsync(storageId, locations, cancellationToken));

    public Task<bool> QueueOrphanAsync(string storageId, string location, CancellationToken cancellationToken)
        => metrics.TimeCatalogQueryAsync("queue_orphan", Stopwatch.GetTimestamp(), inner.QueueOrphanAsync(storageId, location, cancellationToken));

    public Task<IReadOnlyList<PendingDelete>> FindFormerLocationsAsync(string key, CancellationToken cancellationToken)
        => metrics.TimeCatalogQueryAsync("former_locations", Stopwatch.GetTimestamp(), inner.FindFormerLocationsAsync(key, cancellationToken));
}

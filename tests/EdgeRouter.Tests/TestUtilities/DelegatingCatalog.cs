using EdgeRouter.Catalog;

namespace EdgeRouter.Tests.TestUtilities;

/// <summary>A catalog that passes every call to <c>inner</c>; a test double overrides only the call it changes.</summary>
internal abstract class DelegatingCatalog(IObjectCatalog inner) : IObjectCatalog
{
    public virtual ValueTask<ObjectRecord?> FindAsync(string key, CancellationToken cancellationToken) => inner.FindAsync(key, cancellationToken);

    public virtual ValueTask<ObjectRecord?> FindCurrentAsync(string key, CancellationToken cancellationToken) => inner.FindCurrentAsync(key, cancellationToken);

    public virtual Task<bool> TryBeginUploadAsync(UploadIntent intent, CancellationToken cancellationToken) => inner.TryBeginUploadAsync(intent, cancellationToken);

    public virtual Task<bool> HasIntentAsync(UploadIntent intent, CancellationToken cancellationToken) => inner.HasIntentAsync(intent, cancellationToken);

    public virtual Task EndUploadAsync(UploadIntent intent, CancellationToken cancellationToken) => inner.EndUploadAsync(intent, cancellationToken);

    public virtual Task<IReadOnlyList<UploadIntent>> GetExpiredIntentsAsync(DateTimeOffset expiredBefore, int limit, CancellationToken cancellationToken)
        => inner.GetExpiredIntentsAsync(expiredBefore, limit, cancellationToken);

    public virtual Task<CatalogWriteResult> AddAsync(ObjectRecord record, bool overwrite, EdgeRouter.Cdn.PurgeRequest? notify, CancellationToken cancellationToken) => inner.AddAsync(record, overwrite, notify, cancellationToken);

    public virtual Task<bool> RemoveAsync(ObjectRecord expected, bool immediate, CancellationToken cancellationToken) => inner.RemoveAsync(expected, immediate, cancellationToken);

    public virtual Task<IReadOnlyList<PendingDelete>> GetPendingDeletesAsync(int limit, CancellationToken cancellationToken) => inner.GetPendingDeletesAsync(limit, cancellationToken);

    public virtual Task CompletePendingDeleteAsync(PendingDelete pending, CancellationToken cancellationToken) => inner.CompletePendingDeleteAsync(pending, cancellationToken);

    public virtual ValueTask<IAsyncDisposable?> TryLockMaintenanceAsync(CancellationToken cancellationToken) => inner.TryLockMaintenanceAsync(cancellationToken);

    public virtual Task<IReadOnlyDictionary<string, StorageUsage>> GetUsageAsync(CancellationToken cancellationToken) => inner.GetUsageAsync(cancellationToken);

    public virtual Task<IReadOnlyList<ObjectRecord>> ListAsync(string prefix, string? after, int limit, CancellationToken cancellationToken)
        => inner.ListAsync(prefix, after, limit, cancellationToken);

    public virtual Task PingAsync(CancellationToken cancellationToken) => inner.PingAsync(cancellationToken);

    public virtual Task<bool> AdoptAsync(ObjectRecord record, CancellationToken cancellationToken) => inner.AdoptAsync(record, cancellationToken);

    public virtual Task<bool> RecordHashAsync(ObjectRecord expected, string sha256, CancellationToken cancellationToken) => inner.RecordHashAsync(expected, sha256, cancellationToken);

    public virtual Task<IReadOnlyList<bool>> RelocateManyAsync(IReadOnlyList<Relocation> relocations, CancellationToken cancellationToken) => inner.RelocateManyAsync(relocations, cancellationToken);

    public virtual Task<IReadOnlyList<bool>> TryBeginUploadsAsync(IReadOnlyList<UploadIntent> intents, CancellationToken cancellationToken) => inner.TryBeginUploadsAsync(intents, cancellationToken);

    public virtual Task<IReadOnlyList<ObjectRecord>> ListStoredAsync(string storageId, string prefix, string? after, int limit, CancellationToken cancellationToken)
        => inner.ListStoredAsync(storageId, prefix, after, limit, cancellationToken);

    public virtual Task<IReadOnlyDictionary<string, ObjectRecord?>> FindLocationsAsync(string storageId, IReadOnlyCollection<string> locations, CancellationToken cancellationToken)
        => inner.FindLocationsAsync(storageId, locations, cancellationToken);

    public virtual Task<bool> QueueOrphanAsync(string storageId, string location, CancellationToken cancellationToken) => inner.QueueOrphanAsync(storageId, location, cancellationToken);

    public virtual Task<IReadOnlyList<PendingDelete>> FindFormerLocationsAsync(string key, CancellationToken cancellationToken) => inner.FindFormerLocationsAsync(key, cancellationToken);
}

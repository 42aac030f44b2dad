using System.Collections.Concurrent;
using EdgeRouter.Catalog;

namespace EdgeRouter.Tests.TestUtilities;

/// <summary>A catalog in memory that counts its lookups, to see what a cache in front of it spares the database.</summary>
internal sealed class CountingCatalog : IObjectCatalog
{
    public ConcurrentDictionary<string, ObjectRecord> Records { get; } = new();

    private int _finds;

    public int Finds => Volatile.Read(ref _finds);

    public ValueTask<ObjectRecord?> FindAsync(string key, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _finds);
        return ValueTask.FromResult(Records.GetValueOrDefault(key));
    }

    public Task<CatalogWriteResult> AddAsync(ObjectRecord record, bool overwrite, EdgeRouter.Cdn.PurgeRequest? notify, CancellationToken cancellationToken)
    {
        Records[record.Key] = record;
        return Task.FromResult(new CatalogWriteResult(CatalogWriteOutcome.Added, null));
    }

    public Task<bool> RemoveAsync(ObjectRecord expected, bool immediate, CancellationToken cancellationToken) => Task.FromResult(Records.TryRemove(expected.Key, out _));

    public Task<bool> TryBeginUploadAsync(UploadIntent intent, CancellationToken cancellationToken) => Task.FromResult(true);

    public Task<bool> HasIntentAsync(UploadIntent intent, CancellationToken cancellationToken) => Task.FromResult(false);

    public Task EndUploadAsync(UploadIntent intent, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<IReadOnlyList<UploadIntent>> GetExpiredIntentsAsync(DateTimeOffset expiredBefore, int limit, CancellationToken cancellationToken)
        => Task.FromResult<IReadOnlyList<UploadIntent>>([]);

    public ValueTask<IAsyncDisposable?> TryLockMaintenanceAsync(CancellationToken cancellationToken) => ValueTask.FromResult<IAsyncDisposable?>(null);

    public Task<IReadOnlyList<PendingDelete>> GetPendingDeletesAsync(int limit, CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<PendingDelete>>([]);

    public Task CompletePendingDeleteAsync(PendingDelete pending, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<IReadOnlyDictionary<string, StorageUsage>> GetUsageAsync(CancellationToken cancellationToken) => Task.FromResult<IReadOnlyDictionary<string, StorageUsage>>(new Dictionary<string, StorageUsage>());

    public Task<IReadOnlyList<ObjectRecord>> ListAsync(string prefix, string? after, int limit, CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<ObjectRecord>>([]);

    public Task PingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<bool> AdoptAsync(ObjectRecord record, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<bool> RecordHashAsync(ObjectRecord expected, string sha256, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<IReadOnlyList<bool>> RelocateManyAsync(IReadOnlyList<Relocation> relocations, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<IReadOnlyList<bool>> TryBeginUploadsAsync(IReadOnlyList<UploadIntent> intents, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<IReadOnlyList<ObjectRecord>> ListStoredAsync(string storageId, string prefix, string? after, int limit, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<IReadOnlyDictionary<string, ObjectRecord?>> FindLocationsAsync(string storageId, IReadOnlyCollection<string> locations, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<bool> QueueOrphanAsync(string storageId, string location, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<IReadOnlyList<PendingDelete>> FindFormerLocationsAsync(string key, CancellationToken cancellationToken) => throw new NotSupportedException();
}

using System.Diagnostics;
using EdgeRouter.Storage;

namespace EdgeRouter.Observability;

/// <summary>
/// Times each call to a storage's backend (<c>edgerouter.storage.operation.duration</c>, by storage, operation and
/// error type). Every storage in force is wrapped in one; what else a store can do (signed URLs, files on this
/// machine, disposal) is reached through <see cref="ObjectStoreCapabilities.As{T}"/>.
/// </summary>
internal sealed class MeasuredObjectStore(IObjectStore inner, string storageId, EdgeRouterMetrics metrics) : IObjectStore, IObjectStoreDecorator
{
    public IObjectStore Inner => inner;

    public Task<StoredObject> PutAsync(string key, Stream content, ObjectWriteOptions options, CancellationToken cancellationToken)
        => metrics.TimeStorageOperationAsync(storageId, "put", Stopwatch.GetTimestamp(), inner.PutAsync(key, content, options, cancellationToken));

    /// <summary>Timed until the object is open (its first byte, for most APIs); the body's transfer is the read's.</summary>
    public Task<ObjectContent?> OpenReadAsync(string key, ByteRange? range, CancellationToken cancellationToken)
        => metrics.TimeStorageOperationAsync(storageId, "read", Stopwatch.GetTimestamp(), inner.OpenReadAsync(key, range, cancellationToken));

    public Task<ObjectStat?> StatAsync(string key, CancellationToken cancellationToken)
        => metrics.TimeStorageOperationAsync(storageId, "stat", Stopwatch.GetTimestamp(), inner.StatAsync(key, cancellationToken));

    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken)
        => metrics.TimeStorageOperationAsync(storageId, "delete", Stopwatch.GetTimestamp(), inner.DeleteAsync(key, cancellationToken));

    public Task AbortWriteAsync(string key, CancellationToken cancellationToken)
        => metrics.TimeStorageOperationAsync(storageId, "delete", Stopwatch.GetTimestamp(), EdgeRouterMetrics.Completion(inner.AbortWriteAsync(key, cancellationToken)));

    public IAsyncEnumerable<ListedObject> ListAsync(string prefix, string? startAfter, CancellationToken cancellationToken)
        => inner.ListAsync(prefix, startAfter, cancellationToken);

    public bool AsksBeforeCreate => inner.AsksBeforeCreate;

    public Task FlushAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken) => inner.FlushAsync(keys, cancellationToken);

    public Task ProbeAsync(CancellationToken cancellationToken)
        => metrics.TimeStorageOperationAsync(storageId, "probe", Stopwatch.GetTimestamp(), EdgeRouterMetrics.Completion(inner.ProbeAsync(cancellationToken)));
}

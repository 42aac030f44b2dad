namespace EdgeRouter.Catalog;

/// <summary>Which storage owns a key, and what was stored there.</summary>
public sealed record ObjectRecord(string Key, string StorageId, long Size, string ContentType, string Sha256, DateTimeOffset CreatedAt)
{
    /// <summary>Strong ETag derived from the content hash, so every instance and backend agrees on it.</summary>
    public string ETag { get; } = string.Concat("\"", Sha256, "\"");

    /// <summary>The Last-Modified value (HTTP dates have whole seconds), formatted once per record rather than per read.</summary>
    public string LastModifiedHeader { get; } = CreatedAt.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>An object to delete from a storage; kept until the storage confirms, so no object is ever forgotten.</summary>
public readonly record struct PendingDelete(string StorageId, string Key);

/// <summary>Bytes and objects a storage holds, as the catalog counts them.</summary>
public readonly record struct StorageUsage(long Bytes, long Objects);

public enum CatalogWriteOutcome
{
    Added,
    Replaced,
    Conflict,
}

/// <summary>The outcome of <see cref="IObjectCatalog.AddAsync"/>; <see cref="Previous"/> is the record that was replaced or that conflicted.</summary>
public readonly record struct CatalogWriteResult(CatalogWriteOutcome Outcome, ObjectRecord? Previous);

/// <summary>
/// The object catalog: the one truth about which storage owns each key. SQLite is the embedded default;
/// a shared database plugs in here when several instances run.
/// </summary>
public interface IObjectCatalog
{
    ValueTask<ObjectRecord?> FindAsync(string key, CancellationToken cancellationToken);

    /// <summary>
    /// The record as the database has it now, past any cache: for a decision that must not act on a stale answer
    /// (deleting an object the catalog may have just been given again).
    /// </summary>
    ValueTask<ObjectRecord?> FindCurrentAsync(string key, CancellationToken cancellationToken) => FindAsync(key, cancellationToken);

    /// <summary>
    /// Adds the record, or replaces an existing one when <paramref name="overwrite"/> is set, atomically with the
    /// usage counts. A replaced object on another storage is queued for deletion in the same transaction.
    /// </summary>
    Task<CatalogWriteResult> AddAsync(ObjectRecord record, bool overwrite, CancellationToken cancellationToken);

    /// <summary>
    /// Removes the key if it is still owned as <paramref name="expected"/> says (same storage and hash) and queues
    /// its object for deletion in the same transaction; returns whether it did.
    /// </summary>
    Task<bool> RemoveAsync(ObjectRecord expected, CancellationToken cancellationToken);

    /// <summary>Objects the catalog no longer names but that may still exist on their storage.</summary>
    Task<IReadOnlyList<PendingDelete>> GetPendingDeletesAsync(int limit, CancellationToken cancellationToken);

    /// <summary>Marks a queued deletion done, once the storage confirmed the object is gone.</summary>
    Task CompletePendingDeleteAsync(PendingDelete pending, CancellationToken cancellationToken);

    /// <summary>Usage per storage id, derived from the records.</summary>
    Task<IReadOnlyDictionary<string, StorageUsage>> GetUsageAsync(CancellationToken cancellationToken);

    /// <summary>Keys in order, starting after <paramref name="after"/>, that begin with <paramref name="prefix"/>.</summary>
    Task<IReadOnlyList<ObjectRecord>> ListAsync(string prefix, string? after, int limit, CancellationToken cancellationToken);

    /// <summary>Throws when the catalog cannot be reached.</summary>
    Task PingAsync(CancellationToken cancellationToken);
}

/// <summary>The catalog could not be reached or could not commit.</summary>
public sealed class CatalogUnavailableException : Exception
{
    public CatalogUnavailableException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    public CatalogUnavailableException()
    {
    }

    public CatalogUnavailableException(string message)
        : base(message)
    {
    }
}

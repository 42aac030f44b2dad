namespace EdgeRouter.Catalog;

/// <summary>Which storage owns a key, where on it the bytes are, and what they are.</summary>
public sealed record ObjectRecord(string Key, string StorageId, long Size, string ContentType, string Sha256, DateTimeOffset CreatedAt)
{
    /// <summary>
    /// The object's name on its storage. The first write of a key uses the key itself; a replacement is written to a
    /// new location, so bytes a record names are never modified while it names them.
    /// </summary>
    public string Location { get; init; } = Key;

    /// <summary>
    /// True for an object imported without reading it (<c>"hash": false</c>): its SHA-256 is recorded on its first
    /// whole stream or by a deep verify (<see cref="IObjectCatalog.RecordHashAsync"/>).
    /// </summary>
    public bool HashPending => Sha256.Length == 0;

    /// <summary>
    /// Strong ETag derived from the content hash, so every instance and backend agrees on it. Until the hash is known it
    /// is derived from what names these bytes (storage, location, size, time), which never change while the record names them.
    /// </summary>
    public string ETag => Sha256.Length == 0 ? PendingTag(StorageId, Location, Size, CreatedAt) : _hashTag;

    private readonly string _hashTag = string.Concat("\"", Sha256, "\"");

    /// <summary>The Last-Modified value (HTTP dates have whole seconds), formatted once per record rather than per read.</summary>
    public string LastModifiedHeader { get; } = CreatedAt.ToString("R", System.Globalization.CultureInfo.InvariantCulture);

    private static string PendingTag(string storageId, string location, long size, DateTimeOffset createdAt)
    {
        var named = string.Join('\n', storageId, location, size.ToString(System.Globalization.CultureInfo.InvariantCulture), createdAt.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
        return "\"u-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(named)), 0, 16) + "\"";
    }
}

/// <summary>A location to delete from a storage once due; kept until the storage confirms, so no object is ever forgotten.</summary>
public readonly record struct PendingDelete(string StorageId, string Location);

/// <summary>
/// An upload's claim on a location, recorded before any byte is written there: its commit turns it into the record;
/// if it expires instead (a crash, a lost commit), the janitor deletes whatever was written at the location.
/// </summary>
public readonly record struct UploadIntent(string StorageId, string Location, string Key, DateTimeOffset ExpiresAt);

/// <summary>A record to switch to a copy of its bytes, if it is still <see cref="Expected"/> (see <see cref="IObjectCatalog.RelocateAsync"/>).</summary>
public readonly record struct Relocation(ObjectRecord Expected, UploadIntent Copy);

/// <summary>Bytes and objects a storage holds, as the catalog counts them.</summary>
public readonly record struct StorageUsage(long Bytes, long Objects);

public enum CatalogWriteOutcome
{
    Added,
    Replaced,
    Conflict,

    /// <summary>The upload's intent is gone: a delete of the key came in while it streamed, or it outlived its expiry.</summary>
    Abandoned,
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
    /// Records <paramref name="intent"/> unless its location is taken: named by a record, a queued deletion or
    /// another intent. False means taken; the caller picks another location.
    /// </summary>
    Task<bool> TryBeginUploadAsync(UploadIntent intent, CancellationToken cancellationToken);

    /// <summary><see cref="TryBeginUploadAsync"/> for many intents in one transaction (a job's page of copies); true where recorded.</summary>
    Task<IReadOnlyList<bool>> TryBeginUploadsAsync(IReadOnlyList<UploadIntent> intents, CancellationToken cancellationToken);

    /// <summary>Whether the intent is still recorded (so no record was committed from it).</summary>
    Task<bool> HasIntentAsync(UploadIntent intent, CancellationToken cancellationToken);

    /// <summary>Forgets the intent, once whatever it wrote has been deleted.</summary>
    Task EndUploadAsync(UploadIntent intent, CancellationToken cancellationToken);

    /// <summary>Intents that expired before <paramref name="expiredBefore"/>: what a crash or a lost commit left.</summary>
    Task<IReadOnlyList<UploadIntent>> GetExpiredIntentsAsync(DateTimeOffset expiredBefore, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Commits the upload of <paramref name="record"/> (at its <see cref="ObjectRecord.Location"/>, under the intent
    /// recorded for it) in one transaction: the intent becomes the record, adding it, or replacing an existing one
    /// when <paramref name="overwrite"/> is set, whose location is queued for deletion after the delete grace.
    /// <see cref="CatalogWriteOutcome.Abandoned"/> when the intent is gone, expired, or was cancelled by a delete.
    /// <paramref name="notify"/>, when given (an upload token's completion callback), goes to the outbox in the same
    /// transaction, so a committed upload's callback is never lost.
    /// </summary>
    Task<CatalogWriteResult> AddAsync(ObjectRecord record, bool overwrite, Cdn.PurgeRequest? notify, CancellationToken cancellationToken);

    /// <summary>
    /// Removes the key if it is still owned as <paramref name="expected"/> says (same storage, location and hash),
    /// queues its location for deletion (after the delete grace, or at once when <paramref name="immediate"/>) and
    /// cancels the intents of uploads of the key still in flight, in one transaction; returns whether it did.
    /// </summary>
    Task<bool> RemoveAsync(ObjectRecord expected, bool immediate, CancellationToken cancellationToken);

    /// <summary>Locations the catalog no longer names whose deletion is due.</summary>
    Task<IReadOnlyList<PendingDelete>> GetPendingDeletesAsync(int limit, CancellationToken cancellationToken);

    /// <summary>Marks a queued deletion done, once the storage confirmed the object is gone.</summary>
    Task CompletePendingDeleteAsync(PendingDelete pending, CancellationToken cancellationToken);

    /// <summary>
    /// Takes the catalog's maintenance lock, so one instance at a time runs the janitor; null when another holds it.
    /// </summary>
    ValueTask<IAsyncDisposable?> TryLockMaintenanceAsync(CancellationToken cancellationToken);

    /// <summary>Usage per storage id, derived from the records.</summary>
    Task<IReadOnlyDictionary<string, StorageUsage>> GetUsageAsync(CancellationToken cancellationToken);

    /// <summary>Keys in order, starting after <paramref name="after"/>, that begin with <paramref name="prefix"/>.</summary>
    Task<IReadOnlyList<ObjectRecord>> ListAsync(string prefix, string? after, int limit, CancellationToken cancellationToken);

    /// <summary>Throws when the catalog cannot be reached.</summary>
    Task PingAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Records an object that is already on its storage (an import, lazy adoption), in one transaction, only if its key
    /// is unknown and nothing names its location (a record, an upload's intent, a queued deletion); false otherwise.
    /// </summary>
    Task<bool> AdoptAsync(ObjectRecord record, CancellationToken cancellationToken);

    /// <summary>
    /// Records the SHA-256 of an object whose hash is pending (<see cref="ObjectRecord.HashPending"/>), only if its record
    /// still names the same location without a hash; false otherwise (it was hashed, moved, replaced or deleted meanwhile).
    /// </summary>
    Task<bool> RecordHashAsync(ObjectRecord expected, string sha256, CancellationToken cancellationToken);

    /// <summary>
    /// Moves the record of <paramref name="expected"/>'s key to the copy at <paramref name="copy"/>'s location, in one
    /// transaction, if and only if the record is still <paramref name="expected"/> (same storage, location and hash)
    /// and the copy's intent stands (not cancelled by a delete of the key, not expired); the intent ends, and the old
    /// location is queued for deletion after the delete grace. False: an upload, overwrite or delete of the key won,
    /// nothing changed, and the copy is the caller's to remove.
    /// </summary>
    async Task<bool> RelocateAsync(ObjectRecord expected, UploadIntent copy, CancellationToken cancellationToken)
        => (await RelocateManyAsync([new Relocation(expected, copy)], cancellationToken))[0];

    /// <summary>
    /// <see cref="RelocateAsync"/> for many keys in one transaction (a job's page of copies): each one switches or
    /// not on its own terms, as it would alone; true where it did.
    /// </summary>
    Task<IReadOnlyList<bool>> RelocateManyAsync(IReadOnlyList<Relocation> relocations, CancellationToken cancellationToken);

    /// <summary>The records of one storage under <paramref name="prefix"/>, in key order, after <paramref name="after"/>.</summary>
    Task<IReadOnlyList<ObjectRecord>> ListStoredAsync(string storageId, string prefix, string? after, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Which of <paramref name="locations"/> on the storage the catalog names: each one named maps to its record, or to
    /// null when an upload's intent or a queued deletion names it. A location missing from the answer is an orphan.
    /// </summary>
    Task<IReadOnlyDictionary<string, ObjectRecord?>> FindLocationsAsync(string storageId, IReadOnlyCollection<string> locations, CancellationToken cancellationToken);

    /// <summary>
    /// Queues an orphan (a location nothing names) for deletion after the delete grace; false when something names it
    /// now, so a location that became an upload's meanwhile is never queued.
    /// </summary>
    Task<bool> QueueOrphanAsync(string storageId, string location, CancellationToken cancellationToken);

    /// <summary>Locations that held versions of <paramref name="key"/> and are queued for deletion (still there until due).</summary>
    Task<IReadOnlyList<PendingDelete>> FindFormerLocationsAsync(string key, CancellationToken cancellationToken);
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

/// <summary>The catalog's calls in their common shapes.</summary>
public static class ObjectCatalogExtensions
{
    /// <summary>Commits an upload with nothing to notify (see <see cref="IObjectCatalog.AddAsync"/>).</summary>
    public static Task<CatalogWriteResult> AddAsync(this IObjectCatalog catalog, ObjectRecord record, bool overwrite, CancellationToken cancellationToken)
        => catalog.AddAsync(record, overwrite, null, cancellationToken);
}

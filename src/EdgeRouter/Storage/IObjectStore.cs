namespace EdgeRouter.Storage;

/// <summary>
/// One storage backend: where objects are written, read, stat'ed and deleted through the backend's own API.
/// Every API (local, s3, azure, ftp…) implements this in its own folder under <c>Storage/</c>.
/// </summary>
/// <remarks>
/// Keys passed in have been validated by <see cref="ObjectKeys"/>; implementations still refuse any key
/// that would escape their root, since a store must be safe on its own.
/// Backend failures surface as <see cref="StorageException"/>; anything thrown by the <c>content</c> stream
/// (size limit, client gone) must propagate unchanged, and leave nothing visible at the key.
/// </remarks>
public interface IObjectStore
{
    /// <summary>Writes <paramref name="content"/> (possibly non-seekable) at <paramref name="key"/>, atomically.</summary>
    /// <exception cref="ObjectAlreadyExistsException">The key exists and <see cref="ObjectWriteOptions.Overwrite"/> is false.</exception>
    Task<StoredObject> PutAsync(string key, Stream content, ObjectWriteOptions options, CancellationToken cancellationToken);

    /// <summary>Opens the object, or the given byte range of it; null when the key does not exist.</summary>
    Task<ObjectContent?> OpenReadAsync(string key, ByteRange? range, CancellationToken cancellationToken);

    /// <summary>Size and modification time, or null when the key does not exist.</summary>
    Task<ObjectStat?> StatAsync(string key, CancellationToken cancellationToken);

    /// <summary>Removes the object; false when there was nothing at the key.</summary>
    Task<bool> DeleteAsync(string key, CancellationToken cancellationToken);

    /// <summary>
    /// Removes whatever an interrupted write to <paramref name="key"/> may have left: the object, and a store that
    /// stages writes (under <see cref="ObjectKeys.TemporaryFileName"/>) removes that too. For the janitor.
    /// </summary>
    Task AbortWriteAsync(string key, CancellationToken cancellationToken) => DeleteAsync(key, cancellationToken);

    /// <summary>Checks that the backend can take writes now; throws <see cref="StorageException"/> when it cannot.</summary>
    Task ProbeAsync(CancellationToken cancellationToken);

    /// <summary>
    /// The objects whose location starts with <paramref name="prefix"/>, after <paramref name="startAfter"/> when given,
    /// in ordinal order of location, fetched from the backend a page at a time as the caller reads on. The router's own
    /// names (<see cref="ObjectKeys.IsInternal"/>: probes, staged writes, segments) are never listed, nor folder markers
    /// or links. A location that breaks the key rules is listed as it is, for the caller to report.
    /// </summary>
    IAsyncEnumerable<ListedObject> ListAsync(string prefix, string? startAfter, CancellationToken cancellationToken);

    /// <summary>
    /// Whether a create-only write first asks whether the key is taken (a HEAD), which
    /// <see cref="ObjectWriteOptions.KnownAbsent"/> spares: a caller writing many new keys at once can list instead.
    /// </summary>
    bool AsksBeforeCreate => false;

    /// <summary>
    /// Makes the writes made with <see cref="ObjectWriteOptions.DeferFlush"/> durable, together; a store whose writes are
    /// durable when they return (every remote service) has nothing to do.
    /// </summary>
    Task FlushAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>An object as a listing sees it: its location, size, modification time and the backend's own ETag or checksum.</summary>
public sealed record ListedObject(string Location, long Size, DateTimeOffset? LastModified, string? ETag);

/// <summary>A store that can hand out short-lived signed read URLs, for the <c>presigned</c> read mode.</summary>
public interface IPresignedUrlStore
{
    /// <summary>A URL that lets its holder read <paramref name="key"/> until it expires.</summary>
    Task<string> GetPresignedReadUrlAsync(string key, CancellationToken cancellationToken);
}

/// <summary>A store whose objects are files on this machine, so reads can use the kernel's sendfile.</summary>
public interface IPhysicalObjectStore
{
    /// <summary>The full path of the object's file; the key has already been checked.</summary>
    string GetPhysicalPath(string key);
}

/// <summary>
/// A store that wraps another (to measure it, say) and passes every call through, the members with a default body
/// too: a <see cref="IObjectStore.FlushAsync"/> not passed on would leave deferred writes unflushed.
/// </summary>
public interface IObjectStoreDecorator
{
    IObjectStore Inner { get; }
}

public static class ObjectStoreCapabilities
{
    /// <summary>
    /// The store as <typeparamref name="T"/> (<see cref="IPresignedUrlStore"/>, <see cref="IPhysicalObjectStore"/>,
    /// <see cref="IAsyncDisposable"/>), looking through decorators; null when the backend's store is not one.
    /// </summary>
    public static T? As<T>(this IObjectStore store)
        where T : class
        => store switch
        {
            T capable => capable,
            IObjectStoreDecorator decorator => decorator.Inner.As<T>(),
            _ => null,
        };
}

/// <param name="KnownAbsent">
/// The caller listed the storage after claiming the location and saw nothing there: a store that asks (a HEAD) before
/// a create-only write may take that answer instead. A write that loses a race is no likelier than after its own HEAD.
/// </param>
/// <param name="DeferFlush">
/// The caller makes the write durable later, with others, through <see cref="IObjectStore.FlushAsync"/>, before
/// anything names it (a page of copies): their flushes then share the disk's work instead of waiting on it one by one.
/// </param>
/// <param name="VerifyStored">
/// The caller must know that the storage holds exactly the bytes it read from the content (a migration's copy): a
/// store whose backend reports a digest of what it stored compares it with the bytes it sent, and says whether they
/// matched in <see cref="StoredObject.Verified"/>; the caller reads back only what was not verified.
/// </param>
public sealed record ObjectWriteOptions(string ContentType, string CacheControl, long? Length = null, bool Overwrite = false, bool KnownAbsent = false, bool DeferFlush = false, bool VerifyStored = false);

/// <param name="Verified">
/// Asked for with <see cref="ObjectWriteOptions.VerifyStored"/>: the backend's own digest of what it stored (an S3
/// ETag, the MD5 of a PUT's or of each part's bytes; Azure's Content-MD5 of a blob put in one request) equals that of
/// the bytes read from the content. False when the backend gives no such digest or one that cannot be compared
/// (SSE-KMS ETags, a blob put as blocks): not a failure, only unknown.
/// </param>
public sealed record StoredObject(long Size, bool Verified = false);

public sealed record ObjectStat(long Size, DateTimeOffset? LastModified);

/// <summary>A satisfiable byte range: <see cref="Offset"/> and <see cref="Length"/> are within the object.</summary>
public readonly record struct ByteRange(long Offset, long Length)
{
    public long Last => Offset + Length - 1;
}

/// <summary>An open object (or range of it). Disposing it releases the backend's stream and its <c>owner</c> (a response, a connection).</summary>
public sealed class ObjectContent(Stream content, long length, long totalLength, IDisposable? owner = null) : IAsyncDisposable
{
    public Stream Content { get; } = content;

    /// <summary>Bytes this content yields (the range's length, or the whole object's).</summary>
    public long Length { get; } = length;

    public long TotalLength { get; } = totalLength;

    public async ValueTask DisposeAsync()
    {
        await Content.DisposeAsync();
        owner?.Dispose();
    }
}

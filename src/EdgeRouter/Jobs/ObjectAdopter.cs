using EdgeRouter.Catalog;
using EdgeRouter.Configuration;
using EdgeRouter.Observability;
using EdgeRouter.Placement;
using EdgeRouter.Storage;
using EdgeRouter.Uploads;
using Microsoft.Extensions.Options;

namespace EdgeRouter.Jobs;

public enum AdoptOutcome
{
    /// <summary>Recorded: the object is served under its key from now on.</summary>
    Adopted,

    /// <summary>The catalog already has the key, or something else names the location: nothing recorded.</summary>
    Known,

    /// <summary>Its name breaks the key rules or its content is refused, as an upload's would be: nothing recorded.</summary>
    Refused,

    /// <summary>No object at the location (gone since it was listed).</summary>
    Missing,
}

public readonly record struct AdoptResult(AdoptOutcome Outcome, string? Reason = null, long Bytes = 0);

/// <summary>
/// Records an object another tool put on a storage, under the key its location names (the location without the
/// storage's prefix), so the router serves it without moving it. It must pass what an upload passes: the key rules,
/// the content type its bytes show (sniffed, checked against its extension and the allow-list), and it is hashed
/// (SHA-256: its ETag, and what every later copy is checked against) unless the import asked not to read it whole.
/// </summary>
internal sealed partial class ObjectAdopter(IObjectCatalog catalog, StorageUsageTracker usage, IOptions<EdgeRouterOptions> options, TimeProvider timeProvider, ILogger<ObjectAdopter> logger)
{
    private readonly ContentTypePolicy _types = ContentTypePolicy.For(options.Value.Uploads);

    /// <param name="listedSize">
    /// The size a listing showed; with it, the object is not hashed (<c>"hash": false</c>): only its first bytes are read,
    /// and its SHA-256 is recorded later (<see cref="ObjectRecord.HashPending"/>).
    /// </param>
    public async Task<AdoptResult> AdoptAsync(StorageDefinition storage, string location, DateTimeOffset? lastModified, CancellationToken cancellationToken, long? listedSize = null)
    {
        if (ObjectKeys.ValidateClientKey(location) is { } keyError)
        {
            return new AdoptResult(AdoptOutcome.Refused, keyError);
        }

        if (await catalog.FindCurrentAsync(location, cancellationToken) is not null)
        {
            return new AdoptResult(AdoptOutcome.Known);
        }

        ByteRange? head = listedSize > 0 ? new ByteRange(0, Math.Min(ContentSniffer.HeadLength, listedSize.Value)) : null;
        var content = await storage.Store.OpenReadAsync(location, head, cancellationToken);
        if (content is null)
        {
            return new AdoptResult(AdoptOutcome.Missing);
        }

        string sha256;
        long size;
        string contentType;
        await using (content)
        {
            await using var hashing = new HashingReadStream(content.Content);
            var first = new byte[ContentSniffer.HeadLength];
            var headLength = await hashing.ReadAtLeastAsync(first, first.Length, throwOnEndOfStream: false, cancellationToken);
            var (type, typeError) = _types.Resolve(ContentSniffer.TypeFromName(location), first.AsSpan(0, headLength));
            if ((typeError ?? ContentSniffer.CheckKeyExtension(location, type!)) is { } refused)
            {
                return new AdoptResult(AdoptOutcome.Refused, refused);
            }

            if (listedSize is null)
            {
                await hashing.CopyToAsync(Stream.Null, 128 * 1024, cancellationToken);
                (sha256, size) = (hashing.Sha256Hex, hashing.Count);
            }
            else
            {
                (sha256, size) = (string.Empty, content.TotalLength);
            }

            contentType = type!;
        }

        var record = new ObjectRecord(location, storage.Id, size, contentType, sha256, lastModified ?? timeProvider.GetUtcNow()) { Location = location };
        if (!await catalog.AdoptAsync(record, CancellationToken.None))
        {
            return new AdoptResult(AdoptOutcome.Known);
        }

        usage.Add(storage.Id, size);
        Log.Adopted(logger, location, storage.Id, size);
        return new AdoptResult(AdoptOutcome.Adopted, Bytes: size);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.ObjectAdopted, Level = LogLevel.Debug, Message = "Adopted {Key} on storage {StorageId} ({Size} bytes).")]
        public static partial void Adopted(ILogger logger, string key, string storageId, long size);
    }
}

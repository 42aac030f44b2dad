using EdgeRouter.Catalog;
using EdgeRouter.Configuration;
using EdgeRouter.Health;
using EdgeRouter.Observability;
using EdgeRouter.Placement;
using EdgeRouter.Storage;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace EdgeRouter.Uploads;

/// <summary>The JSON answer to an upload and to a catalog lookup.</summary>
public sealed record ObjectResponse(
    string Key,
    string Url,
    string StorageUrl,
    string Storage,
    long Size,
    string ContentType,
    string Sha256,
    [property: System.Text.Json.Serialization.JsonPropertyName("etag")] string ETag,
    DateTimeOffset CreatedAt);

/// <summary>
/// Takes one upload from the client to a storage and the catalog. The order of writes is what keeps nothing lost
/// or dangling: the object is written first, the catalog record second, and a failed commit deletes the object.
/// </summary>
/// <remarks>
/// 1. Check the key, the overwrite flag and the declared size.
/// 2. Open the file part (multipart field <c>file</c>) or the raw body.
/// 3. Sniff the first bytes and settle the content type (415 on a disguised or refused type).
/// 4. For a caller-chosen key, hold its lock and refuse an existing key (409) before storing anything.
/// 5. Place and write, failing over to the next storage when a write fails.
/// 6. Commit the catalog record; on failure delete the new object and answer 503.
/// 7. Account usage, delete a replaced object on another storage, answer 201.
/// </remarks>
internal sealed partial class UploadHandler(
    IObjectCatalog catalog,
    StoragePlacer placer,
    StorageUsageTracker usage,
    IStorageHealth health,
    KeyGenerator keyGenerator,
    KeyLocks keyLocks,
    PendingDeleteProcessor deletes,
    IOptions<EdgeRouterOptions> options,
    TimeProvider timeProvider,
    EdgeRouterMetrics metrics,
    ILogger<UploadHandler> logger)
{
    // Boundaries and part headers around the file in a multipart body.
    private const long MultipartOverheadBytes = 64 * 1024;

    private readonly EdgeRouterOptions _options = options.Value;
    private readonly ContentTypePolicy _types = new(options.Value.Uploads.AllowedContentTypes.Count > 0
        ? [.. options.Value.Uploads.AllowedContentTypes.Select(t => t.ToLowerInvariant())]
        : UploadOptions.DefaultAllowedContentTypes);

    public async Task<IResult> UploadAsync(HttpContext context, string? requestedKey)
    {
        var request = context.Request;
        var cancellationToken = context.RequestAborted;

        // 1. The key, the overwrite flag and the declared size.
        if (requestedKey is not null && ObjectKeys.Validate(requestedKey) is { } keyError)
        {
            return Reject(StatusCodes.Status400BadRequest, "Invalid key", keyError);
        }

        var overwrite = string.Equals(request.Query["overwrite"], "true", StringComparison.OrdinalIgnoreCase);
        var isMultipart = request.HasFormContentType && MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType)
            && mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase);
        var maxBytes = _options.Uploads.MaxUploadBytes;
        if (request.ContentLength > maxBytes + (isMultipart ? MultipartOverheadBytes : 0))
        {
            return TooLarge(maxBytes);
        }

        // The size limit is enforced while streaming, on the file alone; Kestrel's own limit would count multipart framing.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = null;
        }

        // 2. The file part or the raw body.
        var (source, declaredType, sourceError) = isMultipart
            ? await OpenMultipartFileAsync(request, cancellationToken)
            : (request.Body, request.ContentType, null);
        if (sourceError is not null)
        {
            return Reject(StatusCodes.Status400BadRequest, "Invalid upload", sourceError);
        }

        await using var body = new UploadBody(source!, maxBytes, _options.Uploads.SpoolDirectory ?? Path.Combine(Path.GetTempPath(), "edgerouter-spool"));
        try
        {
            // 3. Sniff and settle the content type.
            var head = await body.PeekAsync(ContentSniffer.HeadLength, cancellationToken);
            if (body.IsComplete && body.Received == 0)
            {
                return Reject(StatusCodes.Status400BadRequest, "Empty upload", "The upload has no content.");
            }

            var (contentType, typeError) = _types.Resolve(declaredType, head.Span);
            if (typeError is not null)
            {
                return Reject(StatusCodes.Status415UnsupportedMediaType, "Unsupported content", typeError);
            }

            // 4. A caller-chosen key is locked for the whole write, and an existing one refused before anything is stored.
            await using var keyLock = requestedKey is null ? null : await keyLocks.AcquireAsync(requestedKey, cancellationToken);
            var existing = requestedKey is null ? null : await catalog.FindAsync(requestedKey, cancellationToken);
            if (existing is not null && !overwrite)
            {
                return Reject(StatusCodes.Status409Conflict, "Key exists", $"An object already exists at key '{requestedKey}'. Send ?overwrite=true to replace it.");
            }

            // 5. Place and write.
            var sizeHint = Math.Max(0, request.ContentLength ?? 0);
            var (stored, placement, key) = await WriteWithFailoverAsync(body, requestedKey, contentType!, sizeHint, cancellationToken);
            if (stored is null)
            {
                return placement.Failure == PlacementFailure.InsufficientStorage
                    ? Reject(StatusCodes.Status507InsufficientStorage, "Insufficient storage", "No storage has room for this upload.")
                    : Reject(StatusCodes.Status503ServiceUnavailable, "No storage available", "No storage can take uploads now; try again later.", retry: true);
            }

            // 6. Commit the catalog record.
            var storage = placement.Storage!;
            var record = new ObjectRecord(key!, storage.Id, body.Received, contentType!, body.Sha256Hex, timeProvider.GetUtcNow());
            var replacedInPlace = existing?.StorageId == storage.Id;
            CatalogWriteResult result;
            try
            {
                result = await catalog.AddAsync(record, overwrite, cancellationToken);
            }
            catch (CatalogUnavailableException ex)
            {
                Log.CatalogCommitFailed(logger, record.Key, storage.Id, ex.Message);
                await usage.ReleaseAsync(placement);
                if (!replacedInPlace)
                {
                    await DeleteQuietlyAsync(storage, record.Key);
                }

                return Reject(StatusCodes.Status503ServiceUnavailable, "Catalog unavailable", "The object could not be recorded in the catalog; nothing was kept. Try again later.", retry: true);
            }

            if (result.Outcome == CatalogWriteOutcome.Conflict)
            {
                await usage.ReleaseAsync(placement);
                if (result.Previous!.StorageId != storage.Id)
                {
                    await DeleteQuietlyAsync(storage, record.Key);
                }

                return Reject(StatusCodes.Status409Conflict, "Key exists", $"An object already exists at key '{record.Key}'.");
            }

            // 7. Account, clean up what was replaced, answer.
            await usage.CommitAsync(placement, record.Size);
            if (result.Previous is { } previous)
            {
                usage.Remove(previous.StorageId, previous.Size);
                if (previous.StorageId != storage.Id)
                {
                    await deletes.TryDeleteAsync(new PendingDelete(previous.StorageId, previous.Key), CancellationToken.None);
                }
            }

            metrics.UploadStored(storage.Id, record.Size);
            Log.Stored(logger, record.Key, storage.Id, record.Size);
            var response = ToResponse(record, storage);
            return Results.Created(response.Url, response);
        }
        catch (UploadBodyException ex) when (ex.Error == UploadBodyError.TooLarge)
        {
            return TooLarge(maxBytes);
        }
        catch (UploadBodyException ex)
        {
            return Reject(StatusCodes.Status400BadRequest, "Upload interrupted", ex.Message);
        }
    }

    public ObjectResponse ToResponse(ObjectRecord record, StorageDefinition? storage)
    {
        var path = ObjectKeys.ToUrlPath(record.Key);
        var site = _options.SiteUrl.TrimEnd('/') + _options.ObjectPathPrefix;
        return new ObjectResponse(
            record.Key,
            site + path,
            storage?.MapUrl(record.Key) ?? string.Empty,
            record.StorageId,
            record.Size,
            record.ContentType,
            record.Sha256,
            record.ETag,
            record.CreatedAt);
    }

    private async Task<(StoredObject? Stored, Placement.Placement Placement, string? Key)> WriteWithFailoverAsync(
        UploadBody body, string? requestedKey, string contentType, long sizeHint, CancellationToken cancellationToken)
    {
        var excluded = new HashSet<string>(StringComparer.Ordinal);
        while (true)
        {
            var placement = await placer.PlaceAsync(sizeHint, excluded, cancellationToken);
            if (placement.Storage is not { } storage)
            {
                return (null, placement, null);
            }

            var key = requestedKey ?? keyGenerator.Generate(storage.Config.KeyLayout, ContentSniffer.ExtensionFor(contentType));

            // The catalog is the authority on a caller's key, so a stale file there is replaced; generated keys never overwrite.
            var writeOptions = new ObjectWriteOptions(contentType, storage.CacheControl, body.IsComplete ? body.Received : null, Overwrite: requestedKey is not null);
            try
            {
                var stored = await storage.Store.PutAsync(key, body.OpenRead(), writeOptions, cancellationToken);
                if (!body.IsComplete || stored.Size != body.Received)
                {
                    // A backend that stored something other than the body (framing, truncation) has failed.
                    await DeleteQuietlyAsync(storage, key);
                    throw new StorageException($"Storage stored {stored.Size} bytes of a {body.Received}-byte body.");
                }

                return (stored, placement, key);
            }
            catch (Exception ex) when (ex is not UploadBodyException and not OperationCanceledException)
            {
                await usage.ReleaseAsync(placement);
                if (ex is ObjectAlreadyExistsException && requestedKey is null)
                {
                    continue; // 96-bit ids do not collide in practice; a collision just takes another id.
                }

                health.ReportFailure(storage.Id, ex.Message);
                metrics.Failover(storage.Id);
                Log.WriteFailed(logger, storage.Id, key, ex.Message);
                excluded.Add(storage.Id);
            }
            catch
            {
                await usage.ReleaseAsync(placement);
                throw;
            }
        }
    }

    private static async Task<(Stream? Source, string? ContentType, string? Error)> OpenMultipartFileAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var boundary = HeaderUtilities.RemoveQuotes(MediaTypeHeaderValue.Parse(request.ContentType).Boundary).Value;
        if (string.IsNullOrEmpty(boundary))
        {
            return (null, null, "The multipart body has no boundary.");
        }

        var reader = new MultipartReader(boundary, request.Body);
        try
        {
            while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
            {
                if (ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                    && disposition.IsFileDisposition()
                    && string.Equals(HeaderUtilities.RemoveQuotes(disposition.Name).Value, "file", StringComparison.Ordinal))
                {
                    return (section.Body, section.ContentType, null);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException)
        {
            return (null, null, $"The multipart body could not be read: {ex.Message}");
        }

        return (null, null, "The multipart body has no file field named 'file'.");
    }

    private async Task DeleteQuietlyAsync(StorageDefinition storage, string key)
    {
        try
        {
            await storage.Store.DeleteAsync(key, CancellationToken.None);
        }
        catch (StorageException ex)
        {
            Log.OrphanCleanupFailed(logger, storage.Id, key, ex.Message);
        }
    }

    private IResult TooLarge(long maxBytes)
        => Reject(StatusCodes.Status413PayloadTooLarge, "Upload too large", $"The upload is larger than the limit of {maxBytes} bytes ({ByteSize.Format(maxBytes)}).");

    private IResult Reject(int status, string title, string detail, bool retry = false)
    {
        metrics.UploadRejected(status.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Log.Rejected(logger, status, detail);
        return retry
            ? Problems.Result(status, title, detail, new Dictionary<string, object?> { ["retryable"] = true })
            : Problems.Result(status, title, detail);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.UploadStored, Level = LogLevel.Information, Message = "Stored {Key} on {StorageId} ({Size} bytes)")]
        public static partial void Stored(ILogger logger, string key, string storageId, long size);

        [LoggerMessage(EventId = EventIds.UploadWriteFailed, Level = LogLevel.Warning, Message = "Writing {Key} to storage {StorageId} failed; trying another storage: {Error}")]
        public static partial void WriteFailed(ILogger logger, string storageId, string key, string error);

        [LoggerMessage(EventId = EventIds.UploadRejected, Level = LogLevel.Information, Message = "Upload refused with {Status}: {Detail}")]
        public static partial void Rejected(ILogger logger, int status, string detail);

        [LoggerMessage(EventId = EventIds.CatalogCommitFailed, Level = LogLevel.Error, Message = "Recording {Key} (on {StorageId}) in the catalog failed; the object is removed: {Error}")]
        public static partial void CatalogCommitFailed(ILogger logger, string key, string storageId, string error);

        [LoggerMessage(EventId = EventIds.OrphanCleanupFailed, Level = LogLevel.Error, Message = "Could not remove {Key} from storage {StorageId} after a failed upload: {Error}")]
        public static partial void OrphanCleanupFailed(ILogger logger, string storageId, string key, string error);
    }
}

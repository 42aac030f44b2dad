using System.Diagnostics;
using EdgeRouter.Catalog;
using EdgeRouter.Configuration;
using EdgeRouter.Health;
using EdgeRouter.Observability;
using EdgeRouter.Placement;
using EdgeRouter.Storage;
using EdgeRouter.Uploads.Tokens;
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
    string Location,
    string Storage,
    long Size,
    string ContentType,
    string? Sha256,
    [property: System.Text.Json.Serialization.JsonPropertyName("etag")] string ETag,
    DateTimeOffset CreatedAt)
{
    /// <summary>An upload token's metadata, echoed back to the uploader; left out otherwise.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public System.Text.Json.Nodes.JsonObject? Metadata { get; init; }
}

/// <summary>What <see cref="UploadHandler.StoreAsync"/> stores: a body, what it claims, and an upload token's limits.</summary>
internal sealed record StoreRequest(
    Stream Source,
    string? DeclaredType,
    string? RequestedKey,
    string? KeyPrefix,
    bool Overwrite,
    Tokens.UploadToken? Token,
    long MaxBytes,
    long SizeHint,
    long Started,
    DateTimeOffset ExpiresAt);

/// <summary>The stored object, or the answer that refused it.</summary>
internal readonly record struct StoreResult(ObjectResponse? Created, IResult? Refused);

/// <summary>
/// Takes one upload from the client to a storage and the catalog. The order of writes is what keeps nothing lost,
/// dangling or altered: the upload's intent (storage, location) is recorded first, the object written second, the
/// record committed third; a location is never one a record names, so no reader sees a version change under it.
/// </summary>
/// <remarks>
/// 1. Check the key, the overwrite flag and the declared size; start the upload's deadline.
/// 2. Open the file part (multipart field <c>file</c>) or the raw body.
/// 3. Sniff the first bytes and settle the content type (415 on a disguised or refused type).
/// 4. Refuse an existing caller's key (409) before storing anything; nothing is locked while the body streams.
/// 5. Place, claim a location (the intent), and write, failing over to the next storage when a write fails.
/// 6. Commit: the intent becomes the record (a replaced version's location is queued for deletion after the grace).
///    A commit that fails or loses (a delete came in, or another writer took the key) removes what was written.
/// 7. Account usage, answer 201.
/// </remarks>
internal sealed partial class UploadHandler(
    IObjectCatalog catalog,
    Tokens.IUploadTokenUses tokenUses,
    StoragePlacer placer,
    StorageUsageTracker usage,
    IStorageHealth health,
    KeyGenerator keyGenerator,
    KeysBeingWritten keysBeingWritten,
    WriteCleanup cleanup,
    IOptions<EdgeRouterOptions> options,
    TimeProvider timeProvider,
    EdgeRouterMetrics metrics,
    ILogger<UploadHandler> logger)
{
    // Boundaries and part headers around the file in a multipart body.
    private const long MultipartOverheadBytes = 64 * 1024;

    private static readonly TimeSpan MinimumRateGrace = TimeSpan.FromSeconds(5);

    // RFC 2046, 5.1.1: a boundary has 1 to 70 characters.
    private const int MaxBoundaryLength = 70;

    // Room frees up slowly (an operator, the delete grace); the catalog usually returns within seconds.
    private static readonly TimeSpan NoRoomRetryAfter = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan UnavailableRetryAfter = TimeSpan.FromSeconds(5);

    private readonly EdgeRouterOptions _options = options.Value;
    private readonly ContentTypePolicy _types = ContentTypePolicy.For(options.Value.Uploads);

    public async Task<IResult> UploadAsync(HttpContext context, string? requestedKey)
    {
        var request = context.Request;

        // Spans (when traces are exported): the upload, its sniffing, each placement and write (a failover shows as
        // two), and the commit.
        using var span = EdgeRouterTelemetry.StartSpan("upload");
        var started = Stopwatch.GetTimestamp();

        // 1. The key, the overwrite flag, the declared size and the deadline.
        if (requestedKey is not null && ObjectKeys.ValidateClientKey(requestedKey) is { } keyError)
        {
            return Reject(StatusCodes.Status400BadRequest, "Invalid key", keyError);
        }

        var overwrite = string.Equals(request.Query["overwrite"], "true", StringComparison.OrdinalIgnoreCase);
        var isMultipart = request.ContentType?.TrimStart().StartsWith("multipart/", StringComparison.OrdinalIgnoreCase) == true;
        var (boundary, multipartError) = isMultipart ? MultipartBoundary(request.ContentType) : (null, null);
        if (multipartError is not null)
        {
            return Reject(StatusCodes.Status400BadRequest, "Invalid upload", multipartError);
        }

        // An upload token's claims: where, how large, what; it never replaces, and each use is counted once, up front.
        var token = context.Features.Get<Tokens.UploadToken>();
        var maxBytes = _options.Uploads.MaxUploadBytes;
        string? keyPrefix = null;
        if (token is not null)
        {
            if (overwrite)
            {
                return Reject(StatusCodes.Status403Forbidden, "Forbidden", "An upload token cannot replace an object.");
            }

            (requestedKey, keyPrefix, var keyProblem) = TokenKey(token, requestedKey);
            if (keyProblem is not null)
            {
                return Reject(StatusCodes.Status403Forbidden, "Forbidden", keyProblem);
            }

            maxBytes = Math.Min(maxBytes, token.MaxBytes);
        }

        if (request.ContentLength > maxBytes + (isMultipart ? MultipartOverheadBytes : 0))
        {
            return TooLarge(maxBytes);
        }

        // The size limit is enforced while streaming, on the file alone; Kestrel's own limit would count multipart framing.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = null;
        }

        // A trickle holds a connection, a spool file and an intent: below the minimum rate Kestrel ends the request.
        if (_options.Uploads.MinBytesPerSecond > 0 && context.Features.Get<Microsoft.AspNetCore.Server.Kestrel.Core.Features.IHttpMinRequestBodyDataRateFeature>() is { } minimumRate)
        {
            minimumRate.MinDataRate = new Microsoft.AspNetCore.Server.Kestrel.Core.MinDataRate(_options.Uploads.MinBytesPerSecond, MinimumRateGrace);
        }

        if (token is not null)
        {
            try
            {
                if (await tokenUses.UseAsync(token, context.RequestAborted) is { } replayed)
                {
                    return Reject(StatusCodes.Status401Unauthorized, "Unauthorized", replayed);
                }
            }
            catch (CatalogUnavailableException)
            {
                return CatalogUnavailable();
            }
        }

        using var deadline = new CancellationTokenSource(_options.Uploads.MaxUploadDuration, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, deadline.Token);
        var cancellationToken = linked.Token;
        var expiresAt = timeProvider.GetUtcNow() + _options.Uploads.MaxUploadDuration + _options.Uploads.IntentMargin;

        try
        {
            // 2. The file part or the raw body.
            var (source, declaredType, sourceError) = boundary is not null
                ? await OpenMultipartFileAsync(request, boundary, cancellationToken)
                : (request.Body, request.ContentType, null);
            if (sourceError is not null)
            {
                return Reject(StatusCodes.Status400BadRequest, "Invalid upload", sourceError);
            }

            var stored = await StoreAsync(new StoreRequest(source!, declaredType, requestedKey, keyPrefix, overwrite, token, maxBytes, Math.Max(0, request.ContentLength ?? 0), started, expiresAt), cancellationToken);
            return stored.Refused ?? Results.Created(stored.Created!.Url, stored.Created);
        }
        catch (UploadBodyException ex) when (ex.Error == UploadBodyError.TooLarge)
        {
            return TooLarge(maxBytes);
        }
        catch (UploadBodyException ex) when (ex.Error == UploadBodyError.SpoolFailed)
        {
            return Retryable(StatusCodes.Status507InsufficientStorage, "Insufficient storage", ex.Message, NoRoomRetryAfter);
        }
        catch (Exception ex) when (ex is UploadBodyException or OperationCanceledException && deadline.IsCancellationRequested)
        {
            return Reject(
                StatusCodes.Status408RequestTimeout,
                "Upload too slow",
                $"The upload did not finish within {_options.Uploads.MaxUploadDuration.TotalSeconds:0} seconds (Uploads:MaxUploadDuration); nothing was kept.");
        }
        catch (UploadBodyException ex)
        {
            return Reject(StatusCodes.Status400BadRequest, "Upload interrupted", ex.Message);
        }
        catch (CatalogUnavailableException ex)
        {
            Log.CatalogCommitFailed(logger, requestedKey ?? "(new key)", "-", ex.Message);
            return CatalogUnavailable();
        }
    }

    /// <summary>
    /// Steps 3 to 7 for a body from any source (a request, or a completed resumable upload): the stored object, or the
    /// answer that refuses it, with nothing kept. A body that fails to arrive throws, as <see cref="UploadBody"/> does.
    /// </summary>
    internal async Task<StoreResult> StoreAsync(StoreRequest upload, CancellationToken cancellationToken)
    {
        var (requestedKey, overwrite) = (upload.RequestedKey, upload.Overwrite);
        await using var body = new UploadBody(upload.Source, upload.MaxBytes, _options.Uploads.SpoolDirectory ?? Path.Combine(Path.GetTempPath(), "edgerouter-spool"));

        // 3. Sniff and settle the content type.
        var sniff = EdgeRouterTelemetry.StartSpan("sniff");
        var head = await body.PeekAsync(ContentSniffer.HeadLength, cancellationToken);
        if (body.IsComplete && body.Received == 0)
        {
            sniff?.Dispose();
            return new StoreResult(null, Reject(StatusCodes.Status400BadRequest, "Empty upload", "The upload has no content."));
        }

        var (contentType, unsupported) = Sniff(upload.DeclaredType, head.Span, upload.Token, requestedKey);
        sniff?.SetTag("edgerouter.content_type", contentType);
        sniff?.Dispose();
        if (unsupported is not null)
        {
            return new StoreResult(null, Reject(StatusCodes.Status415UnsupportedMediaType, "Unsupported content", unsupported));
        }

        // 4. An existing caller's key is refused early; the commit checks again, so nothing waits on a lock here.
        var existing = requestedKey is null ? null : await catalog.FindAsync(requestedKey, cancellationToken);
        if (existing is not null && !overwrite)
        {
            return new StoreResult(null, KeyExists(requestedKey!));
        }

        // 5. Place, claim a location, write. Until the answer, a 404 for the key is not to be cached anywhere.
        using var writing = requestedKey is null ? null : keysBeingWritten.Begin(requestedKey);
        var write = new Write(body, requestedKey, upload.KeyPrefix, overwrite, contentType!, upload.SizeHint, upload.ExpiresAt);
        if (await WriteWithFailoverAsync(write, cancellationToken) is { } refused)
        {
            return new StoreResult(null, refused);
        }

        // 6. Commit. Not cancellable: a commit whose outcome the router does not know would leave work for the janitor.
        var placement = write.Placement!.Value;
        var storage = placement.Storage!;
        var intent = write.Intent!.Value;
        var record = new ObjectRecord(intent.Key, storage.Id, body.Received, contentType!, body.Sha256Hex, timeProvider.GetUtcNow()) { Location = intent.Location };
        CatalogWriteResult result;
        try
        {
            using var commit = EdgeRouterTelemetry.StartSpan("commit");
            result = await catalog.AddAsync(record, overwrite, Callback(upload.Token, record, storage), CancellationToken.None);
        }
        catch (CatalogUnavailableException ex)
        {
            Log.CatalogCommitFailed(logger, record.Key, storage.Id, ex.Message);
            await usage.ReleaseAsync(placement);
            await cleanup.AbandonAsync(storage, intent);
            return new StoreResult(null, CatalogUnavailable());
        }

        if (result.Outcome is CatalogWriteOutcome.Conflict or CatalogWriteOutcome.Abandoned)
        {
            await usage.ReleaseAsync(placement);
            await cleanup.AbandonAsync(storage, intent);
            return new StoreResult(null, result.Outcome == CatalogWriteOutcome.Conflict
                ? KeyExists(record.Key)
                : Reject(StatusCodes.Status409Conflict, "Upload superseded", $"The key '{record.Key}' was deleted while this upload was in progress; nothing was kept."));
        }

        // 7. Account and answer.
        await usage.CommitAsync(placement, record.Size);
        if (result.Previous is { } previous)
        {
            usage.Remove(previous.StorageId, previous.Size);
        }

        metrics.UploadStored(storage.Id, record.Size);
        metrics.UploadDuration(storage.Id, Stopwatch.GetElapsedTime(upload.Started));
        Log.Stored(logger, record.Key, storage.Id, record.Size);
        return new StoreResult(ToResponse(record, storage) with { Metadata = upload.Token?.Metadata }, null);
    }

    /// <summary>
    /// The type an upload's first bytes show, or why it is refused (415): not what it declared, not allowed on the site
    /// or by its token, or not what its key's extension says.
    /// </summary>
    internal (string? ContentType, string? Problem) Sniff(string? declaredType, ReadOnlySpan<byte> head, Tokens.UploadToken? token, string? key)
    {
        var (contentType, problem) = _types.Resolve(declaredType, head);
        problem ??= token?.ContentTypes is { } allowed && !allowed.Contains(contentType!, StringComparer.OrdinalIgnoreCase)
            ? $"This upload token accepts {string.Join(", ", allowed)}; the content is {contentType}."
            : null;
        return (contentType, problem ?? (key is null ? null : ContentSniffer.CheckKeyExtension(key, contentType!)));
    }

    /// <summary>An upload token's completion callback: the object JSON the uploader gets, for the token's callback URL.</summary>
    private Cdn.PurgeRequest? Callback(Tokens.UploadToken? token, ObjectRecord record, StorageDefinition storage)
        => token?.CallbackUrl is { } url
            ? new Cdn.PurgeRequest(Cdn.PurgeEvents.Created, Cdn.PurgeScopes.Callback, url, storage.Id, System.Text.Json.JsonSerializer.Serialize(ToResponse(record, storage) with { Metadata = token.Metadata }, CallbackJson))
            : null;

    private static readonly System.Text.Json.JsonSerializerOptions CallbackJson = new(System.Text.Json.JsonSerializerDefaults.Web);

    public ObjectResponse ToResponse(ObjectRecord record, StorageDefinition? storage)
    {
        var path = ObjectKeys.ToUrlPath(record.Key);
        var site = _options.SiteUrl.TrimEnd('/') + _options.ObjectPathPrefix;
        return new ObjectResponse(
            record.Key,
            site + path,
            storage?.MapUrl(record.Location) ?? string.Empty,
            record.Location,
            record.StorageId,
            record.Size,
            record.ContentType,
            record.HashPending ? null : record.Sha256,
            record.ETag,
            record.CreatedAt);
    }

    /// <summary>
    /// Writes the body to the first storage that takes it. Null on success (<see cref="Write.Placement"/> and
    /// <see cref="Write.Intent"/> say where); otherwise the answer to give, with nothing left behind.
    /// </summary>
    private async Task<IResult?> WriteWithFailoverAsync(Write write, CancellationToken cancellationToken)
    {
        var excluded = new HashSet<string>(StringComparer.Ordinal);
        var full = 0;
        while (true)
        {
            Placement.Placement placement;
            using (EdgeRouterTelemetry.StartSpan("place"))
            {
                placement = await placer.PlaceAsync(write.SizeHint, excluded, cancellationToken);
            }

            if (placement.Storage is not { } storage)
            {
                return placement.Failure == PlacementFailure.InsufficientStorage || (full > 0 && full == excluded.Count)
                    ? Retryable(StatusCodes.Status507InsufficientStorage, "Insufficient storage", "No storage has room for this upload.", NoRoomRetryAfter)
                    : Retryable(StatusCodes.Status503ServiceUnavailable, "No storage available", "No storage can take uploads now; try again later.", UnavailableRetryAfter);
            }

            UploadIntent intent;
            try
            {
                intent = await ClaimLocationAsync(storage, write, cancellationToken);
            }
            catch
            {
                await usage.ReleaseAsync(placement);
                throw;
            }

            // Overwrites only bytes no record, intent or queued deletion names: an object another tool put at the key.
            var replaceForeign = false;
            while (true)
            {
                using var span = EdgeRouterTelemetry.StartSpan("write");
                span?.SetTag("edgerouter.storage", storage.Id);
                try
                {
                    var writeOptions = new ObjectWriteOptions(write.ContentType, storage.CacheControl, write.Body.IsComplete ? write.Body.Received : null, replaceForeign);
                    var stored = await storage.Store.PutAsync(intent.Location, write.Body.OpenRead(), writeOptions, cancellationToken);
                    if (!write.Body.IsComplete || stored.Size != write.Body.Received)
                    {
                        // A backend that stored something other than the body (framing, truncation) has failed.
                        throw new StorageException($"Storage stored {stored.Size} bytes of a {write.Body.Received}-byte body.");
                    }

                    write.Placement = placement;
                    write.Intent = intent;
                    return null;
                }
                catch (ObjectAlreadyExistsException) when (write.RequestedKey is not null && intent.Location == write.RequestedKey)
                {
                    // Not the router's: the catalog named nothing there. Its bytes are left alone unless the caller said to replace them.
                    if (write.Overwrite && !replaceForeign)
                    {
                        replaceForeign = true;
                        continue;
                    }

                    await usage.ReleaseAsync(placement);
                    await cleanup.EndIntentAsync(intent);
                    return Reject(
                        StatusCodes.Status409Conflict,
                        "Key exists",
                        $"Storage '{storage.Id}' already holds an object at '{write.RequestedKey}' that the catalog does not know (put there by another tool?). Send ?overwrite=true to replace it.");
                }
                catch (ObjectAlreadyExistsException)
                {
                    // A random location taken outside the router (96-bit ids do not collide in practice): take another.
                    await usage.ReleaseAsync(placement);
                    await cleanup.EndIntentAsync(intent);
                    break;
                }
                catch (StorageException ex)
                {
                    span?.SetStatus(ActivityStatusCode.Error, ex.IsInsufficientSpace ? "insufficient space" : "write failed");
                    await usage.ReleaseAsync(placement);
                    await cleanup.AbandonAsync(storage, intent);
                    if (ex.IsInsufficientSpace)
                    {
                        // A full disk is not a sick storage: no health report, so reads and other instances are not affected.
                        full++;
                    }
                    else
                    {
                        health.ReportFailure(storage.Id, ex.Message);
                    }

                    metrics.Failover(storage.Id);
                    Log.WriteFailed(logger, storage.Id, intent.Location, ex.Message);
                    excluded.Add(storage.Id);
                    break;
                }
                catch
                {
                    await usage.ReleaseAsync(placement);
                    await cleanup.AbandonAsync(storage, intent);
                    throw;
                }
            }
        }
    }

    /// <summary>
    /// Records the upload's intent at a location no record, queued deletion or other upload names: the key itself when
    /// it is free (so the Storage URL is Storage URL + key), else a new location beside it (a replacement on the same
    /// storage, or a key whose deleted version is still in its grace).
    /// </summary>
    private async Task<UploadIntent> ClaimLocationAsync(StorageDefinition storage, Write write, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var key = write.RequestedKey ?? write.KeyPrefix + keyGenerator.Generate(storage.Config.KeyLayout, ContentSniffer.ExtensionFor(write.ContentType));
            var location = write.RequestedKey is null || attempt == 0 ? key : ObjectKeys.NewLocation(key, keyGenerator.NewId());
            var intent = new UploadIntent(storage.Id, location, key, write.ExpiresAt);
            if (await catalog.TryBeginUploadAsync(intent, cancellationToken))
            {
                return intent;
            }

            if (attempt >= 8)
            {
                throw new CatalogUnavailableException($"No free location for '{key}' on storage '{storage.Id}' after {attempt + 1} tries.");
            }
        }
    }

    /// <summary>The boundary of a multipart body, or why it is refused; the client's text is never echoed.</summary>
    private static (string? Boundary, string? Error) MultipartBoundary(string? contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var mediaType))
        {
            return (null, "The multipart body's Content-Type header cannot be parsed (an unbalanced quote?).");
        }

        if (!mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            return (null, "A multipart upload must be multipart/form-data, with the file in a field named 'file'.");
        }

        var boundary = HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value;
        return boundary switch
        {
            null or "" => (null, "The multipart body has no boundary."),
            { Length: > MaxBoundaryLength } => (null, $"The multipart boundary is longer than {MaxBoundaryLength} characters (RFC 2046)."),
            _ => (boundary, null),
        };
    }

    private static async Task<(Stream? Source, string? ContentType, string? Error)> OpenMultipartFileAsync(HttpRequest request, string boundary, CancellationToken cancellationToken)
    {
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

    private IResult TooLarge(long maxBytes)
        => Reject(StatusCodes.Status413PayloadTooLarge, "Upload too large", $"The upload is larger than the limit of {maxBytes} bytes ({ByteSize.Format(maxBytes)}).");

    private IResult KeyExists(string key)
        => Reject(StatusCodes.Status409Conflict, "Key exists", $"An object already exists at key '{key}'. Send ?overwrite=true to replace it.");

    private IResult CatalogUnavailable()
        => Retryable(StatusCodes.Status503ServiceUnavailable, "Catalog unavailable", "The object could not be recorded in the catalog; nothing was kept. Try again later.", UnavailableRetryAfter);

    private IResult Reject(int status, string title, string detail)
    {
        Count(status, detail);
        return Problems.Result(status, title, detail);
    }

    private IResult Retryable(int status, string title, string detail, TimeSpan retryAfter)
    {
        Count(status, detail);
        return Problems.Retryable(status, title, detail, retryAfter);
    }

    /// <summary>The key a token's upload gets: the token's own, one the client chose under its prefix (or generated there), or a generated one.</summary>
    internal static (string? Key, string? Prefix, string? Problem) TokenKey(Tokens.UploadToken token, string? requestedKey)
    {
        if (token.Key is { } exact)
        {
            return requestedKey is null || requestedKey == exact ? (exact, null, null) : (null, null, $"This upload token is for the key '{exact}' only.");
        }

        if (token.KeyPrefix is { } prefix)
        {
            return requestedKey is null || requestedKey.StartsWith(prefix, StringComparison.Ordinal) ? (requestedKey, prefix, null) : (null, null, $"This upload token is for keys under '{prefix}' only.");
        }

        return requestedKey is null ? (null, null, null) : (null, null, "This upload token is for a generated key: POST /api/v1/objects without a key.");
    }

    private void Count(int status, string detail)
    {
        metrics.UploadRejected(status);
        Log.Rejected(logger, status, detail);
    }

    /// <summary>One upload's body, what it asked for, and, once written, where it went.</summary>
    private sealed class Write(UploadBody body, string? requestedKey, string? keyPrefix, bool overwrite, string contentType, long sizeHint, DateTimeOffset expiresAt)
    {
        public UploadBody Body { get; } = body;

        public string? RequestedKey { get; } = requestedKey;

        /// <summary>Where a generated key goes (an upload token's prefix); empty for none.</summary>
        public string? KeyPrefix { get; } = keyPrefix;

        public bool Overwrite { get; } = overwrite;

        public string ContentType { get; } = contentType;

        public long SizeHint { get; } = sizeHint;

        public DateTimeOffset ExpiresAt { get; } = expiresAt;

        public Placement.Placement? Placement { get; set; }

        public UploadIntent? Intent { get; set; }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.UploadStored, Level = LogLevel.Information, Message = "Stored {Key} on {StorageId} ({Size} bytes)")]
        public static partial void Stored(ILogger logger, string key, string storageId, long size);

        [LoggerMessage(EventId = EventIds.UploadWriteFailed, Level = LogLevel.Warning, Message = "Writing {Key} to storage {StorageId} failed; trying another storage: {Error}")]
        public static partial void WriteFailed(ILogger logger, string storageId, string key, string error);

        [LoggerMessage(EventId = EventIds.UploadRejected, Level = LogLevel.Information, Message = "Upload refused with {Status}: {Detail}")]
        public static partial void Rejected(ILogger logger, int status, string detail);

        [LoggerMessage(EventId = EventIds.CatalogCommitFailed, Level = LogLevel.Error, Message = "Recording {Key} (on {StorageId}) in the catalog failed; nothing is kept: {Error}")]
        public static partial void CatalogCommitFailed(ILogger logger, string key, string storageId, string error);

    }
}

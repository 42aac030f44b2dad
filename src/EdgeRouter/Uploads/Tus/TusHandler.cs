using System.Buffers.Text;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using EdgeRouter.Catalog;
using EdgeRouter.Configuration;
using EdgeRouter.Uploads.Tokens;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace EdgeRouter.Uploads.Tus;

/// <summary>
/// Resumable uploads, tus 1.0.0 (https://tus.io/protocols/resumable-upload), with the creation,
/// creation-with-upload, termination, expiration and checksum (sha256) extensions. An upload's state is in the catalog
/// and its bytes in a file of the resumable folder, so it survives a restart and resumes on any instance sharing both;
/// once its last byte arrives it goes through the same steps as any upload (<see cref="UploadHandler.StoreAsync"/>).
/// </summary>
internal sealed partial class TusHandler(
    IResumableUploadStore store,
    UploadHandler uploads,
    UploadTokenCodec tokens,
    IUploadTokenUses tokenUses,
    IOptions<EdgeRouterOptions> options,
    IHostEnvironment environment,
    TimeProvider timeProvider)
{
    public const string Route = "/api/v1/tus";
    public const string Version = "1.0.0";
    public const string Extensions = "creation,creation-with-upload,termination,expiration,checksum";
    public const string ObjectKeyHeader = "EdgeRouter-Object-Key";
    public const string ObjectUrlHeader = "EdgeRouter-Object-Url";
    private const string ChunkType = "application/offset+octet-stream";

    // tus's own status for a chunk whose Upload-Checksum does not hold.
    private const int ChecksumMismatch = 460;

    private readonly EdgeRouterOptions _options = options.Value;
    private readonly string _directory = Path.GetFullPath(options.Value.Uploads.Resumable.Directory, environment.ContentRootPath);

    /// <summary>OPTIONS: what this server speaks.</summary>
    public IResult Describe(HttpContext context)
    {
        var headers = context.Response.Headers;
        headers["Tus-Resumable"] = Version;
        headers["Tus-Version"] = Version;
        headers["Tus-Extension"] = Extensions;
        headers["Tus-Max-Size"] = _options.Uploads.MaxUploadBytes.ToString(CultureInfo.InvariantCulture);
        headers["Tus-Checksum-Algorithm"] = "sha256";
        return Results.NoContent();
    }

    /// <summary>POST: creates an upload (and, with a body, takes its first bytes).</summary>
    public async Task<IResult> CreateAsync(HttpContext context)
    {
        var request = context.Request;
        if (VersionProblem(context) is { } versionProblem)
        {
            return versionProblem;
        }

        if (request.Headers.ContainsKey("Upload-Defer-Length"))
        {
            return Problem(context, StatusCodes.Status400BadRequest, "Upload-Defer-Length is not supported: send Upload-Length.");
        }

        if (!long.TryParse(request.Headers["Upload-Length"], NumberStyles.None, CultureInfo.InvariantCulture, out var length) || length < 1)
        {
            return Problem(context, StatusCodes.Status400BadRequest, "Upload-Length must be a whole number of bytes, at least 1.");
        }

        var token = context.Features.Get<UploadToken>();
        var maxBytes = Math.Min(_options.Uploads.MaxUploadBytes, token?.MaxBytes ?? long.MaxValue);
        if (length > maxBytes)
        {
            context.Response.Headers["Tus-Max-Size"] = maxBytes.ToString(CultureInfo.InvariantCulture);
            return Problem(context, StatusCodes.Status413RequestEntityTooLarge, $"Upload-Length {length} is over the limit of {maxBytes} bytes.");
        }

        var metadataHeader = request.Headers["Upload-Metadata"].ToString();
        if (ParseMetadata(metadataHeader) is not { } metadata)
        {
            return Problem(context, StatusCodes.Status400BadRequest, "Upload-Metadata must be comma-separated 'key base64value' pairs.");
        }

        // The key: the one the metadata asks for, within a token's claims.
        var requestedKey = metadata.GetValueOrDefault("key");
        if (token is not null)
        {
            var (_, _, keyProblem) = UploadHandler.TokenKey(token, requestedKey);
            if (keyProblem is not null)
            {
                return Problem(context, StatusCodes.Status403Forbidden, keyProblem);
            }
        }

        if (requestedKey is not null && Storage.ObjectKeys.ValidateClientKey(requestedKey) is { } keyError)
        {
            return Problem(context, StatusCodes.Status400BadRequest, keyError);
        }

        if (token is not null && await tokenUses.UseAsync(token, context.RequestAborted) is { } replayed)
        {
            return Problem(context, StatusCodes.Status401Unauthorized, replayed);
        }

        var now = timeProvider.GetUtcNow();
        var upload = new ResumableUpload(
            Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16)),
            length,
            metadataHeader.Length == 0 ? null : metadataHeader,
            token is null ? null : JsonSerializer.Serialize(token),
            now,
            now + _options.Uploads.Resumable.Expiry);
        // The state first: bytes no state names would be found by no sweep.
        await store.CreateResumableAsync(upload, CancellationToken.None);
        Directory.CreateDirectory(_directory);
        await using (File.Create(DataPath(upload.Id)))
        {
        }

        var headers = context.Response.Headers;
        headers.Location = $"{request.Scheme}://{request.Host}{request.PathBase}{Route}/{upload.Id}";
        headers["Tus-Resumable"] = Version;

        // creation-with-upload: the first bytes came with the request.
        if (string.Equals(request.ContentType, ChunkType, StringComparison.OrdinalIgnoreCase))
        {
            var written = await WriteChunkAsync(context, upload, 0);
            if (written is not null)
            {
                return written;
            }
        }
        else
        {
            headers["Upload-Expires"] = upload.ExpiresAt.ToString("R", CultureInfo.InvariantCulture);
        }

        return Results.StatusCode(StatusCodes.Status201Created);
    }

    /// <summary>HEAD: where the upload stands (and, once complete, the object it became).</summary>
    public async Task<IResult> HeadAsync(HttpContext context, string id)
    {
        if (VersionProblem(context) is { } versionProblem)
        {
            return versionProblem;
        }

        var (upload, problem) = await FindAsync(context, id);
        if (upload is null)
        {
            return problem!;
        }

        var headers = context.Response.Headers;
        headers.CacheControl = "no-store";
        headers["Tus-Resumable"] = Version;
        headers["Upload-Length"] = upload.Length.ToString(CultureInfo.InvariantCulture);
        headers["Upload-Offset"] = (upload.ObjectKey is null ? CurrentOffset(upload.Id) : upload.Length).ToString(CultureInfo.InvariantCulture);
        headers["Upload-Expires"] = upload.ExpiresAt.ToString("R", CultureInfo.InvariantCulture);
        if (upload.Metadata is { } metadata)
        {
            headers["Upload-Metadata"] = metadata;
        }

        NameObject(context, upload);
        return Results.Ok();
    }

    /// <summary>PATCH: the next bytes, at the offset the upload has reached.</summary>
    public async Task<IResult> PatchAsync(HttpContext context, string id)
    {
        if (VersionProblem(context) is { } versionProblem)
        {
            return versionProblem;
        }

        if (!string.Equals(context.Request.ContentType, ChunkType, StringComparison.OrdinalIgnoreCase))
        {
            return Problem(context, StatusCodes.Status415UnsupportedMediaType, $"A PATCH carries Content-Type: {ChunkType}.");
        }

        if (!long.TryParse(context.Request.Headers["Upload-Offset"], NumberStyles.None, CultureInfo.InvariantCulture, out var offset))
        {
            return Problem(context, StatusCodes.Status400BadRequest, "Upload-Offset must be a whole number of bytes.");
        }

        var (upload, problem) = await FindAsync(context, id);
        if (upload is null)
        {
            return problem!;
        }

        context.Response.Headers["Tus-Resumable"] = Version;
        if (upload.ObjectKey is not null)
        {
            context.Response.Headers["Upload-Offset"] = upload.Length.ToString(CultureInfo.InvariantCulture);
            NameObject(context, upload);
            return offset == upload.Length ? Results.NoContent() : Problem(context, StatusCodes.Status409Conflict, $"The upload is complete at offset {upload.Length}.");
        }

        return await WriteChunkAsync(context, upload, offset) ?? Results.NoContent();
    }

    /// <summary>DELETE (termination): the upload and its bytes are gone.</summary>
    public async Task<IResult> TerminateAsync(HttpContext context, string id)
    {
        if (VersionProblem(context) is { } versionProblem)
        {
            return versionProblem;
        }

        var (upload, problem) = await FindAsync(context, id, expiredToo: true);
        if (upload is null)
        {
            return problem!;
        }

        try
        {
            File.Delete(DataPath(upload.Id));
        }
        catch (IOException)
        {
            return Problem(context, StatusCodes.Status423Locked, "Another request is writing this upload.");
        }

        await store.DeleteResumableAsync(upload.Id, CancellationToken.None);
        context.Response.Headers["Tus-Resumable"] = Version;
        return Results.NoContent();
    }

    /// <summary>Removes an expired upload's bytes and state (the sweeper).</summary>
    public async Task<bool> RemoveAsync(string id)
    {
        try
        {
            File.Delete(DataPath(id));
        }
        catch (IOException)
        {
            // Being written right now: not expired after all; the next sweep looks again.
            return false;
        }

        return await store.DeleteResumableAsync(id, CancellationToken.None);
    }

    /// <summary>
    /// Appends the request's body at <paramref name="offset"/> (only one request writes an upload at a time: its file
    /// is opened exclusively), synced to disk before the new offset is answered; completes the upload when it is
    /// whole. Null when the chunk was taken (the caller answers 204); otherwise the answer.
    /// </summary>
    private async Task<IResult?> WriteChunkAsync(HttpContext context, ResumableUpload upload, long offset)
    {
        var (algorithm, expected) = ParseChecksum(context.Request.Headers["Upload-Checksum"].ToString());
        if (algorithm is not null and not "sha256" || (algorithm is not null && expected is null))
        {
            return Problem(context, StatusCodes.Status400BadRequest, "Upload-Checksum must be 'sha256 <base64 digest>'.");
        }

        // A chunk is bounded by what the upload still lacks (checked as it streams), not by Kestrel's 30 MB default:
        // tus clients send the whole file in one PATCH unless told otherwise.
        if (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = null;
        }

        FileStream file;
        try
        {
            file = new FileStream(DataPath(upload.Id), FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.Asynchronous);
        }
        catch (FileNotFoundException)
        {
            return Problem(context, StatusCodes.Status404NotFound, "There is no such upload.");
        }
        catch (IOException)
        {
            return Problem(context, StatusCodes.Status423Locked, "Another request is writing this upload.");
        }

        long reached;
        await using (file)
        {
            if (file.Length != offset)
            {
                context.Response.Headers["Upload-Offset"] = file.Length.ToString(CultureInfo.InvariantCulture);
                return Problem(context, StatusCodes.Status409Conflict, $"Upload-Offset {offset} is not where the upload is ({file.Length}); send HEAD to learn it.");
            }

            var room = upload.Length - offset;
            file.Position = offset;
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[81920];
            long received = 0;
            try
            {
                int read;
                while ((read = await context.Request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
                {
                    received += read;
                    if (received > room)
                    {
                        file.SetLength(offset);
                        return Problem(context, StatusCodes.Status413RequestEntityTooLarge, $"The chunk goes past Upload-Length ({upload.Length}).");
                    }

                    hash.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), CancellationToken.None);
                }
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or BadHttpRequestException)
            {
                // The connection dropped: what arrived stays, unless it must be checked whole; the client resumes from HEAD.
                if (expected is not null)
                {
                    file.SetLength(offset);
                }

                file.Flush(flushToDisk: _options.Uploads.SyncToDisk);
                await store.TouchResumableAsync(upload.Id, timeProvider.GetUtcNow() + _options.Uploads.Resumable.Expiry, CancellationToken.None);
                return Results.Empty;
            }

            if (expected is not null && !CryptographicOperations.FixedTimeEquals(hash.GetHashAndReset(), expected))
            {
                file.SetLength(offset);
                return Problem(context, ChecksumMismatch, "The chunk's SHA-256 is not the one Upload-Checksum gives; it was not kept.");
            }

            file.Flush(flushToDisk: _options.Uploads.SyncToDisk);
            reached = file.Length;
        }

        // The first bytes are sniffed as soon as they are here: content that will be refused is refused now, not
        // after the rest of it was sent.
        if (offset < ContentSniffer.HeadLength && (reached >= ContentSniffer.HeadLength || reached == upload.Length) && await SniffProblemAsync(upload) is { } refused)
        {
            await RemoveAsync(upload.Id);
            return Problem(context, StatusCodes.Status415UnsupportedMediaType, refused);
        }

        var expiresAt = timeProvider.GetUtcNow() + _options.Uploads.Resumable.Expiry;
        await store.TouchResumableAsync(upload.Id, expiresAt, CancellationToken.None);
        var headers = context.Response.Headers;
        headers["Upload-Offset"] = reached.ToString(CultureInfo.InvariantCulture);
        headers["Upload-Expires"] = expiresAt.ToString("R", CultureInfo.InvariantCulture);
        return reached == upload.Length ? await CompleteAsync(context, upload) : null;
    }

    private async Task<string?> SniffProblemAsync(ResumableUpload upload)
    {
        var (metadata, token) = Claims(upload);
        var head = new byte[ContentSniffer.HeadLength];
        int read;
        await using (var bytes = new FileStream(DataPath(upload.Id), FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.Asynchronous))
        {
            read = await bytes.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false);
        }

        var key = metadata.GetValueOrDefault("key");
        return uploads.Sniff(metadata.GetValueOrDefault("filetype"), head.AsSpan(0, read), token, token is null ? key : UploadHandler.TokenKey(token, key).Key).Problem;
    }

    /// <summary>The upload's metadata and the claims of the token that created it.</summary>
    private static (Dictionary<string, string> Metadata, UploadToken? Token) Claims(ResumableUpload upload)
        => (ParseMetadata(upload.Metadata ?? string.Empty) ?? [], upload.Token is null ? null : JsonSerializer.Deserialize<UploadToken>(upload.Token));

    /// <summary>
    /// The whole upload, stored as any upload is. A refusal (its type, its key) ends it: it could never succeed. A
    /// failure that may pass (the catalog, a full disk, no storage) keeps it, and a PATCH at its length tries again.
    /// </summary>
    private async Task<IResult?> CompleteAsync(HttpContext context, ResumableUpload upload)
    {
        var (metadata, token) = Claims(upload);
        var (key, prefix) = (metadata.GetValueOrDefault("key"), (string?)null);
        if (token is not null)
        {
            (key, prefix, _) = UploadHandler.TokenKey(token, key);
        }

        StoreResult stored;
        try
        {
            await using var bytes = new FileStream(DataPath(upload.Id), FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
            var expiresAt = timeProvider.GetUtcNow() + _options.Uploads.MaxUploadDuration + _options.Uploads.IntentMargin;
            stored = await uploads.StoreAsync(
                new StoreRequest(bytes, metadata.GetValueOrDefault("filetype"), key, prefix, Overwrite: false, token, upload.Length, upload.Length, Stopwatch.GetTimestamp(), expiresAt),
                context.RequestAborted);
        }
        catch (CatalogUnavailableException)
        {
            return Problem(context, StatusCodes.Status503ServiceUnavailable, "The object catalog is unavailable; PATCH at the upload's length again to finish it.");
        }
        catch (UploadBodyException ex)
        {
            return Problem(context, StatusCodes.Status507InsufficientStorage, $"{ex.Message} PATCH at the upload's length again to finish it.");
        }

        if (stored.Created is not { } created)
        {
            if (stored.Refused is IStatusCodeHttpResult { StatusCode: < 500 })
            {
                File.Delete(DataPath(upload.Id));
                await store.DeleteResumableAsync(upload.Id, CancellationToken.None);
            }

            return stored.Refused;
        }

        await store.CompleteResumableAsync(upload.Id, created.Key, created.Url, CancellationToken.None);
        File.Delete(DataPath(upload.Id));
        NameObject(context, upload with { ObjectKey = created.Key, ObjectUrl = created.Url });
        return null;
    }

    /// <summary>The upload, if it exists, has not expired, and the caller may touch it: an API key, or the token that created it.</summary>
    private async Task<(ResumableUpload? Upload, IResult? Problem)> FindAsync(HttpContext context, string id, bool expiredToo = false)
    {
        var upload = UploadId().IsMatch(id) ? await store.FindResumableAsync(id, context.RequestAborted) : null;
        if (upload is null)
        {
            return (null, Problem(context, StatusCodes.Status404NotFound, "There is no such upload."));
        }

        if (!expiredToo && upload.ExpiresAt <= timeProvider.GetUtcNow())
        {
            return (null, Problem(context, StatusCodes.Status410Gone, $"The upload expired at {upload.ExpiresAt:O}."));
        }

        var presented = ApiKeys.Presented(context.Request.Headers);
        if (presented is not null && UploadTokenCodec.LooksLikeToken(presented))
        {
            // A token goes on with the upload it created even once it has expired: its use was the creation.
            var (token, problem) = tokens.Verify(presented, timeProvider.GetUtcNow(), allowExpired: true);
            if (token is null)
            {
                return (null, Problem(context, StatusCodes.Status401Unauthorized, problem!));
            }

            return upload.Token is { } created && JsonSerializer.Deserialize<UploadToken>(created)?.Id == token.Id
                ? (upload, null)
                : (null, Problem(context, StatusCodes.Status403Forbidden, "This upload was created with another token."));
        }

        var authenticated = await context.AuthenticateAsync(ApiKeys.Scheme);
        return authenticated.Succeeded && !authenticated.Principal.IsInRole(ApiKeys.TokenRole)
            ? (upload, null)
            : (null, Problem(context, StatusCodes.Status401Unauthorized, authenticated.Failure?.Message ?? "An API key or the upload's token is required."));
    }

    private static void NameObject(HttpContext context, ResumableUpload upload)
    {
        if (upload.ObjectKey is { } key)
        {
            context.Response.Headers[ObjectKeyHeader] = key;
            context.Response.Headers[ObjectUrlHeader] = upload.ObjectUrl;
        }
    }

    private long CurrentOffset(string id)
    {
        var file = new FileInfo(DataPath(id));
        return file.Exists ? file.Length : 0;
    }

    private string DataPath(string id) => Path.Combine(_directory, id);

    private static IResult? VersionProblem(HttpContext context)
    {
        if (context.Request.Headers["Tus-Resumable"].ToString() == Version)
        {
            return null;
        }

        context.Response.Headers["Tus-Version"] = Version;
        return Problem(context, StatusCodes.Status412PreconditionFailed, $"This server speaks tus {Version}: send Tus-Resumable: {Version}.");
    }

    private static IResult Problem(HttpContext context, int status, string detail)
    {
        context.Response.Headers["Tus-Resumable"] = Version;
        context.Response.Headers.CacheControl = "no-store";
        return Problems.Result(status, status == ChecksumMismatch ? "Checksum Mismatch" : Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status), detail);
    }

    /// <summary><c>Upload-Metadata</c>: comma-separated <c>key base64value</c> pairs (a value may be absent); null when malformed.</summary>
    private static Dictionary<string, string>? ParseMetadata(string header)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in header.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = pair.Split(' ', 2);
            try
            {
                metadata[parts[0]] = parts.Length == 2 ? Encoding.UTF8.GetString(Convert.FromBase64String(parts[1])) : string.Empty;
            }
            catch (FormatException)
            {
                return null;
            }
        }

        return metadata;
    }

    private static (string? Algorithm, byte[]? Digest) ParseChecksum(string header)
    {
        if (header.Length == 0)
        {
            return (null, null);
        }

        var parts = header.Split(' ', 2);
        try
        {
            return (parts[0], parts.Length == 2 ? Convert.FromBase64String(parts[1]) : null);
        }
        catch (FormatException)
        {
            return (parts[0], null);
        }
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{22}$")]
    private static partial Regex UploadId();
}

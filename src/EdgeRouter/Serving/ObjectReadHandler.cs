using System.Diagnostics;
using EdgeRouter.Catalog;
using Microsoft.Win32.SafeHandles;
using EdgeRouter.Configuration;
using EdgeRouter.Observability;
using EdgeRouter.Serving.Cache;
using EdgeRouter.Storage;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;

namespace EdgeRouter.Serving;

/// <summary>
/// Answers <c>GET</c> and <c>HEAD</c> of an object: the hot path. A catalog lookup (in memory when hot) names the
/// owning storage, whose read mode says whether to redirect to the mapped URL, forward there, or stream from the
/// backend's API; <c>proxy</c> and <c>stream</c> reads of small objects are answered from the origin cache.
/// </summary>
/// <remarks>
/// 1. Take the key from the path; an impossible key is simply not found.
/// 2. Look it up in the catalog (or, for a storage with <c>"adopt": true</c>, adopt it from there): unknown keys get a
///    short-lived 404 a CDN may cache.
/// 3. Find the owning storage in the configuration in force.
/// 4. Answer by the storage's read mode. Backend failures answer 502/504 with <c>no-store</c>.
/// </remarks>
internal sealed partial class ObjectReadHandler(
    IObjectCatalog catalog,
    IStorageRegistry registry,
    IHttpForwarder forwarder,
    StorageForwarding forwarding,
    KeysBeingWritten keysBeingWritten,
    OriginCache cache,
    Jobs.LazyAdoption adoption,
    Cdn.CacheTags cacheTags,
    IOptions<EdgeRouterOptions> options,
    EdgeRouterMetrics metrics,
    ILogger<ObjectReadHandler> logger)
{
    private const string NoStore = "no-store";

    // The read modes' names as labels, indexed by ReadMode, so a read allocates none.
    private static readonly string[] ReadModeNames = [.. Enum.GetValues<ReadMode>().OrderBy(m => (int)m).Select(m => m.ToString().ToLowerInvariant())];
    private const int FileChunkBytes = 64 * 1024;
    private static readonly byte[] NotFoundBody = "Not found."u8.ToArray();
    private readonly ServingOptions _serving = options.Value.Serving;
    private readonly HashSet<string> _corsOrigins = new(options.Value.Serving.CorsAllowedOrigins, StringComparer.OrdinalIgnoreCase);

    public async Task HandleAsync(HttpContext context)
    {
        try
        {
            await ReadAsync(context);
        }
        catch (Exception ex) when (!context.RequestAborted.IsCancellationRequested)
        {
            // Reads short-circuit past the exception handler, so a bug here must still answer an uncacheable 500.
            Log.ReadFailed(logger, context.Request.Path.Value, ex);
            await FailAsync(context, StatusCodes.Status500InternalServerError, "error");
        }
    }

    private async Task ReadAsync(HttpContext context)
    {
        if (_corsOrigins.Count > 0)
        {
            AllowOrigin(context);
        }

        // Spans (when traces are exported, for sampled requests): the read, its lookup, and the streaming or the
        // forward (HttpClient's own span, whose traceparent the backend receives).
        using var span = EdgeRouterTelemetry.StartSpan("read");

        // 1. The key.
        var key = context.Request.RouteValues["key"] as string;
        if (!ObjectKeys.IsValid(key))
        {
            await NotFoundAsync(context, null);
            return;
        }

        // 2. The catalog.
        ObjectRecord? record;
        try
        {
            using var lookup = EdgeRouterTelemetry.StartSpan("lookup");
            record = await catalog.FindAsync(key!, context.RequestAborted) ?? await adoption.FindAsync(key!, context.RequestAborted);
        }
        catch (StorageException ex)
        {
            // A storage that adopts could not be asked: the key may well be there, so no 404 a CDN would keep.
            Log.BackendFailed(logger, key!, "adopt", ex.Message);
            await FailAsync(context, StatusCodes.Status502BadGateway, "backend-error");
            return;
        }
        catch (CatalogUnavailableException ex)
        {
            Log.BackendFailed(logger, key!, "catalog", ex.Message);
            await FailAsync(context, StatusCodes.Status503ServiceUnavailable, "catalog");
            return;
        }

        if (record is null)
        {
            await NotFoundAsync(context, key);
            return;
        }

        // 3. The owning storage.
        if (!registry.Current.ById.TryGetValue(record.StorageId, out var storage))
        {
            Log.StorageUnknown(logger, record.Key, record.StorageId);
            await FailAsync(context, StatusCodes.Status502BadGateway, "unknown-storage");
            return;
        }

        // Every answer names the object and its storage, so a CDN purges one or the other with one call.
        cacheTags.Apply(context.Response.Headers, record.Key, storage.Id);

        // 4. The read mode.
        var mode = ReadModeNames[(int)storage.Read];
        span?.SetTag("edgerouter.storage", storage.Id);
        span?.SetTag("edgerouter.read_mode", mode);
        var started = Stopwatch.GetTimestamp();
        switch (storage.Read)
        {
            case ReadMode.Redirect:
                Redirect(context, storage, record);
                break;
            case ReadMode.Proxy when !Cached(storage, record):
                await ProxyAsync(context, storage, record);
                break;
            case ReadMode.Presigned:
                await RedirectToSignedUrlAsync(context, storage, record);
                break;
            default:
                using (EdgeRouterTelemetry.StartSpan("stream"))
                {
                    await StreamAsync(context, storage, record, mode);
                }

                break;
        }

        metrics.ReadDuration(storage.Id, mode, Stopwatch.GetElapsedTime(started));
    }

    /// <summary>
    /// <c>Serving:CorsAllowedOrigins</c>: a page on an allowed origin may read the object (draw it into a canvas). With
    /// exact origins the answer varies by <c>Origin</c>, so every answer says so and a CDN keeps one per origin.
    /// </summary>
    private void AllowOrigin(HttpContext context)
    {
        var headers = context.Response.Headers;
        if (_corsOrigins.Contains("*"))
        {
            headers.AccessControlAllowOrigin = "*";
            return;
        }

        headers.Vary = "Origin";
        if (context.Request.Headers.Origin is [{ } origin] && _corsOrigins.Contains(origin))
        {
            headers.AccessControlAllowOrigin = origin;
        }
    }

    private void Redirect(HttpContext context, StorageDefinition storage, ObjectRecord record)
    {
        var response = context.Response;
        response.StatusCode = storage.Config.RedirectStatus;
        response.Headers.Location = storage.MapUrl(record.Location);
        response.Headers.CacheControl = _serving.RedirectCacheControl;
        metrics.Read("redirect", "redirected");
    }

    private async Task RedirectToSignedUrlAsync(HttpContext context, StorageDefinition storage, ObjectRecord record)
    {
        string url;
        try
        {
            url = await storage.Store.As<IPresignedUrlStore>()!.GetPresignedReadUrlAsync(record.Location, context.RequestAborted);
        }
        catch (StorageException ex)
        {
            Log.BackendFailed(logger, record.Key, storage.Id, ex.Message);
            await FailAsync(context, StatusCodes.Status502BadGateway, "backend-error");
            return;
        }

        // A signed URL is a short-lived credential: no cache may keep the redirect that carries it.
        context.Response.StatusCode = StatusCodes.Status302Found;
        context.Response.Headers.Location = url;
        context.Response.Headers.CacheControl = NoStore;
        metrics.Read("presigned", "redirected");
    }

    private async Task ProxyAsync(HttpContext context, StorageDefinition storage, ObjectRecord record)
    {
        context.Items[StorageForwarding.ProxiedObjectKey] = new ProxiedObject(record, storage.CacheControl);
        var error = await forwarder.SendAsync(context, storage.MapUrl(record.Location), forwarding.Invoker, forwarding.RequestConfig, forwarding.Transformer);
        if (error == ForwarderError.None)
        {
            metrics.Read("proxy", "forwarded");
            if (!HttpMethods.IsHead(context.Request.Method))
            {
                metrics.ReadBytes("proxy", context.Response.ContentLength ?? 0);
            }

            return;
        }

        // YARP has set 502 or 504 already when nothing was sent; only the caching needs saying.
        Log.ProxyFailed(logger, record.Key, storage.Id, error);
        if (!context.Response.HasStarted)
        {
            context.Response.Headers.CacheControl = NoStore;
        }

        metrics.Read("proxy", "backend-error");
    }

    /// <summary>Whether the origin cache answers: it checks what it keeps against the record's hash, so not while that is pending.</summary>
    private bool Cached(StorageDefinition storage, ObjectRecord record) => storage.Cached && cache.Keeps(record.Size) && !record.HashPending;

    /// <summary>
    /// Answers from the record (validators, ranges, HEAD) and then sends the bytes from the origin cache or the
    /// backend's API. A <c>proxy</c> storage's cached objects are answered here too, with the same headers.
    /// </summary>
    private async Task StreamAsync(HttpContext context, StorageDefinition storage, ObjectRecord record, string mode)
    {
        var request = context.Request;
        var response = context.Response;
        var headers = response.Headers;
        headers.ETag = record.ETag;
        headers.LastModified = record.LastModifiedHeader;
        headers.CacheControl = storage.CacheControl;
        headers.AcceptRanges = "bytes";
        headers.XContentTypeOptions = "nosniff";
        headers.ContentSecurityPolicy = StorageForwarding.ContentSecurityPolicy;

        var precondition = HttpPreconditions.Evaluate(request, record.ETag, record.CreatedAt, record.Size);
        switch (precondition.Outcome)
        {
            case PreconditionOutcome.NotModified:
                response.StatusCode = StatusCodes.Status304NotModified;
                cacheTags.ApplyLifetimes(headers);
                metrics.Read(mode, "not-modified");
                return;
            case PreconditionOutcome.PreconditionFailed:
                response.StatusCode = StatusCodes.Status412PreconditionFailed;
                metrics.Read(mode, "precondition-failed");
                return;
            case PreconditionOutcome.RangeNotSatisfiable:
                response.StatusCode = StatusCodes.Status416RangeNotSatisfiable;
                headers.ContentRange = $"bytes */{record.Size}";
                metrics.Read(mode, "range-not-satisfiable");
                return;
        }

        cacheTags.ApplyLifetimes(headers);
        ByteRange? range = precondition.Outcome == PreconditionOutcome.Partial ? new ByteRange(precondition.Offset, precondition.Length) : null;
        response.ContentType = record.ContentType;
        response.ContentLength = range?.Length ?? record.Size;
        if (range is { } r)
        {
            response.StatusCode = StatusCodes.Status206PartialContent;
            headers.ContentRange = $"bytes {r.Offset}-{r.Last}/{record.Size}";
        }

        if (HttpMethods.IsHead(request.Method))
        {
            metrics.Read(mode, "head");
            return;
        }

        try
        {
            if (Cached(storage, record))
            {
                await WriteCachedAsync(context, storage, record, range);
            }
            else
            {
                await CopyObjectAsync(context, storage, record, range);
            }

            metrics.Read(mode, range is null ? "full" : "partial");
            metrics.ReadBytes(mode, response.ContentLength ?? 0);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client left; nothing to answer.
        }
        catch (StorageException ex)
        {
            Log.BackendFailed(logger, record.Key, storage.Id, ex.Message);
            await FailAsync(context, ex.IsTimeout ? StatusCodes.Status504GatewayTimeout : StatusCodes.Status502BadGateway, "backend-error");
        }
    }

    /// <summary>
    /// The body (or its range) from the cache's memory, 64 KiB per write so a slow client holds no more of the pipe,
    /// or from its disk tier's file.
    /// </summary>
    private async Task WriteCachedAsync(HttpContext context, StorageDefinition storage, ObjectRecord record, ByteRange? range)
    {
        using var read = await cache.GetAsync(storage, record, whole: range is null, context.RequestAborted);
        var (offset, count) = (range?.Offset ?? 0, range?.Length ?? record.Size);
        if (read.Pending is { } pending)
        {
            await WriteWhileFillingAsync(context, storage, record, pending);
            return;
        }

        if (read.File is { } file)
        {
            await CopyHandleAsync(context, file, offset, count, record, storage);
            cache.Served(count);
            return;
        }

        if (read.Body is not { } body)
        {
            // The disk tier could not keep it: the backend answers, as without a cache.
            await CopyObjectAsync(context, storage, record, range);
            return;
        }

        var bytes = body.Memory.Slice((int)offset, (int)count);
        var writer = context.Response.BodyWriter;
        for (var sent = 0; sent < bytes.Length;)
        {
            var chunk = bytes.Slice(sent, Math.Min(FileChunkBytes, bytes.Length - sent));
            var flush = await writer.WriteAsync(chunk, context.RequestAborted);
            sent += chunk.Length;
            if (flush.IsCanceled || flush.IsCompleted)
            {
                break;
            }
        }

        cache.Served(bytes.Length);
    }

    /// <summary>
    /// The first request of a miss: sends the bytes as the fill receives them, but the last one only once the whole
    /// was checked, so a body that is not the record's never completes as a response (it is aborted: a truncated
    /// answer no cache keeps). A failure before any byte is an ordinary 502.
    /// </summary>
    private async Task WriteWhileFillingAsync(HttpContext context, StorageDefinition storage, ObjectRecord record, PendingFill pending)
    {
        var writer = context.Response.BodyWriter;
        SafeFileHandle? file = null;
        try
        {
            long sent = 0;
            while (sent < pending.Length)
            {
                var changed = pending.Changed;
                var done = pending.Done;
                if (done.IsFaulted)
                {
                    await done;
                }

                if (done.IsCompletedSuccessfully && !done.Result)
                {
                    // The disk tier could not keep it: before any byte, the backend answers instead.
                    if (sent > 0)
                    {
                        throw new StorageException($"The origin cache's disk tier failed while '{record.Key}' was being sent.");
                    }

                    await CopyObjectAsync(context, storage, record, null);
                    return;
                }

                var limit = done.IsCompletedSuccessfully ? pending.Length : Math.Min(pending.Arrived, pending.Length - 1);
                if (limit <= sent)
                {
                    await Task.WhenAny(changed, done).WaitAsync(context.RequestAborted);
                    continue;
                }

                if (pending.Body is { } body)
                {
                    var flush = await writer.WriteAsync(body.Memory[(int)sent..(int)limit], context.RequestAborted);
                    if (flush.IsCanceled || flush.IsCompleted)
                    {
                        return;
                    }
                }
                else
                {
                    file ??= await OpenFillFileAsync(pending, record, context.RequestAborted);
                    await CopyRangeAsync(context, file, sent, limit - sent, record, storage);
                }

                sent = limit;
            }
        }
        finally
        {
            file?.Dispose();
        }
    }

    /// <summary>The disk fill's file: the one being written, or, once it was renamed into place, the kept one.</summary>
    private static async Task<SafeFileHandle> OpenFillFileAsync(PendingFill pending, ObjectRecord record, CancellationToken cancellationToken)
    {
        try
        {
            return File.OpenHandle(pending.FilePath!, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (FileNotFoundException)
        {
            // Renamed into place between reading its name and opening it (or gone with a failure, which Done rethrows).
            if (!await pending.Done.WaitAsync(cancellationToken))
            {
                throw new StorageException($"The origin cache's disk tier failed while '{record.Key}' was being sent.");
            }

            try
            {
                return File.OpenHandle(pending.FilePath!, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
            }
            catch (FileNotFoundException ex)
            {
                throw new StorageException($"The origin cache let go of '{record.Key}' while it was being sent.", ex);
            }
        }
    }

    private async Task CopyObjectAsync(HttpContext context, StorageDefinition storage, ObjectRecord record, ByteRange? range)
    {
        if (record.HashPending && range is null)
        {
            await CopyAndHashAsync(context, storage, record);
            return;
        }

        if (storage.Store.As<IPhysicalObjectStore>() is { } physical)
        {
            await CopyFileAsync(context, physical.GetPhysicalPath(record.Location), range?.Offset ?? 0, range?.Length ?? record.Size, record, storage);
            return;
        }

        var content = await storage.Store.OpenReadAsync(record.Location, range, context.RequestAborted) ?? throw MissingObject(record, storage);
        await using (content)
        {
            CheckSize(content.TotalLength, record, storage);
            await content.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
        }
    }

    /// <summary>
    /// The first whole stream of an object imported without its hash records it, so from then on its ETag is its
    /// SHA-256 and every copy, cache fill and verify checks against it.
    /// </summary>
    private async Task CopyAndHashAsync(HttpContext context, StorageDefinition storage, ObjectRecord record)
    {
        var content = await storage.Store.OpenReadAsync(record.Location, null, context.RequestAborted) ?? throw MissingObject(record, storage);
        string sha256;
        long length;
        await using (content)
        {
            CheckSize(content.TotalLength, record, storage);
            await using var hashing = new HashingReadStream(content.Content);
            await hashing.CopyToAsync(context.Response.Body, context.RequestAborted);
            (sha256, length) = (hashing.Sha256Hex, hashing.Count);
        }

        if (length != record.Size)
        {
            return;
        }

        try
        {
            await catalog.RecordHashAsync(record, sha256, CancellationToken.None);
        }
        catch (CatalogUnavailableException ex)
        {
            // The response is complete; the next stream or a deep verify records the hash.
            Log.HashNotRecorded(logger, record.Key, ex.Message);
        }
    }

    /// <summary>
    /// Reads the file straight into the response pipe's buffers: no FileStream, no intermediate copy buffer, one
    /// open per read. Kestrel has no sendfile; for objects served from the page cache this is the cheapest path.
    /// </summary>
    private async Task CopyFileAsync(HttpContext context, string path, long offset, long count, ObjectRecord record, StorageDefinition storage)
    {
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw MissingObject(record, storage);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StorageException($"Local storage could not open '{record.Key}': {ex.Message}", ex);
        }

        using (handle)
        {
            await CopyHandleAsync(context, handle, offset, count, record, storage);
        }
    }

    private Task CopyHandleAsync(HttpContext context, SafeFileHandle handle, long offset, long count, ObjectRecord record, StorageDefinition storage)
    {
        CheckSize(RandomAccess.GetLength(handle), record, storage);
        return CopyRangeAsync(context, handle, offset, count, record, storage);
    }

    private static async Task CopyRangeAsync(HttpContext context, SafeFileHandle handle, long offset, long count, ObjectRecord record, StorageDefinition storage)
    {
        var writer = context.Response.BodyWriter;
        while (count > 0)
        {
            var memory = writer.GetMemory((int)Math.Min(count, FileChunkBytes));
            var read = RandomAccess.Read(handle, memory.Span[..(int)Math.Min(count, memory.Length)], offset);
            if (read == 0)
            {
                // The file is shorter than the catalog says: abort rather than send a short body as complete.
                throw new StorageException($"'{record.Key}' on storage '{storage.Id}' is shorter than its catalog record.");
            }

            writer.Advance(read);
            offset += read;
            count -= read;
            var flush = await writer.FlushAsync(context.RequestAborted);
            if (flush.IsCanceled || flush.IsCompleted)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Before any byte: an object whose size is not its record's (changed or cut short outside the router) is not
    /// sent, since a 200 under the record's ETag would have a CDN keep the wrong bytes for a year.
    /// </summary>
    private void CheckSize(long actual, ObjectRecord record, StorageDefinition storage)
    {
        if (actual != record.Size)
        {
            Log.SizeMismatch(logger, record.Key, storage.Id, record.Location, actual, record.Size);
            throw new StorageException($"'{record.Location}' on storage '{storage.Id}' has {actual} bytes; its catalog record says {record.Size}.");
        }
    }

    private StorageException MissingObject(ObjectRecord record, StorageDefinition storage)
    {
        Log.ObjectMissing(logger, record.Key, storage.Id);
        return new StorageException($"The catalog names storage '{storage.Id}' for '{record.Key}', but the object is not there.");
    }

    private async Task NotFoundAsync(HttpContext context, string? key)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status404NotFound;
        if (key is not null)
        {
            cacheTags.Apply(response.Headers, key, null);
        }

        // A key being uploaded exists a moment later: a CDN must not keep this 404 for NotFoundCacheControl's max-age.
        response.Headers.CacheControl = key is not null && keysBeingWritten.Contains(key) ? NoStore : _serving.NotFoundCacheControl;
        metrics.Read("none", "not-found");
        response.ContentType = "text/plain; charset=utf-8";

        // A length instead of chunking: headers and body leave in one write (a 404 storm makes many).
        response.ContentLength = NotFoundBody.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(NotFoundBody, context.RequestAborted);
        }
    }

    private Task FailAsync(HttpContext context, int status, string outcome)
    {
        metrics.Read("none", outcome);
        var response = context.Response;
        if (response.HasStarted)
        {
            // Headers are gone: the only honest signal left is to abort, so the client sees a truncated body.
            context.Abort();
            return Task.CompletedTask;
        }

        response.Clear();
        response.StatusCode = status;
        response.Headers.CacheControl = NoStore;
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return Task.CompletedTask;
        }

        var (title, detail) = status switch
        {
            500 => ("Internal Server Error", "The router failed to serve this object; the reason is in its log."),
            503 => ("Service Unavailable", "The object catalog is unavailable."),
            504 => ("Gateway Timeout", "The storage that holds this object did not answer in time."),
            _ => ("Bad Gateway", "The storage that holds this object could not serve it."),
        };
        return Uploads.Problems.WriteAsync(context, status, title, detail);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.ReadBackendFailed, Level = LogLevel.Error, Message = "Reading {Key} from {StorageId} failed: {Error}")]
        public static partial void BackendFailed(ILogger logger, string key, string storageId, string error);

        [LoggerMessage(EventId = EventIds.ReadSizeMismatch, Level = LogLevel.Error, Message = "{Key}: {Location} on storage {StorageId} has {Actual} bytes, but its record says {Expected}; not served")]
        public static partial void SizeMismatch(ILogger logger, string key, string storageId, string location, long actual, long expected);

        [LoggerMessage(EventId = EventIds.ReadObjectMissing, Level = LogLevel.Error, Message = "The catalog names storage {StorageId} for {Key}, but the object is not there")]
        public static partial void ObjectMissing(ILogger logger, string key, string storageId);

        [LoggerMessage(EventId = EventIds.ProxyFailed, Level = LogLevel.Warning, Message = "Forwarding {Key} to storage {StorageId} failed: {Error}")]
        public static partial void ProxyFailed(ILogger logger, string key, string storageId, ForwarderError error);

        [LoggerMessage(EventId = EventIds.ReadFailed, Level = LogLevel.Error, Message = "Reading {Path} failed")]
        public static partial void ReadFailed(ILogger logger, string? path, Exception exception);

        [LoggerMessage(EventId = EventIds.ReadStorageUnknown, Level = LogLevel.Error, Message = "{Key} belongs to storage {StorageId}, which is not configured")]
        public static partial void StorageUnknown(ILogger logger, string key, string storageId);

        [LoggerMessage(EventId = EventIds.ReadHashNotRecorded, Level = LogLevel.Warning, Message = "{Key} was streamed whole, but its SHA-256 could not be recorded: {Error}")]
        public static partial void HashNotRecorded(ILogger logger, string key, string error);
    }
}

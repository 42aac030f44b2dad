using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace EdgeRouter.Storage.Swift;

/// <summary>
/// Objects in one OpenStack Swift container, over its HTTP API. A body that fits one segment is a single PUT
/// whose ETag (MD5) the server verifies; a larger one goes up as segments, then a static large object manifest
/// that makes it visible at once. "Do not overwrite" is the server's own <c>If-None-Match: *</c>.
/// </summary>
internal sealed class SwiftObjectStore(string storageId, HttpClient http, SwiftAuthenticator auth, SwiftStorageSettings settings, TimeProvider timeProvider)
    : IObjectStore, IPresignedUrlStore, IAsyncDisposable
{
    private readonly string _container = Uri.EscapeDataString(settings.Container!);
    private readonly string _prefix = settings.Prefix ?? string.Empty;

    public async Task<StoredObject> PutAsync(string key, Stream content, ObjectWriteOptions options, CancellationToken cancellationToken)
    {
        var name = NameOf(key);
        var replaced = options.Overwrite ? await SegmentsOfAsync(name, cancellationToken) : [];

        // One byte more than a segment tells a body of exactly one segment from a larger one; a body of known,
        // small length borrows only what it needs.
        var capacity = options.Length is { } known && known <= settings.SegmentSizeBytes ? (int)known + 1 : settings.SegmentSizeBytes + 1;
        var buffer = ArrayPool<byte>.Shared.Rent(capacity);
        try
        {
            var filled = await content.ReadAtLeastAsync(buffer.AsMemory(0, capacity), capacity, throwOnEndOfStream: false, cancellationToken);
            long size;
            if (filled <= settings.SegmentSizeBytes)
            {
                await PutBytesAsync(key, name, buffer.AsMemory(0, filled), options, cancellationToken);
                size = filled;
            }
            else
            {
                size = await PutSegmentedAsync(key, name, content, buffer, filled, options, cancellationToken);
            }

            await DeleteSegmentsQuietlyAsync(replaced);
            return new StoredObject(size);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public async Task<ObjectContent?> OpenReadAsync(string key, ByteRange? range, CancellationToken cancellationToken)
    {
        var name = NameOf(key);
        var response = await SendAsync(
            session => WithRange(new HttpRequestMessage(HttpMethod.Get, ObjectUrl(session, name)), range),
            "read", key, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            response.Dispose();
            return null;
        }

        EnsureSuccess(response, "read", key);
        var headers = response.Content.Headers;
        var length = headers.ContentLength ?? range?.Length ?? 0;
        return new ObjectContent(await response.Content.ReadAsStreamAsync(cancellationToken), length, headers.ContentRange?.Length ?? length, response);
    }

    public async Task<ObjectStat?> StatAsync(string key, CancellationToken cancellationToken)
    {
        var name = NameOf(key);
        using var response = await SendAsync(session => new HttpRequestMessage(HttpMethod.Head, ObjectUrl(session, name)), "stat", key, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        EnsureSuccess(response, "stat", key);
        return new ObjectStat(response.Content.Headers.ContentLength ?? 0, response.Content.Headers.LastModified);
    }

    public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken)
    {
        var name = NameOf(key);

        // A manifest alone would leave its segments behind for ever; so look first, and delete a large object whole.
        var segments = await SegmentsOfAsync(name, cancellationToken);
        using var response = await SendAsync(session => new HttpRequestMessage(HttpMethod.Delete, ObjectUrl(session, name)), "delete", key, HttpCompletionOption.ResponseContentRead, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }

        EnsureSuccess(response, "delete", key);
        await DeleteSegmentsQuietlyAsync(segments);
        return true;
    }

    public async Task ProbeAsync(CancellationToken cancellationToken)
    {
        var name = $"{_prefix}.edgerouter/probe-{Guid.NewGuid():N}";
        using (var put = await SendAsync(session => new HttpRequestMessage(HttpMethod.Put, ObjectUrl(session, name)) { Content = new ByteArrayContent("probe"u8.ToArray()) }, "probe", name, HttpCompletionOption.ResponseContentRead, cancellationToken))
        {
            EnsureSuccess(put, "probe", settings.Container!);
        }

        using var delete = await SendAsync(session => new HttpRequestMessage(HttpMethod.Delete, ObjectUrl(session, name)), "probe", name, HttpCompletionOption.ResponseContentRead, cancellationToken);
        EnsureSuccess(delete, "probe", settings.Container!);
    }

    public async Task<string> GetPresignedReadUrlAsync(string key, CancellationToken cancellationToken)
    {
        if (settings.TempUrlKey is not { } tempUrlKey)
        {
            throw new StorageException($"Swift storage '{storageId}' cannot sign URLs: set 'tempUrlKey' to the account's Temp-URL key.");
        }

        // https://docs.openstack.org/swift/latest/api/temporary_url_middleware.html: HMAC over the unescaped path.
        var url = ObjectUrl(await auth.GetSessionAsync(cancellationToken), NameOf(key));
        var expires = timeProvider.GetUtcNow().AddSeconds(settings.PresignedExpirySeconds).ToUnixTimeSeconds();
        var body = $"GET\n{expires.ToString(CultureInfo.InvariantCulture)}\n{Uri.UnescapeDataString(url.AbsolutePath)}";
        var signature = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(tempUrlKey), Encoding.UTF8.GetBytes(body)));
        return $"{url.AbsoluteUri}?temp_url_sig={signature}&temp_url_expires={expires.ToString(CultureInfo.InvariantCulture)}";
    }

    public ValueTask DisposeAsync()
    {
        auth.Dispose();
        http.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// PUTs <paramref name="body"/> at <paramref name="name"/> with its MD5 as ETag, which Swift checks (422 when it
    /// differs), and returns that ETag. With <paramref name="options"/> it is an object; without, a segment.
    /// </summary>
    private async Task<string> PutBytesAsync(string key, string name, ReadOnlyMemory<byte> body, ObjectWriteOptions? options, CancellationToken cancellationToken)
    {
        var etag = Convert.ToHexStringLower(Md5(body.Span));
        using var response = await SendAsync(
            session =>
            {
                var request = new HttpRequestMessage(HttpMethod.Put, ObjectUrl(session, name)) { Content = new ReadOnlyMemoryContent(body) };
                request.Headers.TryAddWithoutValidation("ETag", etag);
                return options is null ? request : Described(request, options);
            },
            "write",
            key,
            HttpCompletionOption.ResponseContentRead,
            cancellationToken);
        if (options is null)
        {
            EnsureSuccess(response, "write", key);
        }
        else
        {
            EnsureWritten(response, key, options);
        }

        return etag;
    }

    private async Task<long> PutSegmentedAsync(string key, string name, Stream content, byte[] buffer, int filled, ObjectWriteOptions options, CancellationToken cancellationToken)
    {
        // https://docs.openstack.org/swift/latest/overview_large_objects.html#static-large-objects
        var folder = $"{_prefix}.edgerouter/segments/{Guid.NewGuid():N}/";
        var manifest = new JsonArray();
        var segments = new List<string>();
        long size = 0;
        try
        {
            while (filled > 0)
            {
                var length = Math.Min(filled, settings.SegmentSizeBytes);
                var segment = folder + segments.Count.ToString("D6", CultureInfo.InvariantCulture);
                segments.Add(segment);
                var etag = await PutBytesAsync(key, segment, buffer.AsMemory(0, length), options: null, cancellationToken);
                manifest.Add(new JsonObject { ["path"] = $"/{settings.Container}/{segment}", ["etag"] = etag, ["size_bytes"] = length });
                size += length;

                // Carry the look-ahead byte (if any) to the front, then fill the next segment after it.
                var carried = filled - length;
                buffer.AsSpan(length, carried).CopyTo(buffer);
                var wanted = settings.SegmentSizeBytes + 1 - carried;
                filled = carried + await content.ReadAtLeastAsync(buffer.AsMemory(carried, wanted), wanted, throwOnEndOfStream: false, cancellationToken);
            }

            // The manifest PUT's Content-Type becomes the large object's, not the JSON's.
            using var put = await SendAsync(
                session => Described(new HttpRequestMessage(HttpMethod.Put, new Uri(ObjectUrl(session, name) + "?multipart-manifest=put")) { Content = JsonContent.Create(manifest) }, options),
                "write",
                key,
                HttpCompletionOption.ResponseContentRead,
                cancellationToken);
            EnsureWritten(put, key, options);
            return size;
        }
        catch
        {
            await DeleteSegmentsQuietlyAsync(segments);
            throw;
        }
    }

    public async IAsyncEnumerable<ListedObject> ListAsync(string prefix, string? startAfter, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (ObjectKeys.ValidatePrefix(prefix) is { } error)
        {
            throw new ArgumentException(error, nameof(prefix));
        }

        // A page of up to 1,000 names after the marker (exclusive), in order; the last name is the next page's marker.
        var marker = startAfter is null ? null : _prefix + startAfter;
        while (true)
        {
            var query = $"?format=json&limit=1000&prefix={Uri.EscapeDataString(_prefix + prefix)}{(marker is null ? null : "&marker=" + Uri.EscapeDataString(marker))}";
            JsonArray page;
            using (var response = await SendAsync(session => new HttpRequestMessage(HttpMethod.Get, new Uri(session.AccountUrl, _container + query)), "list", prefix, HttpCompletionOption.ResponseContentRead, cancellationToken))
            {
                if (response.StatusCode == HttpStatusCode.NoContent)
                {
                    yield break;
                }

                if (!response.IsSuccessStatusCode)
                {
                    throw new StorageException($"Swift storage '{storageId}' could not list '{prefix}': {(int)response.StatusCode} {response.ReasonPhrase}");
                }

                page = await response.Content.ReadFromJsonAsync<JsonArray>(cancellationToken) ?? [];
            }

            foreach (var item in page)
            {
                var name = (string?)item?["name"];
                if (name is null)
                {
                    continue;
                }

                marker = name;
                var location = name[_prefix.Length..];
                if (BackendListing.IsObject(location, startAfter))
                {
                    var modified = DateTimeOffset.TryParse((string?)item!["last_modified"], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var when) ? when : (DateTimeOffset?)null;
                    yield return new ListedObject(location, (long?)item["bytes"] ?? 0, modified, (string?)item["hash"]);
                }
            }

            if (page.Count < 1000)
            {
                yield break;
            }
        }
    }

    /// <summary>The segments of a static large object at <paramref name="name"/>; empty for a plain object or none.</summary>
    private async Task<IReadOnlyList<string>> SegmentsOfAsync(string name, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(
            session => new HttpRequestMessage(HttpMethod.Get, new Uri(ObjectUrl(session, name) + "?multipart-manifest=get&format=raw")),
            "read",
            name,
            HttpCompletionOption.ResponseHeadersRead,
            cancellationToken);
        if (!response.IsSuccessStatusCode || !response.Headers.TryGetValues("X-Static-Large-Object", out var flag) || !string.Equals(flag.FirstOrDefault(), "true", StringComparison.OrdinalIgnoreCase))
        {
            return [];
        }

        var manifest = await response.Content.ReadFromJsonAsync<JsonArray>(cancellationToken) ?? [];
        var containerPrefix = $"/{settings.Container}/";
        return manifest.Select(s => (string?)s?["path"]).OfType<string>()
            .Where(p => p.StartsWith(containerPrefix, StringComparison.Ordinal)).Select(p => p[containerPrefix.Length..]).ToList();
    }

    private async Task DeleteSegmentsQuietlyAsync(IReadOnlyList<string> segments)
    {
        foreach (var segment in segments)
        {
            try
            {
                using var _ = await SendAsync(session => new HttpRequestMessage(HttpMethod.Delete, ObjectUrl(session, segment)), "delete", segment, HttpCompletionOption.ResponseContentRead, CancellationToken.None);
            }
            catch (StorageException)
            {
                // A segment that stays behind costs space, not correctness; the object is gone or replaced either way.
            }
        }
    }

    /// <summary>Sends the request <paramref name="build"/> makes with the current token; on 401, signs in again once and resends.</summary>
    private async Task<HttpResponseMessage> SendAsync(Func<SwiftSession, HttpRequestMessage> build, string operation, string key, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var session = await auth.GetSessionAsync(cancellationToken);
            using var request = build(session);
            request.Headers.Add("X-Auth-Token", session.Token);
            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, completion, cancellationToken);
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                throw new StorageException($"Swift storage '{storageId}' could not {operation} '{key}': {ex.GetBaseException().Message}", ex) { IsTimeout = ex is TaskCanceledException };
            }

            if (response.StatusCode != HttpStatusCode.Unauthorized || attempt > 0)
            {
                return response;
            }

            response.Dispose();
            auth.Invalidate(session);
        }
    }

    private Uri ObjectUrl(SwiftSession session, string name)
        => new(session.AccountUrl, $"{_container}/{string.Join('/', name.Split('/').Select(Uri.EscapeDataString))}");

    private string NameOf(string key)
        => ObjectKeys.Validate(key) is { } error ? throw new ArgumentException(error, nameof(key)) : _prefix + key;

    private static HttpRequestMessage WithRange(HttpRequestMessage request, ByteRange? range)
    {
        if (range is { } r)
        {
            request.Headers.Range = new RangeHeaderValue(r.Offset, r.Last);
        }

        return request;
    }

    /// <summary>An object's type, Cache-Control and, unless overwriting, <c>If-None-Match: *</c>.</summary>
    private static HttpRequestMessage Described(HttpRequestMessage request, ObjectWriteOptions options)
    {
        request.Content!.Headers.ContentType = MediaTypeHeaderValue.Parse(options.ContentType);
        request.Headers.CacheControl = CacheControlHeaderValue.Parse(options.CacheControl);
        if (!options.Overwrite)
        {
            request.Headers.IfNoneMatch.Add(EntityTagHeaderValue.Any);
        }

        return request;
    }

    private void EnsureWritten(HttpResponseMessage response, string key, ObjectWriteOptions options)
    {
        if (response.StatusCode == HttpStatusCode.PreconditionFailed && !options.Overwrite)
        {
            throw new ObjectAlreadyExistsException(key);
        }

        EnsureSuccess(response, "write", key);
    }

    private void EnsureSuccess(HttpResponseMessage response, string operation, string key)
    {
        if (!response.IsSuccessStatusCode)
        {
            // 422 is Swift's answer to a body whose MD5 does not match the ETag sent.
            throw new StorageException($"Swift storage '{storageId}' could not {operation} '{key}': {(int)response.StatusCode} {response.ReasonPhrase}")
            {
                IsTimeout = response.StatusCode is HttpStatusCode.GatewayTimeout or HttpStatusCode.RequestTimeout,
            };
        }
    }

#pragma warning disable CA5351 // Swift's ETag is the MD5 of the content: its integrity check, not a security choice.
    private static byte[] Md5(ReadOnlySpan<byte> data) => MD5.HashData(data);
#pragma warning restore CA5351
}

using System.Net;
using System.Net.Http.Headers;
using Google;
using Google.Apis.Util;
using Google.Apis.Auth.OAuth2;
using Google.Cloud.Storage.V1;
using GcsObject = Google.Apis.Storage.v1.Data.Object;

namespace EdgeRouter.Storage.Gcs;

/// <summary>
/// Objects in one Google Cloud Storage bucket. Uploads are resumable sessions (chunk by chunk, so a body of any
/// size streams through), finalised only by the last chunk, so a failed upload leaves nothing visible;
/// "do not overwrite" is the service's own <c>ifGenerationMatch=0</c>, so it is atomic. Reads stream the
/// <c>alt=media</c> response as it arrives.
/// </summary>
internal sealed class GcsObjectStore(string storageId, StorageClient client, Uri endpoint, string bucket, string rootPrefix, ServiceAccountCredential? signer, GcsStorageSettings settings)
    : IObjectStore, IPresignedUrlStore, IAsyncDisposable
{
    private const int MultipartLimit = 5 * 1024 * 1024;

    public async Task<StoredObject> PutAsync(string key, Stream content, ObjectWriteOptions options, CancellationToken cancellationToken)
    {
        var name = NameOf(key);
        var counting = new CountingReadStream(content);
        try
        {
            if (options.Length is { } length && length <= MultipartLimit)
            {
                return new StoredObject(await PutMultipartAsync(name, content, (int)length, options, cancellationToken));
            }

            var stored = await client.UploadObjectAsync(
                new GcsObject { Bucket = bucket, Name = name, ContentType = options.ContentType, CacheControl = options.CacheControl },
                counting,
                new UploadObjectOptions
                {
                    ChunkSize = settings.ChunkSizeBytes,
                    IfGenerationMatch = options.Overwrite ? null : 0,
                    PredefinedAcl = settings.PublicRead ? PredefinedObjectAcl.PublicRead : null,
                },
                cancellationToken);
            return new StoredObject((long)(stored.Size ?? (ulong)counting.Count));
        }
        catch (GoogleApiException ex) when (ex.HttpStatusCode == HttpStatusCode.PreconditionFailed && !options.Overwrite)
        {
            throw new ObjectAlreadyExistsException(key);
        }
        catch (Exception ex) when (IsBackendFailure(ex))
        {
            throw Failure("write", key, ex);
        }
    }

    /// <summary>
    /// A small body of known length goes up in one <c>uploadType=multipart</c> request (metadata and bytes together),
    /// half the round trips of a resumable session; its MD5 rides in the metadata, so the service checks the bytes.
    /// </summary>
    private async Task<long> PutMultipartAsync(string name, Stream content, int length, ObjectWriteOptions options, CancellationToken cancellationToken)
    {
        var bytes = new byte[length];
        await content.ReadExactlyAsync(bytes, cancellationToken);
        var metadata = new GcsObject { Name = name, ContentType = options.ContentType, CacheControl = options.CacheControl, Md5Hash = Convert.ToBase64String(Md5(bytes)) };
        var query = "uploadType=multipart" + (options.Overwrite ? string.Empty : "&ifGenerationMatch=0") + (settings.PublicRead ? "&predefinedAcl=publicRead" : string.Empty);
        using var body = new MultipartContent("related")
        {
            new StringContent(client.Service.Serializer.Serialize(metadata), System.Text.Encoding.UTF8, "application/json"),
            new ByteArrayContent(bytes) { Headers = { ContentType = MediaTypeHeaderValue.Parse(options.ContentType) } },
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(endpoint, $"upload/storage/v1/b/{Uri.EscapeDataString(bucket)}/o?{query}")) { Content = body };
        using var response = await client.Service.HttpClient.SendAsync(request, cancellationToken);
        var answer = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            // The same error the SDK raises, so one set of handlers serves both upload paths.
            var error = client.Service.Serializer.Deserialize<StandardResponse<object>>(answer)?.Error;
            throw new GoogleApiException("storage", error?.Message ?? response.ReasonPhrase) { HttpStatusCode = response.StatusCode, Error = error };
        }

        return (long)(client.Service.Serializer.Deserialize<GcsObject>(answer).Size ?? (ulong)length);
    }

    public async Task<ObjectContent?> OpenReadAsync(string key, ByteRange? range, CancellationToken cancellationToken)
    {
        // The SDK only downloads into a stream it is given; this sends the same authenticated request and hands
        // back the response body, so a read streams instead of buffering.
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(endpoint, $"storage/v1/b/{Uri.EscapeDataString(bucket)}/o/{Uri.EscapeDataString(NameOf(key))}?alt=media"));
        if (range is { } r)
        {
            request.Headers.Range = new RangeHeaderValue(r.Offset, r.Last);
        }

        HttpResponseMessage? response = null;
        try
        {
            response = await client.Service.HttpClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                response.Dispose();
                return null;
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new StorageException($"GCS storage '{storageId}' could not read '{key}': {(int)response.StatusCode} {response.ReasonPhrase}") { IsTimeout = response.StatusCode == HttpStatusCode.GatewayTimeout };
            }

            // A chunked answer has no Content-Length; GCS always sends the object's size as x-goog-stored-content-length.
            var stored = response.Headers.TryGetValues("x-goog-stored-content-length", out var values) && long.TryParse(values.First(), out var size) ? size : (long?)null;
            var total = response.Content.Headers.ContentRange?.Length ?? stored
                ?? throw new StorageException($"GCS storage '{storageId}' answered '{key}' without its size.");
            var length = response.Content.Headers.ContentLength ?? range?.Length ?? total;
            return new ObjectContent(await response.Content.ReadAsStreamAsync(cancellationToken), length, total, response);
        }
        catch (Exception ex) when (IsBackendFailure(ex))
        {
            response?.Dispose();
            throw Failure("read", key, ex);
        }
        catch
        {
            response?.Dispose();
            throw;
        }
    }

    public async Task<ObjectStat?> StatAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var found = await client.GetObjectAsync(bucket, NameOf(key), cancellationToken: cancellationToken);
            return new ObjectStat((long)(found.Size ?? 0), found.UpdatedDateTimeOffset);
        }
        catch (GoogleApiException ex) when (ex.HttpStatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (Exception ex) when (IsBackendFailure(ex))
        {
            throw Failure("stat", key, ex);
        }
    }

    public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            await client.DeleteObjectAsync(bucket, NameOf(key), cancellationToken: cancellationToken);
            return true;
        }
        catch (GoogleApiException ex) when (ex.HttpStatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
        catch (Exception ex) when (IsBackendFailure(ex))
        {
            throw Failure("delete", key, ex);
        }
    }

    public async Task ProbeAsync(CancellationToken cancellationToken)
    {
        var name = $"{rootPrefix}.edgerouter/probe-{Guid.NewGuid():N}";
        try
        {
            await client.UploadObjectAsync(bucket, name, "text/plain", new MemoryStream("probe"u8.ToArray()), cancellationToken: cancellationToken);
            await client.DeleteObjectAsync(bucket, name, cancellationToken: cancellationToken);
        }
        catch (Exception ex) when (IsBackendFailure(ex))
        {
            throw Failure("probe", bucket, ex);
        }
    }

    public async IAsyncEnumerable<ListedObject> ListAsync(string prefix, string? startAfter, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (ObjectKeys.ValidatePrefix(prefix) is { } error)
        {
            throw new ArgumentException(error, nameof(prefix));
        }

        // startOffset is inclusive: the start itself is skipped below.
        var objects = BackendListing.GuardAsync(
            client.ListObjectsAsync(bucket, rootPrefix + prefix, new ListObjectsOptions { PageSize = 1000, StartOffset = startAfter is null ? null : rootPrefix + startAfter }),
            IsBackendFailure,
            ex => Failure("list", prefix, ex),
            cancellationToken);
        await foreach (var listed in objects)
        {
            var location = listed.Name[rootPrefix.Length..];
            if (BackendListing.IsObject(location, startAfter))
            {
                yield return new ListedObject(location, (long)(listed.Size ?? 0), listed.UpdatedDateTimeOffset, listed.Md5Hash ?? listed.ETag);
            }
        }
    }

    public async Task<string> GetPresignedReadUrlAsync(string key, CancellationToken cancellationToken)
    {
        if (signer is null)
        {
            throw new StorageException($"GCS storage '{storageId}' cannot sign URLs: it needs 'credentialsJson' (a service account key).");
        }

        var options = UrlSigner.Options.FromDuration(TimeSpan.FromSeconds(settings.PresignedExpirySeconds))
            .WithSigningVersion(SigningVersion.V4)
            .WithScheme(endpoint.Scheme)
            .WithHost(endpoint.Host)
            .WithPort(endpoint.IsDefaultPort ? null : endpoint.Port);
        return await UrlSigner.FromCredential(signer).SignAsync(
            UrlSigner.RequestTemplate.FromBucket(bucket).WithObjectName(NameOf(key)), options, cancellationToken);
    }

    public ValueTask DisposeAsync()
    {
        client.Dispose();
        return ValueTask.CompletedTask;
    }

#pragma warning disable CA5351 // GCS checks an upload against the MD5 in its metadata: integrity, not security.
    private static byte[] Md5(byte[] data) => System.Security.Cryptography.MD5.HashData(data);
#pragma warning restore CA5351

    private string NameOf(string key)
        => ObjectKeys.Validate(key) is { } error ? throw new ArgumentException(error, nameof(key)) : rootPrefix + key;

    private static bool IsBackendFailure(Exception ex)
        => ex is GoogleApiException or HttpRequestException or IOException or TimeoutException or Google.Apis.Auth.OAuth2.Responses.TokenResponseException
            || (ex is TaskCanceledException { InnerException: TimeoutException });

    private StorageException Failure(string operation, string key, Exception ex)
    {
        // GoogleApiException's message can hold the request; keep the status and Google's own error message.
        var detail = ex is GoogleApiException api ? $"{(int)api.HttpStatusCode} {api.Error?.Message}" : ex.GetBaseException().Message;
        return new StorageException($"GCS storage '{storageId}' could not {operation} '{key}': {detail}", ex) { IsTimeout = ex is TimeoutException or TaskCanceledException };
    }
}

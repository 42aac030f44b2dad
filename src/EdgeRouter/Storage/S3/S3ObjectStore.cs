using System.Buffers;
using System.Net;
using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace EdgeRouter.Storage.S3;

/// <summary>
/// Objects in a bucket of an S3-family service. Bodies up to one part go up in a single PutObject; larger ones
/// as multipart, streamed part by part (reading the next part while the previous one uploads), so memory stays
/// at two parts whatever the size. A failed multipart upload is aborted, so nothing is left at the key.
/// </summary>
internal sealed class S3ObjectStore(S3ClientPlan plan, IAmazonS3 client, TimeProvider timeProvider)
    : IObjectStore, IPresignedUrlStore, IAsyncDisposable
{
    private const string ProbeFolder = ".edgerouter/";

    public bool AsksBeforeCreate => true;

    public async Task<StoredObject> PutAsync(string key, Stream content, ObjectWriteOptions options, CancellationToken cancellationToken)
    {
        var objectKey = ToObjectKey(key);
        return await Call("put", key, async () =>
        {
            if (!options.Overwrite && !options.KnownAbsent && await StatAsync(key, cancellationToken) is not null)
            {
                throw new ObjectAlreadyExistsException(key);
            }

            var first = ArrayPool<byte>.Shared.Rent((int)plan.PartSizeBytes);
            try
            {
                var read = await content.ReadAtLeastAsync(first.AsMemory(0, (int)plan.PartSizeBytes), (int)plan.PartSizeBytes, throwOnEndOfStream: false, cancellationToken);
                if (read < plan.PartSizeBytes)
                {
                    var put = new PutObjectRequest
                    {
                        BucketName = plan.Bucket,
                        Key = objectKey,
                        InputStream = new MemoryStream(first, 0, read, writable: false),
                        ContentType = options.ContentType,
                        UseChunkEncoding = plan.ChunkedEncoding,
                        CannedACL = plan.PublicReadAcl ? S3CannedACL.PublicRead : null,
                        AutoCloseStream = true,
                    };
                    put.Headers.CacheControl = options.CacheControl;
                    put.IfNoneMatch = CreateOnly(options);
                    var response = await CreateOnlyAsync(key, () => client.PutObjectAsync(put, cancellationToken));
                    return new StoredObject(read, options.VerifyStored && IsMd5Of(response.ETag, first.AsSpan(0, read)));
                }

                var (size, verified) = await CreateOnlyAsync(key, () => PutMultipartAsync(objectKey, content, first, options, cancellationToken));
                first = null;
                return new StoredObject(size, verified);
            }
            finally
            {
                if (first is not null)
                {
                    ArrayPool<byte>.Shared.Return(first);
                }
            }
        });
    }

    public async Task<ObjectContent?> OpenReadAsync(string key, ByteRange? range, CancellationToken cancellationToken)
    {
        return await Call("get", key, async () =>
        {
            var request = new GetObjectRequest { BucketName = plan.Bucket, Key = ToObjectKey(key) };
            if (range is { } r)
            {
                request.ByteRange = new Amazon.S3.Model.ByteRange(r.Offset, r.Last);
            }

            GetObjectResponse response;
            try
            {
                response = await client.GetObjectAsync(request, cancellationToken);
            }
            catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }

            if (range is not { } requested)
            {
                return new ObjectContent(response.ResponseStream, response.ContentLength, response.ContentLength, response);
            }

            // Trust what the server says it sent, not what was asked: some S3-compatible servers widen a range
            // (bytes=0-0 answered as the whole object), so skip to the offset and stop at the requested length.
            var (sentFrom, total) = ParseContentRange(response.ContentRange) ?? (0, response.ContentLength);
            await SkipAsync(response.ResponseStream, requested.Offset - sentFrom, cancellationToken);
            var stream = response.ContentLength - (requested.Offset - sentFrom) == requested.Length
                ? response.ResponseStream
                : new BoundedReadStream(response.ResponseStream, requested.Length);
            return new ObjectContent(stream, requested.Length, total, response);
        });
    }

    public async Task<ObjectStat?> StatAsync(string key, CancellationToken cancellationToken)
    {
        return await Call("head", key, async () =>
        {
            try
            {
                var metadata = await client.GetObjectMetadataAsync(plan.Bucket, ToObjectKey(key), cancellationToken);
                return new ObjectStat(metadata.ContentLength, metadata.LastModified);
            }
            catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }
        });
    }

    public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken)
    {
        // S3 answers 204 whether or not the key existed; a HEAD first tells the caller which it was.
        var existed = await StatAsync(key, cancellationToken) is not null;
        await Call("delete", key, () => client.DeleteObjectAsync(plan.Bucket, ToObjectKey(key), cancellationToken));
        return existed;
    }

    public async Task ProbeAsync(CancellationToken cancellationToken)
    {
        await Call<AmazonWebServiceResponse>("probe", plan.Bucket, async () =>
        {
            if (!plan.ProbeByWriting)
            {
                return await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = plan.Bucket, MaxKeys = 1, Prefix = plan.Prefix }, cancellationToken);
            }

            var probe = plan.Prefix + ProbeFolder + Guid.NewGuid().ToString("N");
            await client.PutObjectAsync(
                new PutObjectRequest { BucketName = plan.Bucket, Key = probe, ContentBody = "probe", UseChunkEncoding = plan.ChunkedEncoding },
                cancellationToken);
            return await client.DeleteObjectAsync(plan.Bucket, probe, cancellationToken);
        });
    }

    public async IAsyncEnumerable<ListedObject> ListAsync(string prefix, string? startAfter, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (ObjectKeys.ValidatePrefix(prefix) is { } error)
        {
            throw new ArgumentException(error, nameof(prefix));
        }

        var request = new ListObjectsV2Request
        {
            BucketName = plan.Bucket,
            Prefix = plan.Prefix + prefix,
            StartAfter = startAfter is null ? null : plan.Prefix + startAfter,
            MaxKeys = 1000,
        };
        ListObjectsV2Response page;
        do
        {
            page = await Call("list", prefix, () => client.ListObjectsV2Async(request, cancellationToken));
            foreach (var listed in page.S3Objects ?? [])
            {
                var location = listed.Key[plan.Prefix.Length..];
                if (BackendListing.IsObject(location, startAfter))
                {
                    yield return new ListedObject(location, listed.Size ?? 0, listed.LastModified, listed.ETag?.Trim('"'));
                }
            }

            request.ContinuationToken = page.NextContinuationToken;
        }
        while (page.IsTruncated == true && page.NextContinuationToken is not null);
    }

    public async Task<string> GetPresignedReadUrlAsync(string key, CancellationToken cancellationToken)
    {
        return await Call("presign", key, () => client.GetPreSignedURLAsync(new GetPreSignedUrlRequest
        {
            BucketName = plan.Bucket,
            Key = ToObjectKey(key),
            Verb = HttpVerb.GET,
            Expires = timeProvider.GetUtcNow().Add(plan.PresignedExpiry).UtcDateTime,
            Protocol = plan.ServiceUrl?.StartsWith("http://", StringComparison.OrdinalIgnoreCase) == true ? Protocol.HTTP : Protocol.HTTPS,
        }));
    }

    public ValueTask DisposeAsync()
    {
        client.Dispose();
        return ValueTask.CompletedTask;
    }

    private string ToObjectKey(string key)
        => ObjectKeys.Validate(key) is { } error ? throw new ArgumentException(error, nameof(key)) : plan.Prefix + key;

    /// <summary>
    /// Uploads <paramref name="first"/> (a full part, which this method now owns) and the rest of the body as parts;
    /// returns the size, and whether every part's ETag was the MD5 of its bytes (when <see cref="ObjectWriteOptions.VerifyStored"/>).
    /// </summary>
    private async Task<(long Size, bool Verified)> PutMultipartAsync(string objectKey, Stream content, byte[] first, ObjectWriteOptions options, CancellationToken cancellationToken)
    {
        var initiate = new InitiateMultipartUploadRequest
        {
            BucketName = plan.Bucket,
            Key = objectKey,
            ContentType = options.ContentType,
            CannedACL = plan.PublicReadAcl ? S3CannedACL.PublicRead : null,
        };
        initiate.Headers.CacheControl = options.CacheControl;
        var uploadId = (await client.InitiateMultipartUploadAsync(initiate, cancellationToken)).UploadId;

        var partSize = (int)plan.PartSizeBytes;
        var parts = new List<PartETag>();
        var verified = options.VerifyStored;
        Task<(PartETag Part, bool Verified)>? inFlight = null;
        byte[]? current = first;
        var currentLength = partSize;
        long total = 0;
        try
        {
            for (var number = 1; current is not null; number++)
            {
                // Upload this part while reading the next from the client.
                var buffer = current;
                var length = currentLength;
                inFlight = UploadPartAsync(objectKey, uploadId, number, buffer, length, options.VerifyStored, cancellationToken);
                total += length;

                byte[]? next = null;
                var nextLength = 0;
                if (length == partSize)
                {
                    next = ArrayPool<byte>.Shared.Rent(partSize);
                    nextLength = await content.ReadAtLeastAsync(next.AsMemory(0, partSize), partSize, throwOnEndOfStream: false, cancellationToken);
                    if (nextLength == 0)
                    {
                        ArrayPool<byte>.Shared.Return(next);
                        next = null;
                    }
                }

                var (part, partVerified) = await inFlight;
                parts.Add(part);
                verified &= partVerified;
                inFlight = null;
                ArrayPool<byte>.Shared.Return(buffer);
                current = next;
                currentLength = nextLength;
            }

            await client.CompleteMultipartUploadAsync(
                new CompleteMultipartUploadRequest { BucketName = plan.Bucket, Key = objectKey, UploadId = uploadId, PartETags = parts, IfNoneMatch = CreateOnly(options) },
                cancellationToken);
            return (total, verified);
        }
        catch
        {
            await AbortQuietlyAsync(objectKey, uploadId, inFlight);
            throw;
        }
    }

    private async Task<(PartETag Part, bool Verified)> UploadPartAsync(string objectKey, string uploadId, int number, byte[] buffer, int length, bool verify, CancellationToken cancellationToken)
    {
        var response = await client.UploadPartAsync(
            new UploadPartRequest
            {
                BucketName = plan.Bucket,
                Key = objectKey,
                UploadId = uploadId,
                PartNumber = number,
                InputStream = new MemoryStream(buffer, 0, length, writable: false),
                PartSize = length,
                UseChunkEncoding = plan.ChunkedEncoding,
            },
            cancellationToken);
        return (new PartETag(number, response.ETag), verify && IsMd5Of(response.ETag, buffer.AsSpan(0, length)));
    }

    /// <summary>
    /// Whether <paramref name="etag"/> is the MD5 of <paramref name="bytes"/>: what S3 and the S3-compatible services
    /// compute over what they stored for a PUT or a part (unless encrypted with KMS or a customer key, whose ETags
    /// are something else and then simply do not match). An integrity check, not a security one.
    /// </summary>
    private static bool IsMd5Of(string? etag, ReadOnlySpan<byte> bytes)
    {
#pragma warning disable CA5351 // The backend's checksum is MD5; nothing here relies on it against an attacker.
        Span<byte> md5 = stackalloc byte[16];
        MD5.HashData(bytes, md5);
#pragma warning restore CA5351
        return etag is not null && Convert.ToHexStringLower(md5).Equals(etag.Trim('"'), StringComparison.OrdinalIgnoreCase);
    }

    private async Task AbortQuietlyAsync(string objectKey, string uploadId, Task? inFlight)
    {
        try
        {
            if (inFlight is not null)
            {
                await inFlight;
            }
        }
        catch (Exception)
        {
            // The part's own failure is already on its way to the caller.
        }

        try
        {
            await client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = plan.Bucket, Key = objectKey, UploadId = uploadId });
        }
        catch (Exception ex) when (ex is AmazonServiceException or AmazonClientException or HttpRequestException)
        {
            // The service expires abandoned uploads by its lifecycle rules; no object exists at the key either way.
        }
    }

    private static async Task SkipAsync(Stream stream, long count, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(81920);
        try
        {
            while (count > 0)
            {
                var read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, count)), cancellationToken);
                if (read == 0)
                {
                    throw new StorageException("The object ended before the requested range.");
                }

                count -= read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The first byte and the total size from <c>bytes first-last/total</c>.</summary>
    private static (long First, long Total)? ParseContentRange(string? contentRange)
    {
        if (contentRange is null || !contentRange.StartsWith("bytes ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var dash = contentRange.IndexOf('-', StringComparison.Ordinal);
        var slash = contentRange.LastIndexOf('/');
        return dash > 6 && slash > dash
            && long.TryParse(contentRange.AsSpan(6, dash - 6), out var first)
            && long.TryParse(contentRange.AsSpan(slash + 1), out var total)
            ? (first, total)
            : null;
    }

    /// <summary>Runs one service call, turning the SDK's failures into <see cref="StorageException"/>s that name no secret.</summary>
    private string? CreateOnly(ObjectWriteOptions options) => plan.ConditionalCreate && !options.Overwrite ? "*" : null;

    /// <summary>
    /// A create-only write that S3 refused because the key exists (412), or because another conditional write of it
    /// was in progress (409 ConditionalRequestConflict): the other writer won.
    /// </summary>
    private static async Task<T> CreateOnlyAsync<T>(string key, Func<Task<T>> write)
    {
        try
        {
            return await write();
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode is HttpStatusCode.PreconditionFailed || ex.ErrorCode == "ConditionalRequestConflict")
        {
            throw new ObjectAlreadyExistsException(key);
        }
    }

    private async Task<T> Call<T>(string operation, string key, Func<Task<T>> action)
    {
        try
        {
            return await action();
        }
        catch (AmazonServiceException ex)
        {
            throw new StorageException($"{plan.Api} {operation} '{key}' in bucket '{plan.Bucket}' failed: {(int)ex.StatusCode} {ex.ErrorCode}: {ex.Message}", ex);
        }
        catch (AmazonClientException ex)
        {
            throw new StorageException($"{plan.Api} {operation} '{key}' in bucket '{plan.Bucket}' failed: {ex.Message}", ex);
        }
        catch (HttpRequestException ex)
        {
            throw new StorageException($"{plan.Api} {operation} '{key}' could not reach the service: {ex.Message}", ex);
        }
        catch (TaskCanceledException ex) when (ex.InnerException is TimeoutException)
        {
            throw new StorageException($"{plan.Api} {operation} '{key}' timed out.", ex) { IsTimeout = true };
        }
    }
}

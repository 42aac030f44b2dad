using System.Buffers;
using System.Net;
using System.Security.Cryptography;
using Azure;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Sas;

namespace EdgeRouter.Storage.Azure;

/// <summary>
/// Objects as block blobs in one container. An upload is committed as a whole (blocks, then the block list), so a
/// failed upload leaves nothing visible; "do not overwrite" is the service's own If-None-Match: *, so it is atomic.
/// </summary>
internal sealed class AzureBlobObjectStore(string storageId, BlobContainerClient container, string rootPrefix, StorageTransferOptions transfer, TimeSpan presignedExpiry, TimeProvider timeProvider)
    : IObjectStore, IPresignedUrlStore
{
    public async Task<StoredObject> PutAsync(string key, Stream content, ObjectWriteOptions options, CancellationToken cancellationToken)
    {
        var blob = BlobOf(key);
        var upload = new BlobUploadOptions
        {
            HttpHeaders = new BlobHttpHeaders { ContentType = options.ContentType, CacheControl = options.CacheControl },
            Conditions = options.Overwrite ? null : new BlobRequestConditions { IfNoneMatch = ETag.All },
            TransferOptions = transfer,
        };
        try
        {
            if (options.VerifyStored && options.Length is { } length && length < (transfer.InitialTransferSize ?? 0))
            {
                return await PutWholeAsync(blob, key, content, length, upload, cancellationToken);
            }

            var counting = new CountingReadStream(content);
            await blob.UploadAsync(counting, upload, cancellationToken);
            return new StoredObject(counting.Count);
        }
        catch (RequestFailedException ex) when (ex.Status == (int)HttpStatusCode.Conflict && !options.Overwrite)
        {
            throw new ObjectAlreadyExistsException(key);
        }
        catch (Exception ex) when (IsBackendFailure(ex))
        {
            throw Failure("write", key, ex);
        }
    }

    /// <summary>
    /// A small write that must be verified: read whole and put in one request (a stream of unknown length goes up as
    /// blocks), whose answer carries the MD5 the service computed of what it stored, compared with that of the bytes.
    /// </summary>
    private static async Task<StoredObject> PutWholeAsync(BlobClient blob, string key, Stream content, long length, BlobUploadOptions upload, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent((int)length + 1);
        try
        {
            var read = await content.ReadAtLeastAsync(buffer.AsMemory(0, (int)length + 1), (int)length + 1, throwOnEndOfStream: false, cancellationToken);
            if (read > length)
            {
                throw new IOException($"The content for '{key}' is longer than the {length} bytes stated.");
            }

            var stored = await blob.UploadAsync(new MemoryStream(buffer, 0, read, writable: false), upload, cancellationToken);
#pragma warning disable CA5351 // Azure's Content-MD5 is an integrity check, not a security one.
            var md5 = MD5.HashData(buffer.AsSpan(0, read));
#pragma warning restore CA5351
            return new StoredObject(read, stored.Value.ContentHash is { } hash && hash.AsSpan().SequenceEqual(md5));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public async Task<ObjectContent?> OpenReadAsync(string key, ByteRange? range, CancellationToken cancellationToken)
    {
        try
        {
            var response = await BlobOf(key).DownloadStreamingAsync(
                new BlobDownloadOptions { Range = range is { } r ? new HttpRange(r.Offset, r.Length) : default },
                cancellationToken);
            var details = response.Value.Details;
            var total = range is null ? details.ContentLength : TotalOf(details.ContentRange) ?? details.ContentLength;
            return new ObjectContent(response.Value.Content, details.ContentLength, total, response.Value);
        }
        catch (RequestFailedException ex) when (ex.Status == (int)HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (Exception ex) when (IsBackendFailure(ex))
        {
            throw Failure("read", key, ex);
        }
    }

    public async Task<ObjectStat?> StatAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var properties = (await BlobOf(key).GetPropertiesAsync(cancellationToken: cancellationToken)).Value;
            return new ObjectStat(properties.ContentLength, properties.LastModified);
        }
        catch (RequestFailedException ex) when (ex.Status == (int)HttpStatusCode.NotFound)
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
            return (await BlobOf(key).DeleteIfExistsAsync(cancellationToken: cancellationToken)).Value;
        }
        catch (Exception ex) when (IsBackendFailure(ex))
        {
            throw Failure("delete", key, ex);
        }
    }

    public async Task ProbeAsync(CancellationToken cancellationToken)
    {
        var probe = container.GetBlobClient($"{rootPrefix}.edgerouter/probe-{Guid.NewGuid():N}");
        try
        {
            await probe.UploadAsync(BinaryData.FromString("probe"), cancellationToken);
            await probe.DeleteIfExistsAsync(cancellationToken: cancellationToken);
        }
        catch (Exception ex) when (IsBackendFailure(ex))
        {
            throw Failure("probe", container.Name, ex);
        }
    }

    public async IAsyncEnumerable<ListedObject> ListAsync(string prefix, string? startAfter, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (ObjectKeys.ValidatePrefix(prefix) is { } error)
        {
            throw new ArgumentException(error, nameof(prefix));
        }

        // Blob Storage lists in order but cannot start after a name: the names before the start are read and skipped.
        var blobs = BackendListing.GuardAsync(
            container.GetBlobsAsync(BlobTraits.None, BlobStates.None, rootPrefix + prefix, cancellationToken),
            IsBackendFailure,
            ex => Failure("list", prefix, ex),
            cancellationToken);
        await foreach (var blob in blobs)
        {
            var location = blob.Name[rootPrefix.Length..];
            if (BackendListing.IsObject(location, startAfter))
            {
                yield return new ListedObject(location, blob.Properties.ContentLength ?? 0, blob.Properties.LastModified, blob.Properties.ETag?.ToString().Trim('"'));
            }
        }
    }

    public Task<string> GetPresignedReadUrlAsync(string key, CancellationToken cancellationToken)
    {
        var blob = BlobOf(key);
        if (!blob.CanGenerateSasUri)
        {
            throw new StorageException($"Azure storage '{storageId}' cannot sign URLs: it needs an account key (or a connection string with one).");
        }

        var uri = blob.GenerateSasUri(BlobSasPermissions.Read, timeProvider.GetUtcNow().Add(presignedExpiry));
        return Task.FromResult(uri.AbsoluteUri);
    }

    private BlobClient BlobOf(string key)
        => ObjectKeys.Validate(key) is { } error ? throw new ArgumentException(error, nameof(key)) : container.GetBlobClient(rootPrefix + key);

    private static long? TotalOf(string? contentRange)
    {
        var slash = contentRange?.LastIndexOf('/') ?? -1;
        return slash > 0 && long.TryParse(contentRange.AsSpan(slash + 1), out var total) ? total : null;
    }

    private static bool IsBackendFailure(Exception ex)
        => ex is RequestFailedException or HttpRequestException or IOException or AggregateException or TimeoutException
            || (ex is TaskCanceledException { InnerException: TimeoutException });

    private StorageException Failure(string operation, string key, Exception ex)
    {
        // The SDK's messages hold request headers; keep the status and error code only, never a signature.
        var detail = ex is RequestFailedException failed ? $"{failed.Status} {failed.ErrorCode}" : ex.GetBaseException().Message;
        return new StorageException($"Azure storage '{storageId}' could not {operation} '{key}': {detail}", ex) { IsTimeout = ex is TimeoutException or TaskCanceledException };
    }
}

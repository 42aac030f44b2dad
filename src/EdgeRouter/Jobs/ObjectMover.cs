using EdgeRouter.Catalog;
using EdgeRouter.Configuration;
using EdgeRouter.Placement;
using EdgeRouter.Storage;
using EdgeRouter.Uploads;
using Microsoft.Extensions.Options;

namespace EdgeRouter.Jobs;

public enum MoveOutcome
{
    /// <summary>The record names the copy now; the old location is queued for deletion after the grace.</summary>
    Moved,

    /// <summary>An upload, overwrite or delete of the key came during the copy and won; the copy was removed.</summary>
    Superseded,

    /// <summary>The source had no object at the location.</summary>
    SourceMissing,

    /// <summary>The copy failed or did not check out; nothing changed, the copy was removed.</summary>
    Failed,
}

public readonly record struct MoveResult(MoveOutcome Outcome, string? Problem = null);

/// <summary>
/// Moves one object to another storage under the same key, so its URL never changes, and without a reader ever
/// seeing anything but the record's bytes:
/// 1. claim a location on the target (the key itself when free, else one beside it), as an upload does;
/// 2. stream the object from the source to it, never buffered whole, hashing what is read;
/// 3. check that what was read is the record's bytes (size and SHA-256), and 4. read the copy back and check it too;
/// 5. switch the record to the copy in one transaction if and only if it still names the version copied (an upload,
///    overwrite or delete of the key meanwhile wins, and the copy is removed); the old location is queued for
///    deletion after the delete grace, so a redirect or a cached record that still names it keeps resolving.
/// </summary>
internal sealed class ObjectMover(IObjectCatalog catalog, StorageUsageTracker usage, WriteCleanup cleanup, KeyGenerator keys, IOptions<EdgeRouterOptions> options, TimeProvider timeProvider)
{
    private const int MaxLocationAttempts = 8;

    /// <summary>
    /// Moves <paramref name="record"/>'s bytes, read from <paramref name="sourceLocation"/> on <paramref name="source"/>
    /// (its own location, or a former one holding the same bytes), to <paramref name="placement"/>'s storage, whose
    /// reservation (if any) is settled either way.
    /// </summary>
    public async Task<MoveResult> MoveAsync(ObjectRecord record, StorageDefinition source, string sourceLocation, Placement.Placement placement, CancellationToken cancellationToken)
    {
        var target = placement.Storage!;
        var result = await CopyAndSwitchAsync(record, source, sourceLocation, target, cancellationToken);
        if (result.Outcome == MoveOutcome.Moved)
        {
            await usage.CommitAsync(placement, record.Size);
            usage.Remove(record.StorageId, record.Size);
        }
        else
        {
            await usage.ReleaseAsync(placement);
        }

        return result;
    }

    private async Task<MoveResult> CopyAndSwitchAsync(ObjectRecord record, StorageDefinition source, string sourceLocation, StorageDefinition target, CancellationToken cancellationToken)
    {
        var uploads = options.Value.Uploads;
        for (var attempt = 0; attempt < MaxLocationAttempts; attempt++)
        {
            // 1. A location on the target no record, intent or queued deletion names.
            var location = attempt == 0 ? record.Key : ObjectKeys.NewLocation(record.Key, keys.NewId());
            var intent = new UploadIntent(target.Id, location, record.Key, timeProvider.GetUtcNow() + uploads.MaxUploadDuration + uploads.IntentMargin);
            if (!await catalog.TryBeginUploadAsync(intent, cancellationToken))
            {
                continue;
            }

            try
            {
                // 2. Stream from the source to the target.
                var content = await source.Store.OpenReadAsync(sourceLocation, null, cancellationToken);
                if (content is null)
                {
                    await cleanup.EndIntentAsync(intent);
                    return new MoveResult(MoveOutcome.SourceMissing, $"Storage '{source.Id}' has no object at '{sourceLocation}'.");
                }

                string readSha;
                long readLength;
                await using (content)
                {
                    await using var hashing = new HashingReadStream(content.Content);
                    try
                    {
                        await target.Store.PutAsync(location, hashing, new ObjectWriteOptions(record.ContentType, target.CacheControl, record.Size), cancellationToken);
                    }
                    catch (ObjectAlreadyExistsException)
                    {
                        // Not the router's (nothing names it): left alone, and another location taken.
                        await cleanup.EndIntentAsync(intent);
                        continue;
                    }

                    (readSha, readLength) = (hashing.Sha256Hex, hashing.Count);
                }

                // 3. What was read must be the record's bytes: a source that changed under it is not copied on.
                if (readLength != record.Size || !string.Equals(readSha, record.Sha256, StringComparison.OrdinalIgnoreCase))
                {
                    await cleanup.AbandonAsync(target, intent);
                    return new MoveResult(MoveOutcome.Failed, $"'{sourceLocation}' on storage '{source.Id}' holds {readLength} bytes with SHA-256 {readSha}, not the record's {record.Size} bytes with {record.Sha256}; left where it is.");
                }

                // 4. The copy must read back as the record's bytes.
                var (copySha, copyLength) = await ReadBackAsync(target, location, cancellationToken);
                if (copyLength != record.Size || !string.Equals(copySha, record.Sha256, StringComparison.OrdinalIgnoreCase))
                {
                    await cleanup.AbandonAsync(target, intent);
                    return new MoveResult(MoveOutcome.Failed, $"The copy on storage '{target.Id}' read back as {copyLength} bytes with SHA-256 {copySha ?? "(none)"}, not the record's; removed.");
                }

                // 5. Switch the record, only if it is still the version copied. Not cancellable: its outcome must be known.
                if (!await catalog.RelocateAsync(record, intent, CancellationToken.None))
                {
                    await cleanup.AbandonAsync(target, intent);
                    return new MoveResult(MoveOutcome.Superseded);
                }

                return new MoveResult(MoveOutcome.Moved);
            }
            catch (Exception ex) when (ex is StorageException or IOException or CatalogUnavailableException)
            {
                await cleanup.AbandonAsync(target, intent);
                return new MoveResult(MoveOutcome.Failed, ex.Message);
            }
            catch
            {
                await cleanup.AbandonAsync(target, intent);
                throw;
            }
        }

        return new MoveResult(MoveOutcome.Failed, $"No free location for '{record.Key}' on storage '{target.Id}' after {MaxLocationAttempts} tries.");
    }

    private static async Task<(string? Sha256, long Length)> ReadBackAsync(StorageDefinition storage, string location, CancellationToken cancellationToken)
    {
        var content = await storage.Store.OpenReadAsync(location, null, cancellationToken);
        if (content is null)
        {
            return (null, 0);
        }

        await using (content)
        {
            return await HashingReadStream.HashAsync(content.Content, cancellationToken);
        }
    }
}

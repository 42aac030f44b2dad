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

/// <summary>One object to move: its record, where its bytes are read from, and where they go (with any reservation).</summary>
public readonly record struct Move(ObjectRecord Record, StorageDefinition Source, string SourceLocation, Placement.Placement Placement);

/// <summary>
/// Moves objects to another storage under the same key, so their URLs never change, and without a reader ever seeing
/// anything but each record's bytes:
/// 1. claim a location on the target (the key itself when free, else one beside it), as an upload does;
/// 2. stream the object from the source to it, never buffered whole, hashing what is read;
/// 3. check that what was read is the record's bytes (size and SHA-256), and 4. that the copy is too: the target's
///    own digest of what it stored matches the bytes sent (an S3 ETag, Azure's Content-MD5), or else the copy is
///    read back and hashed;
/// 5. switch the record to the copy in one transaction if and only if it still names the version copied (an upload,
///    overwrite or delete of the key meanwhile wins, and the copy is removed); the old location is queued for
///    deletion after the delete grace, so a redirect or a cached record that still names it keeps resolving.
/// A page of moves claims its locations in one transaction and switches its records in another, so the catalog
/// commits twice per page, not twice per object; the copies run in parallel between the two, and are made durable
/// together (one flush per target) before the switch.
/// </summary>
internal sealed class ObjectMover(IObjectCatalog catalog, StorageUsageTracker usage, WriteCleanup cleanup, KeyGenerator keys, IOptions<EdgeRouterOptions> options, TimeProvider timeProvider)
{
    private const int MaxLocationAttempts = 8;

    // Below this many copies to one storage, a HEAD each costs no more than a listing.
    private const int MinListedCopies = 4;

    private static readonly MoveResult NotRun = new(MoveOutcome.Failed, "The move did not run: its page stopped first.");

    /// <summary>
    /// Moves <paramref name="record"/>'s bytes, read from <paramref name="sourceLocation"/> on <paramref name="source"/>
    /// (its own location, or a former one holding the same bytes), to <paramref name="placement"/>'s storage, whose
    /// reservation (if any) is settled either way.
    /// </summary>
    public async Task<MoveResult> MoveAsync(ObjectRecord record, StorageDefinition source, string sourceLocation, Placement.Placement placement, CancellationToken cancellationToken)
        => (await MoveManyAsync([new Move(record, source, sourceLocation, placement)], 1, null, cancellationToken))[0];

    /// <summary>
    /// Moves a page of objects, <paramref name="parallelism"/> copies at a time, calling <paramref name="pace"/> after
    /// each copy with its bytes (a job's throttle); every reservation is settled either way.
    /// </summary>
    public async Task<IReadOnlyList<MoveResult>> MoveManyAsync(IReadOnlyList<Move> moves, int parallelism, Func<long, ValueTask>? pace, CancellationToken cancellationToken)
    {
        var results = Enumerable.Repeat(NotRun, moves.Count).ToArray();
        var copies = new UploadIntent?[moves.Count];
        try
        {
            // 1. The key's own location on each target, claimed in one transaction; a location taken gets another, alone.
            var wanted = moves.Select(m => Intent(m.Placement.Storage!, m.Record.Key, m.Record.Key)).ToList();
            var claimed = await catalog.TryBeginUploadsAsync(wanted, cancellationToken);
            var free = await FreeLocationsAsync(moves, wanted, claimed, cancellationToken);

            // 2-4. Copy and check, in parallel.
            await Parallel.ForEachAsync(
                Enumerable.Range(0, moves.Count),
                new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken },
                async (i, token) =>
                {
                    (results[i], copies[i]) = await CopyAsync(moves[i], claimed[i] ? wanted[i] : null, free[i], token);
                    if (pace is not null)
                    {
                        await pace(results[i].Outcome == MoveOutcome.Moved ? moves[i].Record.Size : 0);
                    }
                });

            // 4b. The copies made durable together, before any record names them.
            await FlushCopiesAsync(moves, copies, results, cancellationToken);

            // 5. Switch every record copied, in one transaction. Not cancellable: its outcome must be known.
            var copied = Enumerable.Range(0, moves.Count).Where(i => copies[i] is not null && results[i].Outcome == MoveOutcome.Moved).ToList();
            if (copied.Count > 0)
            {
                var switched = await catalog.RelocateManyAsync([.. copied.Select(i => new Relocation(moves[i].Record, copies[i]!.Value))], CancellationToken.None);
                for (var j = 0; j < copied.Count; j++)
                {
                    var i = copied[j];
                    if (switched[j])
                    {
                        copies[i] = null;
                    }
                    else
                    {
                        results[i] = new MoveResult(MoveOutcome.Superseded);
                    }
                }
            }
        }
        catch (Exception ex) when (ex is CatalogUnavailableException or OperationCanceledException)
        {
            for (var i = 0; i < moves.Count; i++)
            {
                if (copies[i] is not null || results[i] == NotRun)
                {
                    results[i] = new MoveResult(MoveOutcome.Failed, ex.Message);
                }
            }

            if (ex is OperationCanceledException)
            {
                await SettleAsync(moves, results, copies);
                throw;
            }
        }

        await SettleAsync(moves, results, copies);
        return results;
    }

    /// <summary>Removes the copies that were not switched to, and settles each move's room on its storages.</summary>
    private async Task SettleAsync(IReadOnlyList<Move> moves, MoveResult[] results, UploadIntent?[] copies)
    {
        for (var i = 0; i < moves.Count; i++)
        {
            if (copies[i] is { } copy)
            {
                await cleanup.AbandonAsync(moves[i].Placement.Storage!, copy);
            }

            if (results[i].Outcome == MoveOutcome.Moved && copies[i] is null)
            {
                await usage.CommitAsync(moves[i].Placement, moves[i].Record.Size);
                usage.Remove(moves[i].Record.StorageId, moves[i].Record.Size);
            }
            else
            {
                await usage.ReleaseAsync(moves[i].Placement);
            }
        }
    }

    /// <summary>
    /// Flushes each target's copies of the page at once (see <see cref="ObjectWriteOptions.DeferFlush"/>): on a disk,
    /// a hundred fsyncs issued together cost the journal a few commits, where one at a time they cost one each. Copies
    /// whose flush fails are failed moves, removed like any other.
    /// </summary>
    private static async Task FlushCopiesAsync(IReadOnlyList<Move> moves, UploadIntent?[] copies, MoveResult[] results, CancellationToken cancellationToken)
    {
        foreach (var group in Enumerable.Range(0, moves.Count).Where(i => copies[i] is not null).GroupBy(i => moves[i].Placement.Storage!.Id, StringComparer.Ordinal))
        {
            try
            {
                await moves[group.First()].Placement.Storage!.Store.FlushAsync([.. group.Select(i => copies[i]!.Value.Location)], cancellationToken);
            }
            catch (StorageException ex)
            {
                foreach (var i in group)
                {
                    results[i] = new MoveResult(MoveOutcome.Failed, ex.Message);
                }
            }
        }
    }

    /// <summary>
    /// Which claimed locations a listing of their storage shows free, for stores that would otherwise ask with a HEAD
    /// before each write: one listing of the page's range instead of a request per object (a quarter of what an
    /// S3-compatible copy cost). The listing runs after the claims, so no writer of the router's can come between;
    /// a location it cannot vouch for (a listing that fails or runs long) is asked about as before.
    /// </summary>
    private static async Task<bool[]> FreeLocationsAsync(IReadOnlyList<Move> moves, List<UploadIntent> wanted, IReadOnlyList<bool> claimed, CancellationToken cancellationToken)
    {
        var free = new bool[moves.Count];
        var groups = Enumerable.Range(0, moves.Count)
            .Where(i => claimed[i] && moves[i].Placement.Storage!.Store.AsksBeforeCreate)
            .GroupBy(i => moves[i].Placement.Storage!.Id, StringComparer.Ordinal);
        foreach (var group in groups)
        {
            var indices = group.OrderBy(i => wanted[i].Location, StringComparer.Ordinal).ToList();
            if (indices.Count < MinListedCopies)
            {
                continue;
            }

            var (first, last) = (wanted[indices[0]].Location, wanted[indices[^1]].Location);
            var taken = new HashSet<string>(StringComparer.Ordinal);
            var complete = true;
            try
            {
                var budget = (indices.Count * 4) + 1000;
                await foreach (var listed in moves[indices[0]].Placement.Storage!.Store.ListAsync(WholeChars(first[..CommonPrefixLength(first, last)]), WholeChars(first[..^1]), cancellationToken))
                {
                    if (string.CompareOrdinal(listed.Location, last) > 0)
                    {
                        break;
                    }

                    taken.Add(listed.Location);
                    if (--budget == 0)
                    {
                        complete = false;
                        break;
                    }
                }
            }
            catch (Exception ex) when (ex is StorageException or ArgumentException)
            {
                complete = false;
            }

            foreach (var i in indices)
            {
                free[i] = complete && !taken.Contains(wanted[i].Location);
            }
        }

        return free;

        static int CommonPrefixLength(string a, string b)
        {
            var n = 0;
            while (n < a.Length && n < b.Length && a[n] == b[n])
            {
                n++;
            }

            return n;
        }

        // A prefix cut inside a surrogate pair is not a string a backend can take.
        static string WholeChars(string text) => text.Length > 0 && char.IsHighSurrogate(text[^1]) ? text[..^1] : text;
    }

    private UploadIntent Intent(StorageDefinition target, string key, string location)
    {
        var uploads = options.Value.Uploads;
        return new UploadIntent(target.Id, location, key, timeProvider.GetUtcNow() + uploads.MaxUploadDuration + uploads.IntentMargin);
    }

    /// <summary>
    /// Steps 2 to 4 for one object, under <paramref name="claimed"/> (or a location claimed here). Returns
    /// <see cref="MoveOutcome.Moved"/> with the copy's intent when the copy checked out; otherwise nothing is left behind.
    /// </summary>
    private async Task<(MoveResult Result, UploadIntent? Copy)> CopyAsync(Move move, UploadIntent? claimed, bool knownFree, CancellationToken cancellationToken)
    {
        var (record, source, sourceLocation, placement) = move;
        var target = placement.Storage!;
        for (var attempt = 0; attempt < MaxLocationAttempts; attempt++)
        {
            var intent = claimed ?? Intent(target, record.Key, ObjectKeys.NewLocation(record.Key, keys.NewId()));
            var alreadyClaimed = claimed is not null;
            var absent = alreadyClaimed && knownFree;
            claimed = null;
            if (!alreadyClaimed && !await catalog.TryBeginUploadAsync(intent, cancellationToken))
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
                    return (new MoveResult(MoveOutcome.SourceMissing, $"Storage '{source.Id}' has no object at '{sourceLocation}'."), null);
                }

                string readSha;
                long readLength;
                StoredObject stored;
                await using (content)
                {
                    await using var hashing = new HashingReadStream(content.Content);
                    try
                    {
                        stored = await target.Store.PutAsync(intent.Location, hashing, new ObjectWriteOptions(record.ContentType, target.CacheControl, record.Size, KnownAbsent: absent, DeferFlush: true, VerifyStored: true), cancellationToken);
                    }
                    catch (ObjectAlreadyExistsException)
                    {
                        // Not the router's (nothing names it): left alone, and another location taken.
                        await cleanup.EndIntentAsync(intent);
                        continue;
                    }

                    (readSha, readLength) = (hashing.Sha256Hex, hashing.Count);
                }

                // 3. What was read must be the record's bytes: a source that changed under it is not copied on. A
                // record imported without its hash has only its size to check; the copy is then checked against the read.
                var expectedSha = record.HashPending ? readSha : record.Sha256;
                if (readLength != record.Size || !string.Equals(readSha, expectedSha, StringComparison.OrdinalIgnoreCase))
                {
                    await cleanup.AbandonAsync(target, intent);
                    return (new MoveResult(MoveOutcome.Failed, $"'{sourceLocation}' on storage '{source.Id}' holds {readLength} bytes with SHA-256 {readSha}, not the record's {record.Size} bytes with {record.Sha256}; left where it is."), null);
                }

                // 4. The copy must be the record's bytes: vouched for by the target's own digest of what it stored
                // (the bytes just hashed), or else read back and hashed.
                if (stored.Verified && stored.Size == readLength)
                {
                    return (new MoveResult(MoveOutcome.Moved), intent);
                }

                var (copySha, copyLength) = await HashingReadStream.HashObjectAsync(target.Store, intent.Location, cancellationToken) is { } copy ? copy : (null, 0);
                if (copyLength != record.Size || !string.Equals(copySha, expectedSha, StringComparison.OrdinalIgnoreCase))
                {
                    await cleanup.AbandonAsync(target, intent);
                    return (new MoveResult(MoveOutcome.Failed, $"The copy on storage '{target.Id}' read back as {copyLength} bytes with SHA-256 {copySha ?? "(none)"}, not the record's; removed."), null);
                }

                return (new MoveResult(MoveOutcome.Moved), intent);
            }
            catch (Exception ex) when (ex is StorageException or IOException or CatalogUnavailableException)
            {
                await cleanup.AbandonAsync(target, intent);
                return (new MoveResult(MoveOutcome.Failed, ex.Message), null);
            }
            catch
            {
                await cleanup.AbandonAsync(target, intent);
                throw;
            }
        }

        return (new MoveResult(MoveOutcome.Failed, $"No free location for '{record.Key}' on storage '{target.Id}' after {MaxLocationAttempts} tries."), null);
    }
}

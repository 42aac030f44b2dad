using System.Text.Json.Nodes;
using EdgeRouter.Catalog;
using EdgeRouter.Placement;
using EdgeRouter.Storage;

namespace EdgeRouter.Jobs;

/// <summary>
/// <c>{"kind": "verify", "storage": "s3", "prefix": "", "deep": false, "repair": false}</c>: compares the catalog with
/// each storage's listing (one storage, or all). The report lists orphans (objects no record, upload or queued
/// deletion names), records whose object is missing, size mismatches, and with <c>deep</c> SHA-256 mismatches (each
/// object read and hashed). With <c>repair</c>, orphans are queued for deletion after the delete grace, and a missing
/// object is copied back from a former location that still holds the same bytes (a version moved or replaced within
/// the grace); no record is ever removed.
/// </summary>
internal sealed class VerifyJob(IStorageRegistry registry, IObjectCatalog catalog, ObjectMover mover) : IJob
{
    private const int ListingPage = 500;

    public string Kind => "verify";

    public IReadOnlyList<string> Validate(JsonObject spec)
    {
        var problems = JobSpec.CommonProblems(spec);
        if (spec["storage"] is not null && JobSpec.StorageProblem(spec, "storage", registry.Current) is { } storage)
        {
            problems.Add(storage);
        }

        return problems;
    }

    public async Task RunAsync(JobContext context)
    {
        var prefix = JobSpec.Text(context.Spec, "prefix") ?? string.Empty;
        var ids = JobSpec.Text(context.Spec, "storage") is { } one ? [one] : registry.Current.Storages.Select(s => s.Id).Order(StringComparer.Ordinal).ToList();
        if (context.Progress.Total is null)
        {
            var usage = await catalog.GetUsageAsync(context.CancellationToken);
            context.SetTotal(ids.Sum(id => usage.GetValueOrDefault(id).Objects));
        }

        // The checkpoint is the last storage verified whole.
        foreach (var id in ids.Where(id => context.Checkpoint is null || string.CompareOrdinal(id, context.Checkpoint) > 0))
        {
            var matched = await CompareListingAsync(context, id, prefix);
            await FindMissingAsync(context, id, prefix, matched);
            await context.CheckpointAsync(id);
        }
    }

    /// <summary>Walks the storage's listing against the catalog; returns how many listed objects a record names.</summary>
    private async Task<long> CompareListingAsync(JobContext context, string id, string prefix)
    {
        var deep = JobSpec.Flag(context.Spec, "deep");
        var repair = JobSpec.Flag(context.Spec, "repair");
        long matched = 0;
        var listing = JobSpec.StorageOf(registry, id).Store.ListAsync(prefix, null, context.CancellationToken);
        await foreach (var page in listing.Chunk(ListingPage).WithCancellation(context.CancellationToken))
        {
            var named = await catalog.FindLocationsAsync(id, [.. page.Select(o => o.Location)], context.CancellationToken);
            await Parallel.ForEachAsync(page, new ParallelOptions { MaxDegreeOfParallelism = context.Parallelism, CancellationToken = context.CancellationToken }, async (listed, cancellationToken) =>
            {
                if (!named.TryGetValue(listed.Location, out var record))
                {
                    context.Note("orphans", new JsonObject { ["storage"] = id, ["location"] = listed.Location, ["size"] = listed.Size });
                    if (repair && await catalog.QueueOrphanAsync(id, listed.Location, cancellationToken))
                    {
                        context.Count("orphansQueued");
                    }

                    return;
                }

                if (record is null)
                {
                    // An upload in flight or a deletion queued: neither is the catalog's to verify.
                    context.Count("inFlight");
                    return;
                }

                Interlocked.Increment(ref matched);
                if (listed.Size != record.Size)
                {
                    context.Note("sizeMismatches", new JsonObject { ["key"] = record.Key, ["storage"] = id, ["location"] = record.Location, ["recorded"] = record.Size, ["stored"] = listed.Size });
                    context.Processed();
                    return;
                }

                context.Processed(deep ? await CompareHashAsync(context, id, record, cancellationToken) : 0);
            });
        }

        return matched;
    }

    /// <summary>Reads the object and compares its SHA-256 with the record's, or records it where it is pending; returns the bytes read.</summary>
    private async Task<long> CompareHashAsync(JobContext context, string id, ObjectRecord record, CancellationToken cancellationToken)
    {
        if (await HashingReadStream.HashObjectAsync(JobSpec.StorageOf(registry, id).Store, record.Location, cancellationToken) is not var (sha256, length))
        {
            return 0;
        }

        await context.PaceAsync(length);
        if (record.HashPending)
        {
            // Imported without reading it: what the storage holds now is the object, and from now on its copies are checked against it.
            if (length == record.Size && await catalog.RecordHashAsync(record, sha256, cancellationToken))
            {
                context.Count("hashed");
            }
        }
        else if (!string.Equals(sha256, record.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            context.Note("hashMismatches", new JsonObject { ["key"] = record.Key, ["storage"] = id, ["location"] = record.Location, ["recorded"] = record.Sha256, ["stored"] = sha256 });
        }

        return length;
    }

    /// <summary>
    /// Records whose object the listing did not show. Only when the counts differ (a record the listing matched is
    /// not missing) is each record checked, by a stat, and a missing one confirmed against the catalog as it is now.
    /// </summary>
    private async Task FindMissingAsync(JobContext context, string id, string prefix, long matched)
    {
        var records = await JobPages.StoredAsync(catalog, id, prefix, null, context.CancellationToken).LongCountAsync(context.CancellationToken);
        if (records <= matched)
        {
            return;
        }

        var repair = JobSpec.Flag(context.Spec, "repair");
        await Parallel.ForEachAsync(
            JobPages.StoredAsync(catalog, id, prefix, null, context.CancellationToken),
            new ParallelOptions { MaxDegreeOfParallelism = context.Parallelism, CancellationToken = context.CancellationToken },
            async (record, cancellationToken) =>
            {
                var storage = JobSpec.StorageOf(registry, id);
                if (await storage.Store.StatAsync(record.Location, cancellationToken) is not null
                    || await catalog.FindCurrentAsync(record.Key, cancellationToken) != record)
                {
                    return;
                }

                context.Note("missing", new JsonObject { ["key"] = record.Key, ["storage"] = id, ["location"] = record.Location });
                if (repair)
                {
                    await RepairAsync(context, record, storage, cancellationToken);
                }
            });
    }

    /// <summary>Copies the record's bytes back from a former location that still holds them (checked by SHA-256 as they are copied).</summary>
    private async Task RepairAsync(JobContext context, ObjectRecord record, StorageDefinition storage, CancellationToken cancellationToken)
    {
        foreach (var former in await catalog.FindFormerLocationsAsync(record.Key, cancellationToken))
        {
            if (!registry.Current.ById.TryGetValue(former.StorageId, out var source))
            {
                continue;
            }

            var result = await mover.MoveAsync(record, source, former.Location, new Placement.Placement(storage, 0, PlacementFailure.None), cancellationToken);
            if (result.Outcome == MoveOutcome.Moved)
            {
                context.Note("repaired", new JsonObject { ["key"] = record.Key, ["from"] = former.StorageId, ["location"] = former.Location });
                return;
            }
        }

        context.Note("unrepairable", new JsonObject { ["key"] = record.Key, ["reason"] = "No other copy of its bytes exists." });
    }
}

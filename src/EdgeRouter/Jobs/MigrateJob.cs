using System.Text.Json.Nodes;
using EdgeRouter.Catalog;
using EdgeRouter.Configuration;
using EdgeRouter.Placement;
using EdgeRouter.Storage;

namespace EdgeRouter.Jobs;

/// <summary>
/// <c>{"kind": "migrate", "from": "A", "to": "B", "prefix": "2019/"}</c>: moves every object of storage A under the
/// prefix to storage B (see <see cref="ObjectMover"/>); every site URL stays as it was. Resumes after the last key
/// of the last whole page; an object moved after it is found on B and skipped.
/// </summary>
internal sealed class MigrateJob(IStorageRegistry registry, IObjectCatalog catalog, ObjectMover mover, StorageUsageTracker usage) : IJob
{
    public string Kind => "migrate";

    public IReadOnlyList<string> Validate(JsonObject spec)
    {
        var problems = JobSpec.CommonProblems(spec);
        problems.AddRange(new[] { JobSpec.StorageProblem(spec, "from", registry.Current), JobSpec.StorageProblem(spec, "to", registry.Current) }.OfType<string>());
        if (problems.Count == 0 && JobSpec.Text(spec, "from") == JobSpec.Text(spec, "to"))
        {
            problems.Add("'from' and 'to' are the same storage.");
        }

        return problems;
    }

    public async Task RunAsync(JobContext context)
    {
        var from = JobSpec.Text(context.Spec, "from")!;
        var to = JobSpec.Text(context.Spec, "to")!;
        var prefix = JobSpec.Text(context.Spec, "prefix") ?? string.Empty;
        if (context.Progress.Total is null)
        {
            context.SetTotal(await JobPages.StoredAsync(catalog, from, prefix, null, context.CancellationToken).LongCountAsync(context.CancellationToken));
        }

        await usage.EnsureLoadedAsync(context.CancellationToken);
        await JobPages.RunPagesAsync(context, JobPages.StoredAsync(catalog, from, prefix, context.Checkpoint, context.CancellationToken), r => r.Key, async (page, cancellationToken) =>
        {
            var target = JobSpec.StorageOf(registry, to);
            var source = JobSpec.StorageOf(registry, from);
            var moves = new List<Move>(page.Count);
            var room = target.Capacity is { } capacity ? capacity - usage.UsageOf(to).Bytes : long.MaxValue;
            foreach (var record in page)
            {
                if (record.Size > room)
                {
                    context.Error(record.Key, $"Storage '{to}' has no room for {record.Size} more bytes (capacity {target.Capacity}).");
                    context.Processed();
                    continue;
                }

                room -= record.Size;
                moves.Add(new Move(record, source, record.Location, new Placement.Placement(target, 0, PlacementFailure.None)));
            }

            await JobPages.MoveAsync(context, mover, moves, cancellationToken);
        });
    }
}

/// <summary>
/// <c>{"kind": "drain", "storage": "old"}</c>: switches the storage off for uploads (<c>active: false</c> in
/// storages.json), then moves every object it holds to the others, each where the placement policy puts it (weights,
/// room, health), so the storage can be removed once the job succeeds.
/// </summary>
internal sealed class DrainJob(IStorageRegistry registry, StorageConfigManager storages, IObjectCatalog catalog, ObjectMover mover, StoragePlacer placer) : IJob
{
    public string Kind => "drain";

    public IReadOnlyList<string> Validate(JsonObject spec)
    {
        var problems = JobSpec.CommonProblems(spec);
        if (JobSpec.StorageProblem(spec, "storage", registry.Current) is { } storage)
        {
            problems.Add(storage);
        }

        return problems;
    }

    public async Task RunAsync(JobContext context)
    {
        var id = JobSpec.Text(context.Spec, "storage")!;
        if (JobSpec.StorageOf(registry, id).Active)
        {
            var problems = storages.EditStorage(id, (entry, errors) =>
            {
                if (entry is not null)
                {
                    entry["active"] = false;
                }

                return entry;
            });
            if (problems.Count > 0)
            {
                throw new InvalidOperationException($"Storage '{id}' could not be switched off for uploads: {string.Join(" ", problems)}");
            }

            context.Set("switchedOff", true);
        }

        if (context.Progress.Total is null)
        {
            context.SetTotal(await JobPages.StoredAsync(catalog, id, string.Empty, null, context.CancellationToken).LongCountAsync(context.CancellationToken));
        }

        var excluded = new HashSet<string>([id], StringComparer.Ordinal);
        await JobPages.RunPagesAsync(context, JobPages.StoredAsync(catalog, id, string.Empty, context.Checkpoint, context.CancellationToken), r => r.Key, async (page, cancellationToken) =>
        {
            var moves = new List<Move>(page.Count);
            foreach (var record in page)
            {
                // Each placement reserves its room until its move settles, so a page cannot overfill a storage.
                var placement = await placer.PlaceAsync(record.Size, excluded, cancellationToken);
                if (placement.Storage is null)
                {
                    context.Error(record.Key, placement.Failure == PlacementFailure.InsufficientStorage ? "No other storage has room for it." : "No other storage can take uploads now.");
                    context.Processed();
                    continue;
                }

                moves.Add(new Move(record, JobSpec.StorageOf(registry, id), record.Location, placement));
            }

            await JobPages.MoveAsync(context, mover, moves, cancellationToken);
        });
    }
}

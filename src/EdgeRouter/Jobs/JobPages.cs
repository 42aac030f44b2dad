using System.Runtime.CompilerServices;
using EdgeRouter.Catalog;

namespace EdgeRouter.Jobs;

/// <summary>How the jobs walk their work: a page at a time, its items in parallel, a checkpoint after each page.</summary>
internal static class JobPages
{
    public const int PageSize = 100;

    /// <summary>
    /// Runs <paramref name="work"/> on every item, <see cref="JobContext.Parallelism"/> at a time, a page of
    /// <see cref="PageSize"/> after another; once a page is done, checkpoints at its last item's position (the
    /// items come in order of it), so a restart resumes after the last whole page.
    /// </summary>
    public static Task RunAsync<T>(JobContext context, IAsyncEnumerable<T> items, Func<T, string> position, Func<T, CancellationToken, ValueTask> work)
    {
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = context.Parallelism, CancellationToken = context.CancellationToken };
        return RunPagesAsync(context, items, position, (page, _) => Parallel.ForEachAsync(page, parallel, work));
    }

    /// <summary>
    /// Runs <paramref name="work"/> on each page of <see cref="PageSize"/> items (it runs their work in parallel itself,
    /// as a batch of moves does), then checkpoints at the page's last item's position.
    /// </summary>
    public static async Task RunPagesAsync<T>(JobContext context, IAsyncEnumerable<T> items, Func<T, string> position, Func<IReadOnlyList<T>, CancellationToken, Task> work)
    {
        await foreach (var page in items.Chunk(PageSize).WithCancellation(context.CancellationToken))
        {
            await work(page, context.CancellationToken);
            await context.CheckpointAsync(position(page[^1]));
        }
    }

    /// <summary>The records of one storage under a prefix, in key order, after <paramref name="after"/>, read a page at a time.</summary>
    public static async IAsyncEnumerable<ObjectRecord> StoredAsync(IObjectCatalog catalog, string storageId, string prefix, string? after, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (true)
        {
            var page = await catalog.ListStoredAsync(storageId, prefix, after, 500, cancellationToken);
            foreach (var record in page)
            {
                yield return record;
            }

            if (page.Count < 500)
            {
                yield break;
            }

            after = page[^1].Key;
        }
    }

    /// <summary>Moves a page of objects, paced by the job's throttle, and reports each outcome.</summary>
    public static async Task MoveAsync(JobContext context, ObjectMover mover, IReadOnlyList<Move> moves, CancellationToken cancellationToken)
    {
        // Each copy counts as processed as soon as it is done (the page's switch comes after), so progress and a cancel
        // do not wait for the page.
        var results = await mover.MoveManyAsync(
            moves,
            context.Parallelism,
            bytes =>
            {
                context.Processed(bytes);
                return context.PaceAsync(bytes);
            },
            cancellationToken);
        for (var i = 0; i < moves.Count; i++)
        {
            Report(context, moves[i].Record, results[i]);
        }
    }

    /// <summary>Counts and lists a move's outcome in the report (its object was counted as processed when copied).</summary>
    private static void Report(JobContext context, ObjectRecord record, MoveResult result)
    {
        switch (result.Outcome)
        {
            case MoveOutcome.Moved:
                context.Count("moved");
                return;
            case MoveOutcome.Superseded:
                // Changed during the copy: the new version stays where its writer put it.
                context.Count("superseded");
                break;
            case MoveOutcome.SourceMissing:
                context.Note("missing", new() { ["key"] = record.Key, ["storage"] = record.StorageId, ["location"] = record.Location });
                break;
            default:
                context.Error(record.Key, result.Problem ?? "The move failed.");
                break;
        }
    }
}

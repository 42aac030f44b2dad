using System.Text.Json.Nodes;
using EdgeRouter.Storage;

namespace EdgeRouter.Jobs;

/// <summary>
/// <c>{"kind": "import", "storage": "legacy", "prefix": "2019/", "hash": true}</c>: adopts every object a storage holds under the
/// prefix that the catalog does not know yet (see <see cref="ObjectAdopter"/>), so the router serves a bucket or a
/// folder another tool filled. Idempotent: a second run records nothing new.
/// </summary>
internal sealed class ImportJob(IStorageRegistry registry, ObjectAdopter adopter) : IJob
{
    public string Kind => "import";

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
        var prefix = JobSpec.Text(context.Spec, "prefix") ?? string.Empty;
        var store = JobSpec.StorageOf(registry, id).Store;

        // Hashing reads every byte once; without it an import reads each object's first bytes, and the SHA-256 is
        // recorded on its first whole stream or by a deep verify.
        var hash = JobSpec.Flag(context.Spec, "hash", fallback: true);
        if (context.Progress.Total is null)
        {
            context.SetTotal(await store.ListAsync(prefix, null, context.CancellationToken).LongCountAsync(context.CancellationToken));
        }

        await JobPages.RunAsync(context, store.ListAsync(prefix, context.Checkpoint, context.CancellationToken), o => o.Location, async (listed, cancellationToken) =>
        {
            AdoptResult result;
            try
            {
                result = await adopter.AdoptAsync(JobSpec.StorageOf(registry, id), listed.Location, listed.LastModified, cancellationToken, hash ? null : listed.Size);
            }
            catch (StorageException ex)
            {
                context.Error(listed.Location, ex.Message);
                context.Processed();
                return;
            }

            switch (result.Outcome)
            {
                case AdoptOutcome.Adopted:
                    context.Count("imported");
                    break;
                case AdoptOutcome.Known:
                    context.Count("known");
                    break;
                case AdoptOutcome.Refused:
                    context.Note("refused", new JsonObject { ["key"] = listed.Location, ["reason"] = result.Reason });
                    break;
                default:
                    context.Count("vanished");
                    break;
            }

            context.Processed(result.Bytes);
            await context.PaceAsync(result.Bytes);
        });
    }
}

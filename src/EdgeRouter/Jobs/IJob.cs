using System.Text.Json.Nodes;

namespace EdgeRouter.Jobs;

/// <summary>
/// One kind of job (<c>import</c>, <c>migrate</c>, …), registered by <see cref="Kind"/>. It must be resumable: run
/// again from <see cref="JobContext.Checkpoint"/> after a crash, it finishes the work without doing any of it twice
/// in a way that shows (an object imported twice, moved twice).
/// </summary>
public interface IJob
{
    string Kind { get; }

    /// <summary>What is wrong with <paramref name="spec"/> (the admin API answers 400 with these), empty when it can run.</summary>
    IReadOnlyList<string> Validate(JsonObject spec);

    Task RunAsync(JobContext context);
}

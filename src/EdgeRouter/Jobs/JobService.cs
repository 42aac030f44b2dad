using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace EdgeRouter.Jobs;

/// <summary>Takes jobs from the admin API: checks each spec against its kind, queues it, and reports and cancels jobs.</summary>
internal sealed class JobService(IJobStore store, IEnumerable<IJob> kinds, JobRunner runner, TimeProvider timeProvider)
{
    private readonly Dictionary<string, IJob> _kinds = kinds.ToDictionary(k => k.Kind, StringComparer.Ordinal);

    /// <summary>Queues the job <paramref name="spec"/> describes; null with the problems when it cannot run.</summary>
    public async Task<(JobRecord? Job, IReadOnlyList<string> Problems)> CreateAsync(JsonObject spec, CancellationToken cancellationToken)
    {
        if (JobSpec.Text(spec, "kind") is not { } name || !_kinds.TryGetValue(name, out var kind))
        {
            return (null, [$"'kind' must be one of: {string.Join(", ", _kinds.Keys)}."]);
        }

        var problems = kind.Validate(spec);
        if (problems.Count > 0)
        {
            return (null, problems);
        }

        var now = timeProvider.GetUtcNow();
        var job = new JobRecord($"{now:yyyyMMdd-HHmmss}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}", name, spec.ToJsonString(), JobStates.Queued, now);
        await store.CreateJobAsync(job, cancellationToken);
        runner.JobQueued();
        return (job, []);
    }

    public Task<JobRecord?> GetAsync(string id, CancellationToken cancellationToken) => store.GetJobAsync(id, cancellationToken);

    public Task<IReadOnlyList<JobRecord>> ListAsync(int limit, CancellationToken cancellationToken) => store.ListJobsAsync(limit, cancellationToken);

    /// <summary>Cancels the job (at once if queued; a running one stops at its next save); the job as it is then, or null when unknown.</summary>
    public async Task<JobRecord?> CancelAsync(string id, CancellationToken cancellationToken)
    {
        await store.CancelJobAsync(id, timeProvider.GetUtcNow(), cancellationToken);
        return await store.GetJobAsync(id, cancellationToken);
    }
}

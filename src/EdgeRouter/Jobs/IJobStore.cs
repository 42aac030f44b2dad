namespace EdgeRouter.Jobs;

/// <summary>The states of a job, as the admin API writes them.</summary>
public static class JobStates
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static bool IsFinished(string state) => state is Succeeded or Failed or Cancelled;
}

/// <summary>A job as the catalog keeps it: what to do (<see cref="Spec"/>, JSON), how far it got, and where to resume.</summary>
public sealed record JobRecord(string Id, string Kind, string Spec, string State, DateTimeOffset CreatedAt)
{
    public JobProgress Progress { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public DateTimeOffset? FinishedAt { get; init; }

    public bool CancelRequested { get; init; }

    /// <summary>The instance that runs it, or last ran it (host:process id:nonce); null before it was first claimed.</summary>
    public string? Owner { get; init; }
}

/// <summary>
/// How far a job got: counts, the checkpoint it resumes after (the last key or location done, in order) and its
/// report so far (JSON).
/// </summary>
public readonly record struct JobProgress(long Processed, long? Total, long Bytes, long Errors, string? Checkpoint, string? Report);

/// <summary>What a running job's owner learns when it saves its progress.</summary>
public enum JobLease
{
    /// <summary>Still this owner's: go on.</summary>
    Held,

    /// <summary>Still this owner's, and an operator asked to cancel it.</summary>
    CancelRequested,

    /// <summary>Another instance took it over (this owner's lease had run out): stop at once, saving nothing more.</summary>
    Lost,
}

/// <summary>
/// Jobs and their checkpoints, in the catalog's database, so every instance sees the same jobs and a job outlives the
/// instance that ran it. An instance runs a job under a lease it renews as it saves progress; a job whose lease ran
/// out (its instance died) is claimed again by the next instance that asks, and resumes from its checkpoint.
/// </summary>
public interface IJobStore
{
    Task CreateJobAsync(JobRecord job, CancellationToken cancellationToken);

    Task<JobRecord?> GetJobAsync(string id, CancellationToken cancellationToken);

    /// <summary>The newest jobs first.</summary>
    Task<IReadOnlyList<JobRecord>> ListJobsAsync(int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Takes the oldest job that is queued, or running under a lease that ran out before <paramref name="now"/>, for
    /// <paramref name="owner"/> until <paramref name="leaseUntil"/>; null when there is none.
    /// </summary>
    Task<JobRecord?> TryClaimJobAsync(string owner, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken cancellationToken);

    /// <summary>Saves a running job's progress and extends its lease, if <paramref name="owner"/> still holds it.</summary>
    Task<JobLease> SaveJobAsync(string id, string owner, JobProgress progress, DateTimeOffset leaseUntil, CancellationToken cancellationToken);

    /// <summary>Ends a running job in <paramref name="state"/>, if <paramref name="owner"/> still holds it.</summary>
    Task<bool> FinishJobAsync(string id, string owner, string state, JobProgress progress, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>
    /// Cancels a queued job at once, or asks a running one's owner to stop (it sees so at its next save); false when the
    /// job is unknown or already finished.
    /// </summary>
    Task<bool> CancelJobAsync(string id, DateTimeOffset at, CancellationToken cancellationToken);
}

namespace EdgeRouter.Jobs;

/// <summary><c>EdgeRouter:Jobs</c>: how this instance runs data-mobility jobs (import, migrate, drain, rebalance, verify).</summary>
public sealed class JobOptions
{
    /// <summary>Whether this instance runs jobs at all (an instance can be kept for reads only); the API still takes them.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How often an idle instance looks for a queued job, or one whose instance died.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a running job stays its instance's without a word from it: its progress is saved at least three times
    /// in this span, and once it runs out (the instance died) another instance takes the job over from its checkpoint.
    /// </summary>
    public TimeSpan LeaseTime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Objects a job copies, reads or hashes at once.</summary>
    public int Parallelism { get; set; } = 8;
}

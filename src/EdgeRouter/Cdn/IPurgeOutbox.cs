namespace EdgeRouter.Cdn;

/// <summary>What a purge clears: one object (by its URL or tag), or everything a storage serves (by its tag).</summary>
public static class PurgeScopes
{
    public const string Key = "key";
    public const string Storage = "storage";

    /// <summary>A callback: the subject is the URL the payload is posted to.</summary>
    public const string Callback = "callback";
}

/// <summary>Why a purge was recorded: the change it follows, or an operator's request.</summary>
public static class PurgeEvents
{
    public const string Deleted = "deleted";
    public const string Replaced = "replaced";
    public const string Moved = "moved";
    public const string Manual = "purge";

    /// <summary>An upload token's completion callback: the object JSON, posted to the token's callback URL.</summary>
    public const string Created = "created";
}

/// <summary>A purge's state in the outbox.</summary>
public static class PurgeStates
{
    public const string Pending = "pending";
    public const string Sent = "sent";
    public const string Dead = "dead";
}

/// <summary>One purge of one target, as the outbox holds it.</summary>
public sealed record PurgeRow(
    long Id,
    string Target,
    string Event,
    string Scope,
    string Subject,
    string? StorageId,
    string State,
    int Attempts,
    DateTimeOffset CreatedAt,
    DateTimeOffset DueAt,
    DateTimeOffset? SentAt,
    string? LastError,
    string? Payload = null);

/// <summary>A purge to record for every target.</summary>
public readonly record struct PurgeRequest(string Event, string Scope, string Subject, string? StorageId, string? Payload = null);

/// <summary>The outbox at a glance: counts by state, and the oldest purge still waiting.</summary>
public readonly record struct PurgeStats(long Pending, long Sent, long Dead, DateTimeOffset? OldestPending);

/// <summary>
/// The durable outbox of CDN purges, in the catalog's database. A delete, an overwrite or a migration's switch records
/// its purges in the same transaction as the change (so a crash after the commit still purges); the worker claims
/// them under a lease (on PostgreSQL with <c>FOR UPDATE SKIP LOCKED</c>, so each is sent by one instance).
/// </summary>
public interface IPurgeOutbox
{
    /// <summary>Records the requests for each target (an operator's purge), due now.</summary>
    Task EnqueuePurgesAsync(IReadOnlyList<string> targets, IReadOnlyList<PurgeRequest> requests, CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="limit"/> due purges no other sender holds, leased to <paramref name="owner"/> until <paramref name="leaseUntil"/>.</summary>
    Task<IReadOnlyList<PurgeRow>> ClaimPurgesAsync(string owner, DateTimeOffset now, DateTimeOffset leaseUntil, int limit, CancellationToken cancellationToken);

    /// <summary>The CDN took them.</summary>
    Task CompletePurgesAsync(IReadOnlyList<long> ids, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>
    /// Tries them again at <paramref name="due"/>; a try that failed (<paramref name="countAttempt"/>) counts, and the
    /// one that reaches <paramref name="maxAttempts"/> moves the purge to the dead letters.
    /// </summary>
    Task RetryPurgesAsync(IReadOnlyList<long> ids, DateTimeOffset due, string? answer, bool countAttempt, int maxAttempts, CancellationToken cancellationToken);

    /// <summary>A failure no retry can mend (refused credentials, a bad request): straight to the dead letters.</summary>
    Task DeadLetterPurgesAsync(IReadOnlyList<long> ids, string answer, CancellationToken cancellationToken);

    /// <summary>The newest purges, of one state or all.</summary>
    Task<IReadOnlyList<PurgeRow>> ListPurgesAsync(string? state, int limit, CancellationToken cancellationToken);

    Task<PurgeStats> PurgeStatsAsync(CancellationToken cancellationToken);

    /// <summary>A dead purge back to pending with its tries reset; false when there is no dead purge by that id.</summary>
    Task<bool> RequeuePurgeAsync(long id, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Forgets purges sent before <paramref name="sentBefore"/>.</summary>
    Task<int> PruneSentPurgesAsync(DateTimeOffset sentBefore, CancellationToken cancellationToken);
}

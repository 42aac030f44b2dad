using EdgeRouter.Cdn;

namespace EdgeRouter.Catalog.Postgres;

/// <summary>The CDN purge outbox, shared by every instance: a claim skips rows another instance holds, so each purge is sent once.</summary>
internal sealed partial class PostgresObjectCatalog
{
    public Task EnqueuePurgesAsync(IReadOnlyList<string> targets, IReadOnlyList<PurgeRequest> requests, CancellationToken cancellationToken)
        => Run(connection => PurgeOutboxSql.EnqueueAsync(connection, targets, requests, _timeProvider.GetUtcNow()));

    public Task<IReadOnlyList<PurgeRow>> ClaimPurgesAsync(string owner, DateTimeOffset now, DateTimeOffset leaseUntil, int limit, CancellationToken cancellationToken)
        => Run(connection => PurgeOutboxSql.ClaimAsync(connection, "FOR UPDATE SKIP LOCKED", owner, now, leaseUntil, limit));

    public Task CompletePurgesAsync(IReadOnlyList<long> ids, DateTimeOffset at, CancellationToken cancellationToken)
        => Run(connection => PurgeOutboxSql.CompleteAsync(connection, ids, at));

    public Task RetryPurgesAsync(IReadOnlyList<long> ids, DateTimeOffset due, string? answer, bool countAttempt, int maxAttempts, CancellationToken cancellationToken)
        => Run(connection => PurgeOutboxSql.RetryAsync(connection, ids, due, answer, countAttempt, maxAttempts));

    public Task DeadLetterPurgesAsync(IReadOnlyList<long> ids, string answer, CancellationToken cancellationToken)
        => Run(connection => PurgeOutboxSql.DeadAsync(connection, ids, answer));

    public Task<IReadOnlyList<PurgeRow>> ListPurgesAsync(string? state, int limit, CancellationToken cancellationToken)
        => Query(connection => PurgeOutboxSql.ListAsync(connection, state, limit), cancellationToken);

    public Task<PurgeStats> PurgeStatsAsync(CancellationToken cancellationToken)
        => Query(PurgeOutboxSql.StatsAsync, cancellationToken);

    public Task<bool> RequeuePurgeAsync(long id, DateTimeOffset now, CancellationToken cancellationToken)
        => Run(connection => PurgeOutboxSql.RequeueAsync(connection, id, now));

    public Task<int> PruneSentPurgesAsync(DateTimeOffset sentBefore, CancellationToken cancellationToken)
        => Run(connection => PurgeOutboxSql.PruneAsync(connection, sentBefore));
}

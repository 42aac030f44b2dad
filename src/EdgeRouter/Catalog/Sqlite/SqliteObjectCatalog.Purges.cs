using EdgeRouter.Cdn;

namespace EdgeRouter.Catalog.Sqlite;

/// <summary>The CDN purge outbox, in the catalog's own file (one process writes it, so a claim needs no row locks).</summary>
internal sealed partial class SqliteObjectCatalog
{
    public Task EnqueuePurgesAsync(IReadOnlyList<string> targets, IReadOnlyList<PurgeRequest> requests, CancellationToken cancellationToken)
        => Write(connection => PurgeOutboxSql.EnqueueAsync(connection, targets, requests, _timeProvider.GetUtcNow()));

    public Task<IReadOnlyList<PurgeRow>> ClaimPurgesAsync(string owner, DateTimeOffset now, DateTimeOffset leaseUntil, int limit, CancellationToken cancellationToken)
        => Write(connection => PurgeOutboxSql.ClaimAsync(connection, string.Empty, owner, now, leaseUntil, limit));

    public Task CompletePurgesAsync(IReadOnlyList<long> ids, DateTimeOffset at, CancellationToken cancellationToken)
        => Write(connection => PurgeOutboxSql.CompleteAsync(connection, ids, at));

    public Task RetryPurgesAsync(IReadOnlyList<long> ids, DateTimeOffset due, string? answer, bool countAttempt, int maxAttempts, CancellationToken cancellationToken)
        => Write(connection => PurgeOutboxSql.RetryAsync(connection, ids, due, answer, countAttempt, maxAttempts));

    public Task DeadLetterPurgesAsync(IReadOnlyList<long> ids, string answer, CancellationToken cancellationToken)
        => Write(connection => PurgeOutboxSql.DeadAsync(connection, ids, answer));

    public Task<IReadOnlyList<PurgeRow>> ListPurgesAsync(string? state, int limit, CancellationToken cancellationToken)
        => Run(connection => PurgeOutboxSql.ListAsync(connection, state, limit));

    public Task<PurgeStats> PurgeStatsAsync(CancellationToken cancellationToken)
        => Run(PurgeOutboxSql.StatsAsync);

    public Task<bool> RequeuePurgeAsync(long id, DateTimeOffset now, CancellationToken cancellationToken)
        => Write(connection => PurgeOutboxSql.RequeueAsync(connection, id, now));

    public Task<int> PruneSentPurgesAsync(DateTimeOffset sentBefore, CancellationToken cancellationToken)
        => Write(connection => PurgeOutboxSql.PruneAsync(connection, sentBefore));
}

using System.Data.Common;
using System.Globalization;
using EdgeRouter.Catalog;

namespace EdgeRouter.Cdn;

/// <summary>
/// The outbox's statements, the same on SQLite and PostgreSQL (named parameters, <c>RETURNING</c>); each catalog runs
/// them on its own connections, PostgreSQL adding <c>FOR UPDATE SKIP LOCKED</c> to a claim.
/// </summary>
internal static class PurgeOutboxSql
{
    private const string Columns = "id, target, event, scope, subject, storage_id, state, attempts, created_ms, due_ms, sent_ms, last_error, payload";

    /// <summary>The built-in target that posts upload tokens' completion callbacks.</summary>
    public const string CallbackTarget = "callback";

    // Errors are the CDN's answers, kept short: enough to act on, never a whole page.
    private const int MaxErrorLength = 500;

    /// <summary>Inside a catalog change's transaction: the purge of the key on every target, due at once.</summary>
    public static async Task RecordAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<string> targets, string purgeEvent, string key, string storageId, DateTimeOffset now)
    {
        if (targets.Count == 0)
        {
            return;
        }

        await using var command = Insert(connection, transaction, targets, [new PurgeRequest(purgeEvent, PurgeScopes.Key, key, storageId)], now);
        await command.ExecuteNonQueryAsync(CancellationToken.None);
    }

    /// <summary>Inside an upload's commit: its token's completion callback, due at once.</summary>
    public static async Task RecordCallbackAsync(DbConnection connection, DbTransaction transaction, PurgeRequest? callback, DateTimeOffset now)
    {
        if (callback is not { } request)
        {
            return;
        }

        await using var command = Insert(connection, transaction, [CallbackTarget], [request], now);
        await command.ExecuteNonQueryAsync(CancellationToken.None);
    }

    public static async Task<int> EnqueueAsync(DbConnection connection, IReadOnlyList<string> targets, IReadOnlyList<PurgeRequest> requests, DateTimeOffset now)
    {
        if (targets.Count == 0 || requests.Count == 0)
        {
            return 0;
        }

        var recorded = 0;
        foreach (var page in requests.Chunk(200))
        {
            await using var command = Insert(connection, null, targets, page, now);
            recorded += await command.ExecuteNonQueryAsync(CancellationToken.None);
        }

        return recorded;
    }

    public static async Task<IReadOnlyList<PurgeRow>> ClaimAsync(DbConnection connection, string lockClause, string owner, DateTimeOffset now, DateTimeOffset leaseUntil, int limit)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            UPDATE purges SET owner = @owner, lease_ms = @lease
            WHERE id IN (SELECT id FROM purges WHERE state = 'pending' AND due_ms <= @now AND lease_ms < @now ORDER BY id LIMIT @limit {lockClause})
            RETURNING {Columns}
            """;
        CatalogRows.Add(command, "owner", owner);
        CatalogRows.Add(command, "lease", leaseUntil.ToUnixTimeMilliseconds());
        CatalogRows.Add(command, "now", now.ToUnixTimeMilliseconds());
        CatalogRows.Add(command, "limit", limit);
        var rows = await ReadAsync(command);
        rows.Sort((a, b) => a.Id.CompareTo(b.Id));
        return rows;
    }

    public static Task<int> CompleteAsync(DbConnection connection, IReadOnlyList<long> ids, DateTimeOffset at)
        => ExecuteForIdsAsync(connection, "UPDATE purges SET state = 'sent', sent_ms = @at, lease_ms = 0, last_error = NULL WHERE id IN ({0})", ids, c => CatalogRows.Add(c, "at", at.ToUnixTimeMilliseconds()));

    public static Task<int> RetryAsync(DbConnection connection, IReadOnlyList<long> ids, DateTimeOffset due, string? error, bool countAttempt, int maxAttempts)
        => ExecuteForIdsAsync(
            connection,
            """
            UPDATE purges SET attempts = attempts + @count, due_ms = @due, lease_ms = 0, last_error = coalesce(@error, last_error),
                state = CASE WHEN attempts + @count >= @max THEN 'dead' ELSE 'pending' END
            WHERE id IN ({0}) AND state = 'pending'
            """,
            ids,
            c =>
            {
                CatalogRows.Add(c, "count", countAttempt ? 1 : 0);
                CatalogRows.Add(c, "due", due.ToUnixTimeMilliseconds());
                CatalogRows.Add(c, "error", Shorten(error));
                CatalogRows.Add(c, "max", maxAttempts);
            });

    public static Task<int> DeadAsync(DbConnection connection, IReadOnlyList<long> ids, string error)
        => ExecuteForIdsAsync(connection, "UPDATE purges SET state = 'dead', attempts = attempts + 1, lease_ms = 0, last_error = @error WHERE id IN ({0}) AND state = 'pending'", ids, c => CatalogRows.Add(c, "error", Shorten(error)));

    public static async Task<IReadOnlyList<PurgeRow>> ListAsync(DbConnection connection, string? state, int limit)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM purges {(state is null ? string.Empty : "WHERE state = @state")} ORDER BY id DESC LIMIT @limit";
        if (state is not null)
        {
            CatalogRows.Add(command, "state", state);
        }

        CatalogRows.Add(command, "limit", limit);
        return await ReadAsync(command);
    }

    public static async Task<PurgeStats> StatsAsync(DbConnection connection)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT state, count(*), min(created_ms) FROM purges GROUP BY state";
        long pending = 0, sent = 0, dead = 0;
        DateTimeOffset? oldest = null;
        await using var reader = await command.ExecuteReaderAsync(CancellationToken.None);
        while (await reader.ReadAsync(CancellationToken.None))
        {
            var count = reader.GetInt64(1);
            switch (reader.GetString(0))
            {
                case PurgeStates.Pending:
                    pending = count;
                    oldest = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2));
                    break;
                case PurgeStates.Sent:
                    sent = count;
                    break;
                default:
                    dead = count;
                    break;
            }
        }

        return new PurgeStats(pending, sent, dead, oldest);
    }

    public static async Task<bool> RequeueAsync(DbConnection connection, long id, DateTimeOffset now)
        => await ExecuteForIdsAsync(connection, "UPDATE purges SET state = 'pending', attempts = 0, due_ms = @now, lease_ms = 0 WHERE id IN ({0}) AND state = 'dead'", [id], c => CatalogRows.Add(c, "now", now.ToUnixTimeMilliseconds())) == 1;

    public static Task<int> PruneAsync(DbConnection connection, DateTimeOffset sentBefore)
        => CatalogRows.ExecuteAsync(connection, "DELETE FROM purges WHERE state = 'sent' AND sent_ms < @before", ("before", sentBefore.ToUnixTimeMilliseconds()));

    private static DbCommand Insert(DbConnection connection, DbTransaction? transaction, IReadOnlyList<string> targets, PurgeRequest[] requests, DateTimeOffset now)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        var values = new List<string>(targets.Count * requests.Length);
        for (var t = 0; t < targets.Count; t++)
        {
            CatalogRows.Add(command, Name("t", t), targets[t]);
        }

        for (var r = 0; r < requests.Length; r++)
        {
            CatalogRows.Add(command, Name("e", r), requests[r].Event);
            CatalogRows.Add(command, Name("s", r), requests[r].Scope);
            CatalogRows.Add(command, Name("k", r), requests[r].Subject);
            CatalogRows.Add(command, Name("g", r), requests[r].StorageId);
            CatalogRows.Add(command, Name("p", r), requests[r].Payload);
            for (var t = 0; t < targets.Count; t++)
            {
                values.Add($"(@{Name("t", t)}, @{Name("e", r)}, @{Name("s", r)}, @{Name("k", r)}, @{Name("g", r)}, 'pending', 0, @now, @now, 0, @{Name("p", r)})");
            }
        }

        CatalogRows.Add(command, "now", now.ToUnixTimeMilliseconds());
        command.CommandText = $"INSERT INTO purges (target, event, scope, subject, storage_id, state, attempts, created_ms, due_ms, lease_ms, payload) VALUES {string.Join(", ", values)}";
        return command;
    }

    private static async Task<int> ExecuteForIdsAsync(DbConnection connection, string sql, IReadOnlyList<long> ids, Action<DbCommand> parameters)
    {
        if (ids.Count == 0)
        {
            return 0;
        }

        await using var command = connection.CreateCommand();
        for (var i = 0; i < ids.Count; i++)
        {
            CatalogRows.Add(command, Name("i", i), ids[i]);
        }

        command.CommandText = string.Format(CultureInfo.InvariantCulture, sql, string.Join(", ", ids.Select((_, i) => "@" + Name("i", i))));
        parameters(command);
        return await command.ExecuteNonQueryAsync(CancellationToken.None);
    }

    private static async Task<List<PurgeRow>> ReadAsync(DbCommand command)
    {
        var rows = new List<PurgeRow>();
        await using var reader = await command.ExecuteReaderAsync(CancellationToken.None);
        while (await reader.ReadAsync(CancellationToken.None))
        {
            rows.Add(new PurgeRow(
                reader.GetInt64(0),
                reader.GetString(1),
                reader.GetString(2),
                reader.GetString(3),
                reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetString(5),
                reader.GetString(6),
                reader.GetInt32(7),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(8)),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(9)),
                reader.IsDBNull(10) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(10)),
                reader.IsDBNull(11) ? null : reader.GetString(11),
                reader.IsDBNull(12) ? null : reader.GetString(12)));
        }

        return rows;
    }

    private static string? Shorten(string? error) => error is { Length: > MaxErrorLength } ? error[..MaxErrorLength] + "…" : error;

    private static string Name(string prefix, int index) => prefix + index.ToString(CultureInfo.InvariantCulture);
}

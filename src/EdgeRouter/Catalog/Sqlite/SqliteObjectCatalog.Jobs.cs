using EdgeRouter.Jobs;
using Microsoft.Data.Sqlite;

namespace EdgeRouter.Catalog.Sqlite;

/// <summary>The job store: jobs, their leases and checkpoints, in the catalog's own file.</summary>
internal sealed partial class SqliteObjectCatalog
{
    private const string JobColumns = CatalogRows.JobColumns;

    public async Task CreateJobAsync(JobRecord job, CancellationToken cancellationToken)
    {
        await Write(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO jobs (id, kind, spec, state, created_ms) VALUES ($id, $kind, $spec, $state, $created)";
            command.Parameters.AddWithValue("$id", job.Id);
            command.Parameters.AddWithValue("$kind", job.Kind);
            command.Parameters.AddWithValue("$spec", job.Spec);
            command.Parameters.AddWithValue("$state", job.State);
            command.Parameters.AddWithValue("$created", job.CreatedAt.ToUnixTimeMilliseconds());
            return await command.ExecuteNonQueryAsync(cancellationToken);
        });
    }

    public async Task<JobRecord?> GetJobAsync(string id, CancellationToken cancellationToken)
        => (await QueryJobsAsync($"SELECT {JobColumns} FROM jobs WHERE id = $id", c => c.Parameters.AddWithValue("$id", id), cancellationToken)).FirstOrDefault();

    public async Task<IReadOnlyList<JobRecord>> ListJobsAsync(int limit, CancellationToken cancellationToken)
        => await QueryJobsAsync($"SELECT {JobColumns} FROM jobs ORDER BY created_ms DESC, id DESC LIMIT $limit", c => c.Parameters.AddWithValue("$limit", limit), cancellationToken);

    public async Task<JobRecord?> TryClaimJobAsync(string owner, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken cancellationToken)
    {
        return await Write(async connection =>
        {
            await using var transaction = connection.BeginTransaction(deferred: false);
            await using var claim = connection.CreateCommand();
            claim.Transaction = transaction;
            claim.CommandText = $"""
                UPDATE jobs SET state = 'running', owner = $owner, lease_ms = $lease, started_ms = coalesce(started_ms, $now)
                WHERE id = (SELECT id FROM jobs WHERE state = 'queued' OR (state = 'running' AND lease_ms < $now) ORDER BY created_ms, id LIMIT 1)
                RETURNING {JobColumns}
                """;
            claim.Parameters.AddWithValue("$owner", owner);
            claim.Parameters.AddWithValue("$lease", leaseUntil.ToUnixTimeMilliseconds());
            claim.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
            var claimed = (await CatalogRows.JobsAsync(claim, cancellationToken)).FirstOrDefault();
            await transaction.CommitAsync(cancellationToken);
            return claimed;
        });
    }

    public async Task<JobLease> SaveJobAsync(string id, string owner, JobProgress progress, DateTimeOffset leaseUntil, CancellationToken cancellationToken)
    {
        return await Write(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = """
                UPDATE jobs SET processed = $processed, total = $total, bytes = $bytes, errors = $errors, checkpoint = $checkpoint, report = $report, lease_ms = $lease
                WHERE id = $id AND owner = $owner AND state = 'running'
                RETURNING cancel
                """;
            CatalogRows.AddProgress(command, "$", progress);
            command.Parameters.AddWithValue("$lease", leaseUntil.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$id", id);
            command.Parameters.AddWithValue("$owner", owner);
            return await command.ExecuteScalarAsync(cancellationToken) switch
            {
                null => JobLease.Lost,
                1L => JobLease.CancelRequested,
                _ => JobLease.Held,
            };
        });
    }

    public async Task<bool> FinishJobAsync(string id, string owner, string state, JobProgress progress, DateTimeOffset at, CancellationToken cancellationToken)
    {
        return await Write(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = """
                UPDATE jobs SET state = $state, finished_ms = $at, processed = $processed, total = $total, bytes = $bytes, errors = $errors, checkpoint = $checkpoint, report = $report
                WHERE id = $id AND owner = $owner AND state = 'running'
                """;
            CatalogRows.AddProgress(command, "$", progress);
            command.Parameters.AddWithValue("$state", state);
            command.Parameters.AddWithValue("$at", at.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$id", id);
            command.Parameters.AddWithValue("$owner", owner);
            return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
        });
    }

    public async Task<bool> CancelJobAsync(string id, DateTimeOffset at, CancellationToken cancellationToken)
    {
        return await Write(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = """
                UPDATE jobs SET cancel = 1,
                    state = CASE state WHEN 'queued' THEN 'cancelled' ELSE state END,
                    finished_ms = CASE state WHEN 'queued' THEN $at ELSE finished_ms END
                WHERE id = $id AND state IN ('queued', 'running')
                """;
            command.Parameters.AddWithValue("$id", id);
            command.Parameters.AddWithValue("$at", at.ToUnixTimeMilliseconds());
            return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
        });
    }

    private async Task<List<JobRecord>> QueryJobsAsync(string sql, Action<SqliteCommand> parameters, CancellationToken cancellationToken)
    {
        return await Run(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            parameters(command);
            return await CatalogRows.JobsAsync(command, cancellationToken);
        });
    }
}

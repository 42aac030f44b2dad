using EdgeRouter.Jobs;
using Npgsql;

namespace EdgeRouter.Catalog.Postgres;

/// <summary>The job store, shared by every instance: a claim takes one job row with SKIP LOCKED, so two instances never both take it.</summary>
internal sealed partial class PostgresObjectCatalog
{
    private const string JobColumns = CatalogRows.JobColumns;

    public async Task CreateJobAsync(JobRecord job, CancellationToken cancellationToken)
        => await Run(connection => ExecuteAsync(
            connection,
            null,
            "INSERT INTO jobs (id, kind, spec, state, created_ms) VALUES ($1, $2, $3, $4, $5)",
            job.Id,
            job.Kind,
            job.Spec,
            job.State,
            job.CreatedAt.ToUnixTimeMilliseconds()));

    public async Task<JobRecord?> GetJobAsync(string id, CancellationToken cancellationToken)
        => (await QueryJobsAsync($"SELECT {JobColumns} FROM jobs WHERE id = @id", c => CatalogRows.Add(c, "id", id), cancellationToken)).FirstOrDefault();

    public async Task<IReadOnlyList<JobRecord>> ListJobsAsync(int limit, CancellationToken cancellationToken)
        => await QueryJobsAsync($"SELECT {JobColumns} FROM jobs ORDER BY created_ms DESC, id DESC LIMIT @limit", c => CatalogRows.Add(c, "limit", limit), cancellationToken);

    public async Task<JobRecord?> TryClaimJobAsync(string owner, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken cancellationToken)
    {
        return (await RunJobCommandAsync(
            $"""
            UPDATE jobs SET state = 'running', owner = @owner, lease_ms = @lease, started_ms = coalesce(started_ms, @now)
            WHERE id = (SELECT id FROM jobs WHERE state = 'queued' OR (state = 'running' AND lease_ms < @now) ORDER BY created_ms, id LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING {JobColumns}
            """,
            c =>
            {
                CatalogRows.Add(c, "owner", owner);
                CatalogRows.Add(c, "lease", leaseUntil.ToUnixTimeMilliseconds());
                CatalogRows.Add(c, "now", now.ToUnixTimeMilliseconds());
            },
            CatalogRows.JobsAsync)).FirstOrDefault();
    }

    public async Task<JobLease> SaveJobAsync(string id, string owner, JobProgress progress, DateTimeOffset leaseUntil, CancellationToken cancellationToken)
    {
        var cancel = await RunJobCommandAsync(
            """
            UPDATE jobs SET processed = @processed, total = @total, bytes = @bytes, errors = @errors, checkpoint = @checkpoint, report = @report, lease_ms = @lease
            WHERE id = @id AND owner = @owner AND state = 'running'
            RETURNING cancel
            """,
            c =>
            {
                CatalogRows.AddProgress(c, string.Empty, progress);
                CatalogRows.Add(c, "lease", leaseUntil.ToUnixTimeMilliseconds());
                CatalogRows.Add(c, "id", id);
                CatalogRows.Add(c, "owner", owner);
            },
            async (c, ct) => await c.ExecuteScalarAsync(ct));
        return cancel switch
        {
            null => JobLease.Lost,
            true => JobLease.CancelRequested,
            _ => JobLease.Held,
        };
    }

    public async Task<bool> FinishJobAsync(string id, string owner, string state, JobProgress progress, DateTimeOffset at, CancellationToken cancellationToken)
        => await RunJobCommandAsync(
            """
            UPDATE jobs SET state = @state, finished_ms = @at, processed = @processed, total = @total, bytes = @bytes, errors = @errors, checkpoint = @checkpoint, report = @report
            WHERE id = @id AND owner = @owner AND state = 'running'
            """,
            c =>
            {
                CatalogRows.AddProgress(c, string.Empty, progress);
                CatalogRows.Add(c, "state", state);
                CatalogRows.Add(c, "at", at.ToUnixTimeMilliseconds());
                CatalogRows.Add(c, "id", id);
                CatalogRows.Add(c, "owner", owner);
            },
            async (c, ct) => await c.ExecuteNonQueryAsync(ct) == 1);

    public async Task<bool> CancelJobAsync(string id, DateTimeOffset at, CancellationToken cancellationToken)
        => await RunJobCommandAsync(
            """
            UPDATE jobs SET cancel = true,
                state = CASE state WHEN 'queued' THEN 'cancelled' ELSE state END,
                finished_ms = CASE state WHEN 'queued' THEN @at ELSE finished_ms END
            WHERE id = @id AND state IN ('queued', 'running')
            """,
            c =>
            {
                CatalogRows.Add(c, "id", id);
                CatalogRows.Add(c, "at", at.ToUnixTimeMilliseconds());
            },
            async (c, ct) => await c.ExecuteNonQueryAsync(ct) == 1);

    private Task<List<JobRecord>> QueryJobsAsync(string sql, Action<NpgsqlCommand> parameters, CancellationToken cancellationToken)
        => Query(async connection =>
        {
            await using var command = new NpgsqlCommand(sql, connection);
            parameters(command);
            return await CatalogRows.JobsAsync(command, CancellationToken.None);
        }, cancellationToken);

    // Writes are not cancellable, as every write here (see Query).
    private Task<T> RunJobCommandAsync<T>(string sql, Action<NpgsqlCommand> parameters, Func<NpgsqlCommand, CancellationToken, Task<T>> execute)
        => Run(async connection =>
        {
            await using var command = new NpgsqlCommand(sql, connection);
            parameters(command);
            return await execute(command, CancellationToken.None);
        });
}

using System.Data.Common;

namespace EdgeRouter.Catalog;

/// <summary>Rows of the relational catalogs (SQLite, PostgreSQL), which share one set of columns.</summary>
internal static class CatalogRows
{
    public const string Columns = "key, storage_id, size, content_type, sha256, created_ms, location";

    public static ObjectRecord Record(DbDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1),
        reader.GetInt64(2),
        reader.GetString(3),
        reader.GetString(4),
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)))
    {
        Location = reader.GetString(6),
    };

    public static async Task<ObjectRecord?> FirstRecordAsync(DbCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Record(reader) : null;
    }

    public static Task<List<ObjectRecord>> RecordsAsync(DbCommand command, CancellationToken cancellationToken)
        => ReadAllAsync(command, Record, cancellationToken);

    /// <summary>Rows of (storage_id, location, key, expires_ms).</summary>
    public static Task<List<UploadIntent>> IntentsAsync(DbCommand command, CancellationToken cancellationToken)
        => ReadAllAsync(command, r => new UploadIntent(r.GetString(0), r.GetString(1), r.GetString(2), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(3))), cancellationToken);

    /// <summary>Rows of (storage_id, location).</summary>
    public static Task<List<PendingDelete>> PendingDeletesAsync(DbCommand command, CancellationToken cancellationToken)
        => ReadAllAsync(command, r => new PendingDelete(r.GetString(0), r.GetString(1)), cancellationToken);

    /// <summary>Rows of (storage_id, bytes, objects).</summary>
    public static async Task<Dictionary<string, StorageUsage>> UsageAsync(DbCommand command, CancellationToken cancellationToken)
        => (await ReadAllAsync(command, r => (Id: r.GetString(0), Usage: new StorageUsage(r.GetInt64(1), r.GetInt64(2))), cancellationToken))
            .ToDictionary(u => u.Id, u => u.Usage, StringComparer.Ordinal);

    public const string JobColumns = "id, kind, spec, state, processed, total, bytes, errors, checkpoint, report, cancel, created_ms, started_ms, finished_ms, owner";

    public static Jobs.JobRecord Job(DbDataReader r) => new(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(11)))
    {
        Progress = new Jobs.JobProgress(r.GetInt64(4), r.IsDBNull(5) ? null : r.GetInt64(5), r.GetInt64(6), r.GetInt64(7), r.IsDBNull(8) ? null : r.GetString(8), r.IsDBNull(9) ? null : r.GetString(9)),
        CancelRequested = r.GetBoolean(10),
        StartedAt = r.IsDBNull(12) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(12)),
        FinishedAt = r.IsDBNull(13) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(13)),
        Owner = r.IsDBNull(14) ? null : r.GetString(14),
    };

    public static Task<List<Jobs.JobRecord>> JobsAsync(DbCommand command, CancellationToken cancellationToken)
        => ReadAllAsync(command, Job, cancellationToken);

    /// <summary>Sets a job's progress as parameters named <c>processed</c>, <c>total</c>, <c>bytes</c>, <c>errors</c>, <c>checkpoint</c>, <c>report</c> (with the given marker).</summary>
    public static void AddProgress(DbCommand command, string marker, Jobs.JobProgress progress)
    {
        Add(command, marker + "processed", progress.Processed);
        Add(command, marker + "total", progress.Total);
        Add(command, marker + "bytes", progress.Bytes);
        Add(command, marker + "errors", progress.Errors);
        Add(command, marker + "checkpoint", progress.Checkpoint);
        Add(command, marker + "report", progress.Report);
    }

    /// <summary>Runs one statement with its named values (outside any transaction); returns the rows it changed.</summary>
    public static async Task<int> ExecuteAsync(DbConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            Add(command, name, value);
        }

        return await command.ExecuteNonQueryAsync(CancellationToken.None);
    }

    public static void Add(DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
    }

    /// <summary>Rows of one text column.</summary>
    public static Task<List<string>> StringsAsync(DbCommand command, CancellationToken cancellationToken)
        => ReadAllAsync(command, r => r.GetString(0), cancellationToken);

    /// <summary>Adds to <paramref name="named"/> the locations records name (with the record) and those only an intent or a queued deletion names (null).</summary>
    public static void AddNamed(Dictionary<string, ObjectRecord?> named, List<ObjectRecord> records, List<string> others)
    {
        foreach (var record in records)
        {
            named[record.Location] = record;
        }

        foreach (var location in others)
        {
            named.TryAdd(location, null);
        }
    }

    private static async Task<List<T>> ReadAllAsync<T>(DbCommand command, Func<DbDataReader, T> read, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<T>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(read(reader));
        }

        return rows;
    }
}

/// <summary>The lock of a catalog that needs none.</summary>
internal sealed class NoLock : IAsyncDisposable
{
    public static readonly NoLock Instance = new();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

using System.Collections.Concurrent;
using EdgeRouter.Configuration;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace EdgeRouter.Catalog.Sqlite;

/// <summary>
/// The embedded catalog: one SQLite file in WAL mode. Usage per storage is kept by triggers in the same
/// transaction as the record, so the two can never disagree.
/// </summary>
internal sealed class SqliteObjectCatalog : IObjectCatalog, IDisposable
{
    // Each entry migrates user_version from its index to index + 1; append, never edit.
    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE objects (
            key          TEXT    NOT NULL PRIMARY KEY,
            storage_id   TEXT    NOT NULL,
            size         INTEGER NOT NULL,
            content_type TEXT    NOT NULL,
            sha256       TEXT    NOT NULL,
            created_ms   INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX ix_objects_storage ON objects (storage_id);
        CREATE TABLE storage_usage (
            storage_id TEXT    NOT NULL PRIMARY KEY,
            bytes      INTEGER NOT NULL,
            objects    INTEGER NOT NULL
        );
        CREATE TRIGGER objects_insert AFTER INSERT ON objects BEGIN
            INSERT INTO storage_usage (storage_id, bytes, objects) VALUES (NEW.storage_id, NEW.size, 1)
            ON CONFLICT (storage_id) DO UPDATE SET bytes = bytes + NEW.size, objects = objects + 1;
        END;
        CREATE TRIGGER objects_delete AFTER DELETE ON objects BEGIN
            UPDATE storage_usage SET bytes = bytes - OLD.size, objects = objects - 1 WHERE storage_id = OLD.storage_id;
        END;
        CREATE TRIGGER objects_update AFTER UPDATE ON objects BEGIN
            UPDATE storage_usage SET bytes = bytes - OLD.size, objects = objects - 1 WHERE storage_id = OLD.storage_id;
            INSERT INTO storage_usage (storage_id, bytes, objects) VALUES (NEW.storage_id, NEW.size, 1)
            ON CONFLICT (storage_id) DO UPDATE SET bytes = bytes + NEW.size, objects = objects + 1;
        END;
        CREATE TABLE pending_deletes (
            storage_id  TEXT    NOT NULL,
            key         TEXT    NOT NULL,
            enqueued_ms INTEGER NOT NULL,
            PRIMARY KEY (storage_id, key)
        ) WITHOUT ROWID;
        """,
    ];

    private const string Columns = CatalogRows.Columns;
    private const string SelectByKey = $"SELECT {Columns} FROM objects WHERE key = $key";

    private readonly string _connectionString;
    private readonly TimeProvider _timeProvider;

    // Lookups keep their connection open and their SELECT compiled: parsing and planning it again on every lookup
    // cost more than running it. As many as lookups ever ran at once; each holds no snapshot between lookups.
    private readonly ConcurrentBag<Lookup> _lookups = [];

    public SqliteObjectCatalog(IOptions<EdgeRouterOptions> options, IHostEnvironment environment, TimeProvider timeProvider)
    {
        _timeProvider = timeProvider;
        var builder = new SqliteConnectionStringBuilder(options.Value.Catalog.ConnectionString) { Pooling = true };
        if (builder.Mode != SqliteOpenMode.Memory && !builder.DataSource.StartsWith(':') && !string.IsNullOrEmpty(builder.DataSource))
        {
            builder.DataSource = Path.GetFullPath(builder.DataSource, environment.ContentRootPath);
            Directory.CreateDirectory(Path.GetDirectoryName(builder.DataSource)!);
        }

        _connectionString = builder.ToString();
        Migrate();
    }

    public async ValueTask<ObjectRecord?> FindAsync(string key, CancellationToken cancellationToken)
    {
        // On the thread pool, as every call here (see Run).
        await Task.Yield();
        Lookup? lookup = null;
        try
        {
            lookup = _lookups.TryTake(out var idle) ? idle : new Lookup(_connectionString);
            var record = await lookup.FindAsync(key, cancellationToken);
            _lookups.Add(lookup);
            return record;
        }
        catch (Exception ex)
        {
            // A lookup that failed (or was cancelled midway) is not reused.
            lookup?.Dispose();
            if (ex is SqliteException sqlite)
            {
                throw Unavailable(sqlite);
            }

            throw;
        }
    }

    public void Dispose()
    {
        while (_lookups.TryTake(out var lookup))
        {
            lookup.Dispose();
        }
    }

    public async Task<CatalogWriteResult> AddAsync(ObjectRecord record, bool overwrite, CancellationToken cancellationToken)
    {
        return await Run(async connection =>
        {
            // IMMEDIATE: take the write lock before reading, so two writers of one key cannot both see it free.
            await using var transaction = connection.BeginTransaction(deferred: false);
            ObjectRecord? previous;
            await using (var find = connection.CreateCommand())
            {
                find.Transaction = transaction;
                find.CommandText = SelectByKey;
                find.Parameters.AddWithValue("$key", record.Key);
                await using var reader = await find.ExecuteReaderAsync(cancellationToken);
                previous = await reader.ReadAsync(cancellationToken) ? CatalogRows.Record(reader) : null;
            }

            if (previous is not null && !overwrite)
            {
                return new CatalogWriteResult(CatalogWriteOutcome.Conflict, previous);
            }

            // A new object at (storage, key) must not be deleted by an older queued deletion of the same place.
            await Execute(connection, transaction, "DELETE FROM pending_deletes WHERE storage_id = $storage AND key = $key", record.StorageId, record.Key, cancellationToken);
            if (previous is not null && previous.StorageId != record.StorageId)
            {
                await Enqueue(connection, transaction, previous.StorageId, record.Key, cancellationToken);
            }

            await using (var write = connection.CreateCommand())
            {
                write.Transaction = transaction;
                write.CommandText = previous is null
                    ? $"INSERT INTO objects ({Columns}) VALUES ($key, $storage, $size, $type, $sha, $created)"
                    : "UPDATE objects SET storage_id = $storage, size = $size, content_type = $type, sha256 = $sha, created_ms = $created WHERE key = $key";
                write.Parameters.AddWithValue("$key", record.Key);
                write.Parameters.AddWithValue("$storage", record.StorageId);
                write.Parameters.AddWithValue("$size", record.Size);
                write.Parameters.AddWithValue("$type", record.ContentType);
                write.Parameters.AddWithValue("$sha", record.Sha256);
                write.Parameters.AddWithValue("$created", record.CreatedAt.ToUnixTimeMilliseconds());
                await write.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            return new CatalogWriteResult(previous is null ? CatalogWriteOutcome.Added : CatalogWriteOutcome.Replaced, previous);
        });
    }

    public async Task<bool> RemoveAsync(ObjectRecord expected, CancellationToken cancellationToken)
    {
        return await Run(async connection =>
        {
            await using var transaction = connection.BeginTransaction(deferred: false);
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "DELETE FROM objects WHERE key = $key AND storage_id = $storage AND sha256 = $sha";
            command.Parameters.AddWithValue("$key", expected.Key);
            command.Parameters.AddWithValue("$storage", expected.StorageId);
            command.Parameters.AddWithValue("$sha", expected.Sha256);
            if (await command.ExecuteNonQueryAsync(cancellationToken) != 1)
            {
                return false;
            }

            await Enqueue(connection, transaction, expected.StorageId, expected.Key, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return true;
        });
    }

    public async Task<IReadOnlyList<PendingDelete>> GetPendingDeletesAsync(int limit, CancellationToken cancellationToken)
    {
        return await Run<IReadOnlyList<PendingDelete>>(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT storage_id, key FROM pending_deletes ORDER BY enqueued_ms LIMIT $limit";
            command.Parameters.AddWithValue("$limit", limit);
            return await CatalogRows.PendingDeletesAsync(command, cancellationToken);
        });
    }

    public async Task CompletePendingDeleteAsync(PendingDelete pending, CancellationToken cancellationToken)
    {
        await Run(async connection =>
            await Execute(connection, null, "DELETE FROM pending_deletes WHERE storage_id = $storage AND key = $key", pending.StorageId, pending.Key, cancellationToken));
    }

    private static async Task<int> Execute(SqliteConnection connection, SqliteTransaction? transaction, string sql, string storageId, string key, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.Parameters.AddWithValue("$storage", storageId);
        command.Parameters.AddWithValue("$key", key);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task Enqueue(SqliteConnection connection, SqliteTransaction transaction, string storageId, string key, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT OR REPLACE INTO pending_deletes (storage_id, key, enqueued_ms) VALUES ($storage, $key, $now)";
        command.Parameters.AddWithValue("$storage", storageId);
        command.Parameters.AddWithValue("$key", key);
        command.Parameters.AddWithValue("$now", _timeProvider.GetUtcNow().ToUnixTimeMilliseconds());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyDictionary<string, StorageUsage>> GetUsageAsync(CancellationToken cancellationToken)
    {
        return await Run<IReadOnlyDictionary<string, StorageUsage>>(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT storage_id, bytes, objects FROM storage_usage";
            return await CatalogRows.UsageAsync(command, cancellationToken);
        });
    }

    public async Task<IReadOnlyList<ObjectRecord>> ListAsync(string prefix, string? after, int limit, CancellationToken cancellationToken)
    {
        return await Run<IReadOnlyList<ObjectRecord>>(async connection =>
        {
            await using var command = connection.CreateCommand();
            // The range on key uses the primary key; substr keeps exactly the prefix (no LIKE wildcards to escape).
            command.CommandText = $"""
                SELECT {Columns} FROM objects
                WHERE key >= $from AND key > $after AND substr(key, 1, length($prefix)) = $prefix
                ORDER BY key LIMIT $limit
                """;
            command.Parameters.AddWithValue("$from", prefix);
            command.Parameters.AddWithValue("$after", after ?? string.Empty);
            command.Parameters.AddWithValue("$prefix", prefix);
            command.Parameters.AddWithValue("$limit", limit);
            return await CatalogRows.RecordsAsync(command, cancellationToken);
        });
    }

    public async Task PingAsync(CancellationToken cancellationToken)
    {
        await Run(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT count(*) FROM storage_usage";
            return await command.ExecuteScalarAsync(cancellationToken);
        });
    }


    private async Task<T> Run<T>(Func<SqliteConnection, Task<T>> action)
    {
        // Microsoft.Data.Sqlite's async methods complete synchronously, and the caller may be a socket thread
        // (inline I/O scheduling): do the blocking work on the thread pool, so no connection waits behind it.
        await Task.Yield();
        try
        {
            await using var connection = new SqliteConnection(_connectionString);
            await connection.OpenAsync();
            return await action(connection);
        }
        catch (SqliteException ex)
        {
            throw Unavailable(ex);
        }
    }

    private static CatalogUnavailableException Unavailable(SqliteException ex)
        => new($"The catalog could not complete the operation: {ex.Message}", ex);

    private void Migrate()
    {
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using (var wal = connection.CreateCommand())
        {
            wal.CommandText = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;";
            wal.ExecuteNonQuery();
        }

        using var transaction = connection.BeginTransaction(deferred: false);
        using var version = connection.CreateCommand();
        version.Transaction = transaction;
        version.CommandText = "PRAGMA user_version";
        var current = Convert.ToInt32(version.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        for (var v = current; v < Migrations.Length; v++)
        {
            using var step = connection.CreateCommand();
            step.Transaction = transaction;
            step.CommandText = $"{Migrations[v]}; PRAGMA user_version = {v + 1};";
            step.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    /// <summary>An open connection with the key lookup compiled once.</summary>
    private sealed class Lookup : IDisposable
    {
        private readonly SqliteConnection _connection;
        private readonly SqliteCommand _command;
        private readonly SqliteParameter _key;

        public Lookup(string connectionString)
        {
            _connection = new SqliteConnection(connectionString);
            try
            {
                _connection.Open();
                _command = _connection.CreateCommand();
                _command.CommandText = SelectByKey;
                _key = _command.Parameters.Add("$key", SqliteType.Text);
                _command.Prepare();
            }
            catch
            {
                _connection.Dispose();
                throw;
            }
        }

        public Task<ObjectRecord?> FindAsync(string key, CancellationToken cancellationToken)
        {
            _key.Value = key;
            return CatalogRows.FirstRecordAsync(_command, cancellationToken);
        }

        public void Dispose()
        {
            _command.Dispose();
            _connection.Dispose();
        }
    }
}

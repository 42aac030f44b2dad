using System.Data.Common;
using EdgeRouter.Configuration;
using EdgeRouter.Placement;
using EdgeRouter.Uploads;
using Microsoft.Extensions.Options;
using Npgsql;

namespace EdgeRouter.Catalog.Postgres;

/// <summary>
/// The shared catalog for several instances: PostgreSQL through Npgsql's pooled data source. Usage per storage is
/// kept by triggers in the same transaction as the record; writers of one key are serialised by a transaction
/// advisory lock on it, so two instances cannot both see a key free. The router creates and migrates the schema
/// at start-up, under a session advisory lock, so instances starting together migrate once.
/// </summary>
internal sealed class PostgresObjectCatalog : IObjectCatalog, ICapacityLedger, IDistributedKeyLock, IAsyncDisposable
{
    // Each entry migrates the schema from its index to index + 1; append, never edit.
    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE objects (
            key          text   NOT NULL PRIMARY KEY COLLATE "C",
            storage_id   text   NOT NULL,
            size         bigint NOT NULL,
            content_type text   NOT NULL,
            sha256       text   NOT NULL,
            created_ms   bigint NOT NULL
        );
        CREATE INDEX ix_objects_storage ON objects (storage_id);
        CREATE TABLE storage_usage (
            storage_id text   NOT NULL PRIMARY KEY,
            bytes      bigint NOT NULL,
            objects    bigint NOT NULL
        );
        CREATE FUNCTION edgerouter_usage() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP IN ('DELETE', 'UPDATE') THEN
                UPDATE storage_usage SET bytes = bytes - OLD.size, objects = objects - 1 WHERE storage_id = OLD.storage_id;
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                INSERT INTO storage_usage (storage_id, bytes, objects) VALUES (NEW.storage_id, NEW.size, 1)
                ON CONFLICT (storage_id) DO UPDATE SET bytes = storage_usage.bytes + NEW.size, objects = storage_usage.objects + 1;
            END IF;
            RETURN NULL;
        END $$;
        CREATE TRIGGER objects_usage AFTER INSERT OR UPDATE OR DELETE ON objects FOR EACH ROW EXECUTE FUNCTION edgerouter_usage();
        CREATE TABLE pending_deletes (
            storage_id  text   NOT NULL,
            key         text   NOT NULL,
            enqueued_ms bigint NOT NULL,
            PRIMARY KEY (storage_id, key)
        );
        CREATE TABLE reservations (
            id         uuid        NOT NULL PRIMARY KEY,
            storage_id text        NOT NULL,
            bytes      bigint      NOT NULL,
            expires_at timestamptz NOT NULL
        );
        CREATE INDEX ix_reservations_storage ON reservations (storage_id, expires_at);
        """,
    ];

    // Any constant that no other application uses as its advisory lock key.
    private const long MigrationLock = 0x4564676552_7472;
    private const string Columns = CatalogRows.Columns;

    private readonly NpgsqlDataSource _dataSource;
    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan _reservationLifetime;

    public PostgresObjectCatalog(IOptions<EdgeRouterOptions> options, TimeProvider timeProvider)
    {
        _timeProvider = timeProvider;
        var catalog = options.Value.Catalog;
        _reservationLifetime = catalog.ReservationLifetime;
        var builder = new NpgsqlConnectionStringBuilder(catalog.ConnectionString);
        if (catalog.PoolSize is { } size)
        {
            builder.MaxPoolSize = size;
        }

        // The catalog repeats a handful of statements: prepared once per connection, PostgreSQL stops parsing and
        // planning them on every call (a 404 storm: 1.3x the rps). A connection string that sets it itself wins, e.g.
        // 'Max Auto Prepare=0' behind a pooler that cannot keep prepared statements.
        if (!new DbConnectionStringBuilder { ConnectionString = catalog.ConnectionString }.Keys.Cast<string>()
                .Any(k => k.Replace(" ", string.Empty, StringComparison.Ordinal).Equals("maxautoprepare", StringComparison.OrdinalIgnoreCase)))
        {
            builder.MaxAutoPrepare = 20;
        }

        _dataSource = NpgsqlDataSource.Create(builder);
        Migrate();
    }

    public async ValueTask<ObjectRecord?> FindAsync(string key, CancellationToken cancellationToken)
    {
        return await Query(
            async connection =>
            {
                await using var command = new NpgsqlCommand($"SELECT {Columns} FROM objects WHERE key = $1", connection) { Parameters = { new() { Value = key } } };
                return await CatalogRows.FirstRecordAsync(command, CancellationToken.None);
            },
            cancellationToken);
    }

    public async Task<CatalogWriteResult> AddAsync(ObjectRecord record, bool overwrite, CancellationToken cancellationToken)
    {
        return await Run(async connection =>
        {
            await using var transaction = await connection.BeginTransactionAsync(CancellationToken.None);
            await LockKeyAsync(connection, transaction, record.Key);
            ObjectRecord? previous;
            await using (var find = new NpgsqlCommand($"SELECT {Columns} FROM objects WHERE key = $1", connection, transaction) { Parameters = { new() { Value = record.Key } } })
            await using (var reader = await find.ExecuteReaderAsync(CancellationToken.None))
            {
                previous = await reader.ReadAsync(CancellationToken.None) ? CatalogRows.Record(reader) : null;
            }

            if (previous is not null && !overwrite)
            {
                return new CatalogWriteResult(CatalogWriteOutcome.Conflict, previous);
            }

            // A new object at (storage, key) must not be deleted by an older queued deletion of the same place.
            await ExecuteAsync(connection, transaction, "DELETE FROM pending_deletes WHERE storage_id = $1 AND key = $2", record.StorageId, record.Key);
            if (previous is not null && previous.StorageId != record.StorageId)
            {
                await EnqueueAsync(connection, transaction, previous.StorageId, record.Key);
            }

            await ExecuteAsync(
                connection,
                transaction,
                $"""
                INSERT INTO objects ({Columns}) VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (key) DO UPDATE SET storage_id = EXCLUDED.storage_id, size = EXCLUDED.size, content_type = EXCLUDED.content_type,
                    sha256 = EXCLUDED.sha256, created_ms = EXCLUDED.created_ms
                """,
                record.Key,
                record.StorageId,
                record.Size,
                record.ContentType,
                record.Sha256,
                record.CreatedAt.ToUnixTimeMilliseconds());
            await transaction.CommitAsync(CancellationToken.None);
            return new CatalogWriteResult(previous is null ? CatalogWriteOutcome.Added : CatalogWriteOutcome.Replaced, previous);
        });
    }

    public async Task<bool> RemoveAsync(ObjectRecord expected, CancellationToken cancellationToken)
    {
        return await Run(async connection =>
        {
            await using var transaction = await connection.BeginTransactionAsync(CancellationToken.None);
            await LockKeyAsync(connection, transaction, expected.Key);
            var removed = await ExecuteAsync(connection, transaction, "DELETE FROM objects WHERE key = $1 AND storage_id = $2 AND sha256 = $3", expected.Key, expected.StorageId, expected.Sha256);
            if (removed != 1)
            {
                return false;
            }

            await EnqueueAsync(connection, transaction, expected.StorageId, expected.Key);
            await transaction.CommitAsync(CancellationToken.None);
            return true;
        });
    }

    public async Task<IReadOnlyList<PendingDelete>> GetPendingDeletesAsync(int limit, CancellationToken cancellationToken)
    {
        return await Query<IReadOnlyList<PendingDelete>>(
            async connection =>
            {
                await using var command = new NpgsqlCommand("SELECT storage_id, key FROM pending_deletes ORDER BY enqueued_ms LIMIT $1", connection) { Parameters = { new() { Value = limit } } };
                return await CatalogRows.PendingDeletesAsync(command, CancellationToken.None);
            },
            cancellationToken);
    }

    public async Task CompletePendingDeleteAsync(PendingDelete pending, CancellationToken cancellationToken)
        => await Run(connection => ExecuteAsync(connection, null, "DELETE FROM pending_deletes WHERE storage_id = $1 AND key = $2", pending.StorageId, pending.Key));

    public async Task<IReadOnlyDictionary<string, StorageUsage>> GetUsageAsync(CancellationToken cancellationToken)
    {
        return await Query<IReadOnlyDictionary<string, StorageUsage>>(
            async connection =>
            {
                await using var command = new NpgsqlCommand("SELECT storage_id, bytes, objects FROM storage_usage", connection);
                return await CatalogRows.UsageAsync(command, CancellationToken.None);
            },
            cancellationToken);
    }

    public async Task<IReadOnlyList<ObjectRecord>> ListAsync(string prefix, string? after, int limit, CancellationToken cancellationToken)
    {
        return await Query<IReadOnlyList<ObjectRecord>>(
            async connection =>
            {
                // The range on key uses the primary key (collation "C": byte order); left() keeps exactly the prefix.
                await using var command = new NpgsqlCommand(
                    $"SELECT {Columns} FROM objects WHERE key >= $1 AND key > $2 AND left(key, length($1)) = $1 ORDER BY key LIMIT $3",
                    connection)
                {
                    Parameters = { new() { Value = prefix }, new() { Value = after ?? string.Empty }, new() { Value = limit } },
                };
                return await CatalogRows.RecordsAsync(command, CancellationToken.None);
            },
            cancellationToken);
    }

    public async Task PingAsync(CancellationToken cancellationToken)
        => await Query(
            async connection =>
            {
                await using var command = new NpgsqlCommand("SELECT 1", connection);
                return await command.ExecuteScalarAsync(CancellationToken.None);
            },
            cancellationToken);

    public async Task<Guid?> TryReserveAsync(string storageId, long bytes, long capacityBytes, CancellationToken cancellationToken)
    {
        return await Run(async connection =>
        {
            // One reserver per storage at a time, across instances: the check and the insert are one step.
            await using var transaction = await connection.BeginTransactionAsync(CancellationToken.None);
            await LockKeyAsync(connection, transaction, "reserve:" + storageId);
            var now = _timeProvider.GetUtcNow();
            await ExecuteAsync(connection, transaction, "DELETE FROM reservations WHERE storage_id = $1 AND expires_at < $2", storageId, now);
            await using (var sum = new NpgsqlCommand(
                """
                SELECT coalesce((SELECT bytes FROM storage_usage WHERE storage_id = $1), 0)
                     + coalesce((SELECT sum(bytes) FROM reservations WHERE storage_id = $1), 0)
                """,
                connection,
                transaction) { Parameters = { new() { Value = storageId } } })
            {
                var committed = Convert.ToInt64(await sum.ExecuteScalarAsync(CancellationToken.None), System.Globalization.CultureInfo.InvariantCulture);
                if (committed + bytes > capacityBytes)
                {
                    return (Guid?)null;
                }
            }

            var id = Guid.NewGuid();
            await ExecuteAsync(connection, transaction, "INSERT INTO reservations (id, storage_id, bytes, expires_at) VALUES ($1, $2, $3, $4)", id, storageId, bytes, now + _reservationLifetime);
            await transaction.CommitAsync(CancellationToken.None);
            return id;
        });
    }

    public async Task ReleaseAsync(Guid reservation, CancellationToken cancellationToken)
        => await Run(connection => ExecuteAsync(connection, null, "DELETE FROM reservations WHERE id = $1", reservation));

    /// <summary>
    /// A session advisory lock on the key, held on a connection of its own until released, so an upload (object
    /// written, then recorded) and a delete of the same key in two instances cannot interleave. Its lock space
    /// (seed 1) differs from the writers' transaction locks (seed 0), which the holder itself takes meanwhile.
    /// It is tried rather than waited for, so a caller that gives up leaves no wait behind to grant it later.
    /// </summary>
    public async ValueTask<IAsyncDisposable> AcquireAsync(string key, CancellationToken cancellationToken)
    {
        NpgsqlConnection? connection = null;
        try
        {
            connection = await _dataSource.OpenConnectionAsync(CancellationToken.None);
            for (var delay = 1; ; delay = Math.Min(delay * 2, 50))
            {
                await using (var command = new NpgsqlCommand("SELECT pg_try_advisory_lock(hashtextextended($1, 1))", connection) { Parameters = { new() { Value = key } } })
                {
                    if (await command.ExecuteScalarAsync(CancellationToken.None) is true)
                    {
                        var lease = new KeyLease(connection, key);
                        connection = null;
                        return lease;
                    }
                }

                await Task.Delay(TimeSpan.FromMilliseconds(delay), _timeProvider, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            throw new CatalogUnavailableException($"The catalog could not lock key '{key}': {ex.Message}", ex);
        }
        finally
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }
        }
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    private sealed class KeyLease(NpgsqlConnection connection, string key) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await ExecuteAsync(connection, null, "SELECT pg_advisory_unlock(hashtextextended($1, 1))", key);
            }
            catch (NpgsqlException)
            {
                // A broken connection is not returned to the pool, and its session (with the lock) ends with it.
            }
            finally
            {
                await connection.DisposeAsync();
            }
        }
    }

    private static Task<int> LockKeyAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string key)
        => ExecuteAsync(connection, transaction, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", key);

    private Task<int> EnqueueAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string storageId, string key)
        => ExecuteAsync(
            connection,
            transaction,
            "INSERT INTO pending_deletes (storage_id, key, enqueued_ms) VALUES ($1, $2, $3) ON CONFLICT (storage_id, key) DO UPDATE SET enqueued_ms = EXCLUDED.enqueued_ms",
            storageId,
            key,
            _timeProvider.GetUtcNow().ToUnixTimeMilliseconds());

    private static async Task<int> ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, params object[] values)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        return await command.ExecuteNonQueryAsync(CancellationToken.None);
    }


    // Npgsql answers a cancelled token by sending PostgreSQL a cancel request on a new connection, with synchronous
    // socket I/O. On a socket thread with inline completions (a client that disconnects cancels its lookup there),
    // that I/O waits for the very thread it blocks, and the router stalls. So no caller's token reaches Npgsql: a
    // query stops waiting and leaves its statement to finish in the background; a write runs to its end, bounded
    // by the command timeout, so a caller that gives up never leaves a commit's outcome unknown.
    private Task<T> Query<T>(Func<NpgsqlConnection, Task<T>> query, CancellationToken cancellationToken)
        => Run(query).WaitAsync(cancellationToken);

    private async Task<T> Run<T>(Func<NpgsqlConnection, Task<T>> action)
    {
        try
        {
            await using var connection = await _dataSource.OpenConnectionAsync(CancellationToken.None);
            return await action(connection);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            throw new CatalogUnavailableException($"The catalog could not complete the operation: {ex.Message}", ex);
        }
    }

    private void Migrate()
    {
        try
        {
            using var connection = _dataSource.OpenConnection();

            // Two instances starting together: the second waits here, then finds the schema current.
            using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock({MigrationLock})", connection))
            {
                take.ExecuteNonQuery();
            }

            try
            {
                using var transaction = connection.BeginTransaction();
                using (var create = new NpgsqlCommand("CREATE TABLE IF NOT EXISTS edgerouter_schema (version int NOT NULL)", connection, transaction))
                {
                    create.ExecuteNonQuery();
                }

                using var read = new NpgsqlCommand("SELECT coalesce(max(version), 0) FROM edgerouter_schema", connection, transaction);
                var current = Convert.ToInt32(read.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
                for (var v = current; v < Migrations.Length; v++)
                {
                    using var step = new NpgsqlCommand($"{Migrations[v]}; INSERT INTO edgerouter_schema (version) VALUES ({v + 1});", connection, transaction);
                    step.ExecuteNonQuery();
                }

                transaction.Commit();
            }
            finally
            {
                using var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({MigrationLock})", connection);
                release.ExecuteNonQuery();
            }
        }
        catch (NpgsqlException ex)
        {
            throw new CatalogUnavailableException($"The PostgreSQL catalog could not be opened or migrated: {ex.Message}", ex);
        }
    }
}

using EdgeRouter.Cdn;
using System.Collections.Concurrent;
using EdgeRouter.Configuration;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace EdgeRouter.Catalog.Sqlite;

/// <summary>
/// The embedded catalog: one SQLite file in WAL mode. Usage per storage is kept by triggers in the same
/// transaction as the record, so the two can never disagree.
/// </summary>
internal sealed partial class SqliteObjectCatalog : IObjectCatalog, Jobs.IJobStore, IPurgeOutbox, Uploads.Tokens.IUploadTokenUses, Uploads.Tus.IResumableUploadStore, IDisposable
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
        """
        ALTER TABLE objects ADD COLUMN location TEXT NOT NULL DEFAULT '';
        UPDATE objects SET location = key;
        CREATE UNIQUE INDEX ux_objects_location ON objects (storage_id, location);
        ALTER TABLE pending_deletes RENAME COLUMN key TO location;
        ALTER TABLE pending_deletes ADD COLUMN due_ms INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX ix_pending_deletes_due ON pending_deletes (due_ms);
        CREATE TABLE upload_intents (
            storage_id TEXT    NOT NULL,
            location   TEXT    NOT NULL,
            key        TEXT    NOT NULL,
            expires_ms INTEGER NOT NULL,
            cancelled  INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (storage_id, location)
        ) WITHOUT ROWID;
        CREATE INDEX ix_upload_intents_key ON upload_intents (key);
        CREATE INDEX ix_upload_intents_expiry ON upload_intents (expires_ms);
        """,
        """
        ALTER TABLE pending_deletes ADD COLUMN key TEXT;
        CREATE INDEX ix_pending_deletes_key ON pending_deletes (key);
        CREATE TABLE jobs (
            id          TEXT    NOT NULL PRIMARY KEY,
            kind        TEXT    NOT NULL,
            spec        TEXT    NOT NULL,
            state       TEXT    NOT NULL,
            processed   INTEGER NOT NULL DEFAULT 0,
            total       INTEGER,
            bytes       INTEGER NOT NULL DEFAULT 0,
            errors      INTEGER NOT NULL DEFAULT 0,
            checkpoint  TEXT,
            report      TEXT,
            owner       TEXT,
            lease_ms    INTEGER NOT NULL DEFAULT 0,
            cancel      INTEGER NOT NULL DEFAULT 0,
            created_ms  INTEGER NOT NULL,
            started_ms  INTEGER,
            finished_ms INTEGER
        ) WITHOUT ROWID;
        CREATE INDEX ix_jobs_state ON jobs (state, created_ms);
        """,
        """
        CREATE TABLE purges (
            id         INTEGER PRIMARY KEY AUTOINCREMENT,
            target     TEXT    NOT NULL,
            event      TEXT    NOT NULL,
            scope      TEXT    NOT NULL,
            subject    TEXT    NOT NULL,
            storage_id TEXT,
            state      TEXT    NOT NULL,
            attempts   INTEGER NOT NULL,
            created_ms INTEGER NOT NULL,
            due_ms     INTEGER NOT NULL,
            lease_ms   INTEGER NOT NULL,
            owner      TEXT,
            sent_ms    INTEGER,
            last_error TEXT
        );
        CREATE INDEX ix_purges_due ON purges (state, due_ms);
        """,
        """
        CREATE TABLE upload_token_uses (
            id         TEXT    NOT NULL PRIMARY KEY,
            used       INTEGER NOT NULL,
            expires_ms INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX ix_upload_token_uses_expiry ON upload_token_uses (expires_ms);
        """,
        """
        CREATE TABLE resumable_uploads (
            id         TEXT    NOT NULL PRIMARY KEY,
            length     INTEGER NOT NULL,
            metadata   TEXT,
            token      TEXT,
            created_ms INTEGER NOT NULL,
            expires_ms INTEGER NOT NULL,
            object_key TEXT,
            object_url TEXT
        ) WITHOUT ROWID;
        CREATE INDEX ix_resumable_uploads_expiry ON resumable_uploads (expires_ms);
        """,
        """
        ALTER TABLE purges ADD COLUMN payload TEXT;
        """,
    ];

    private const string Columns = CatalogRows.Columns;
    private const string SelectByKey = $"SELECT {Columns} FROM objects WHERE key = $key";

    // No record, upload intent or queued deletion names ($storage, $location).
    private const string NothingNamesLocation = """
        NOT EXISTS (SELECT 1 FROM objects WHERE storage_id = $storage AND location = $location)
          AND NOT EXISTS (SELECT 1 FROM upload_intents WHERE storage_id = $storage AND location = $location)
          AND NOT EXISTS (SELECT 1 FROM pending_deletes WHERE storage_id = $storage AND location = $location)
        """;

    private readonly string _connectionString;
    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan _deleteGrace;

    // The CDN targets each change of an object is purged on, recorded in the change's own transaction.
    private readonly string[] _purgeTargets;

    // FULL: in WAL mode a commit is durable only once the WAL is synced; NORMAL may lose the last commits on a power
    // loss, and a 201 must survive one. Uploads:SyncToDisk=false trades that away for speed.
    private readonly string _synchronous;

    // Lookups keep their connection open and their SELECT compiled: parsing and planning it again on every lookup
    // cost more than running it. As many as lookups ever ran at once; each holds no snapshot between lookups.
    private readonly ConcurrentBag<Lookup> _lookups = [];

    private readonly SemaphoreSlim _writers = new(1, 1);

    public SqliteObjectCatalog(IOptions<EdgeRouterOptions> options, IHostEnvironment environment, TimeProvider timeProvider)
    {
        _timeProvider = timeProvider;
        _deleteGrace = options.Value.Catalog.DeleteGrace;
        _purgeTargets = [.. options.Value.Cdn.Targets.Select(t => t.Name)];
        _synchronous = options.Value.Uploads.SyncToDisk ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL";
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

        _writers.Dispose();
    }

    public async Task<bool> TryBeginUploadAsync(UploadIntent intent, CancellationToken cancellationToken)
        => (await TryBeginUploadsAsync([intent], cancellationToken))[0];

    public async Task<IReadOnlyList<bool>> TryBeginUploadsAsync(IReadOnlyList<UploadIntent> intents, CancellationToken cancellationToken)
    {
        return await Write<IReadOnlyList<bool>>(async connection =>
        {
            await using var transaction = connection.BeginTransaction(deferred: false);
            var added = new bool[intents.Count];
            for (var i = 0; i < intents.Count; i++)
            {
                var intent = intents[i];
                await using var command = Command(connection, transaction, """
                    INSERT INTO upload_intents (storage_id, location, key, expires_ms)
                    SELECT $storage, $location, $key, $expires
                    WHERE NOT EXISTS (SELECT 1 FROM objects WHERE storage_id = $storage AND location = $location)
                      AND NOT EXISTS (SELECT 1 FROM pending_deletes WHERE storage_id = $storage AND location = $location)
                    ON CONFLICT DO NOTHING
                    """, intent.StorageId, intent.Location);
                command.Parameters.AddWithValue("$key", intent.Key);
                command.Parameters.AddWithValue("$expires", intent.ExpiresAt.ToUnixTimeMilliseconds());
                added[i] = await command.ExecuteNonQueryAsync(cancellationToken) == 1;
            }

            await transaction.CommitAsync(cancellationToken);
            return added;
        });
    }

    public async Task<bool> HasIntentAsync(UploadIntent intent, CancellationToken cancellationToken)
    {
        return await Run(async connection =>
        {
            await using var command = Command(connection, null, "SELECT count(*) FROM upload_intents WHERE storage_id = $storage AND location = $location", intent.StorageId, intent.Location);
            return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) == 1;
        });
    }

    public async Task EndUploadAsync(UploadIntent intent, CancellationToken cancellationToken)
        => await Write(async connection => await Execute(connection, null, "DELETE FROM upload_intents WHERE storage_id = $storage AND location = $location", intent.StorageId, intent.Location, cancellationToken));

    public async Task<IReadOnlyList<UploadIntent>> GetExpiredIntentsAsync(DateTimeOffset expiredBefore, int limit, CancellationToken cancellationToken)
    {
        return await Run<IReadOnlyList<UploadIntent>>(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT storage_id, location, key, expires_ms FROM upload_intents WHERE expires_ms < $before ORDER BY expires_ms LIMIT $limit";
            command.Parameters.AddWithValue("$before", expiredBefore.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$limit", limit);
            return await CatalogRows.IntentsAsync(command, cancellationToken);
        });
    }

    public async Task<CatalogWriteResult> AddAsync(ObjectRecord record, bool overwrite, Cdn.PurgeRequest? notify, CancellationToken cancellationToken)
    {
        return await Write(async connection =>
        {
            // IMMEDIATE: take the write lock before reading, so two writers of one key cannot both see it free.
            await using var transaction = connection.BeginTransaction(deferred: false);
            await using (var intent = Command(connection, transaction, "SELECT count(*) FROM upload_intents WHERE storage_id = $storage AND location = $location AND cancelled = 0 AND expires_ms > $now", record.StorageId, record.Location))
            {
                // Gone, expired (the janitor may be removing its bytes) or cancelled by a delete: the upload lost. Its
                // intent stays for the uploader (or, after a crash, the janitor) to delete what it wrote.
                intent.Parameters.AddWithValue("$now", _timeProvider.GetUtcNow().ToUnixTimeMilliseconds());
                if (await intent.ExecuteScalarAsync(cancellationToken) is not 1L)
                {
                    return new CatalogWriteResult(CatalogWriteOutcome.Abandoned, null);
                }
            }

            ObjectRecord? previous;
            await using (var find = connection.CreateCommand())
            {
                find.Transaction = transaction;
                find.CommandText = SelectByKey;
                find.Parameters.AddWithValue("$key", record.Key);
                previous = await CatalogRows.FirstRecordAsync(find, cancellationToken);
            }

            if (previous is not null && !overwrite)
            {
                return new CatalogWriteResult(CatalogWriteOutcome.Conflict, previous);
            }

            if (previous is not null)
            {
                await Enqueue(connection, transaction, previous.StorageId, previous.Location, previous.Key, _deleteGrace, cancellationToken);
                await PurgeOutboxSql.RecordAsync(connection, transaction, _purgeTargets, PurgeEvents.Replaced, previous.Key, previous.StorageId, _timeProvider.GetUtcNow());
            }

            await Execute(connection, transaction, "DELETE FROM upload_intents WHERE storage_id = $storage AND location = $location", record.StorageId, record.Location, cancellationToken);
            await using (var write = Command(connection, transaction, previous is null
                ? $"INSERT INTO objects ({Columns}) VALUES ($key, $storage, $size, $type, $sha, $created, $location)"
                : "UPDATE objects SET storage_id = $storage, location = $location, size = $size, content_type = $type, sha256 = $sha, created_ms = $created WHERE key = $key",
                record.StorageId,
                record.Location))
            {
                AddRecordValues(write, record);
                await write.ExecuteNonQueryAsync(cancellationToken);
            }

            await PurgeOutboxSql.RecordCallbackAsync(connection, transaction, notify, _timeProvider.GetUtcNow());
            await transaction.CommitAsync(cancellationToken);
            return new CatalogWriteResult(previous is null ? CatalogWriteOutcome.Added : CatalogWriteOutcome.Replaced, previous);
        });
    }

    public async Task<bool> RemoveAsync(ObjectRecord expected, bool immediate, CancellationToken cancellationToken)
    {
        return await Write(async connection =>
        {
            await using var transaction = connection.BeginTransaction(deferred: false);
            await using var command = Command(connection, transaction, "DELETE FROM objects WHERE key = $key AND storage_id = $storage AND location = $location AND sha256 = $sha", expected.StorageId, expected.Location);
            command.Parameters.AddWithValue("$key", expected.Key);
            command.Parameters.AddWithValue("$sha", expected.Sha256);
            if (await command.ExecuteNonQueryAsync(cancellationToken) != 1)
            {
                return false;
            }

            await Enqueue(connection, transaction, expected.StorageId, expected.Location, expected.Key, immediate ? TimeSpan.Zero : _deleteGrace, cancellationToken);
            await PurgeOutboxSql.RecordAsync(connection, transaction, _purgeTargets, PurgeEvents.Deleted, expected.Key, expected.StorageId, _timeProvider.GetUtcNow());
            await using (var cancel = connection.CreateCommand())
            {
                // An upload of the key still streaming loses at its commit: the delete came after it began.
                cancel.Transaction = transaction;
                cancel.CommandText = "UPDATE upload_intents SET cancelled = 1 WHERE key = $key";
                cancel.Parameters.AddWithValue("$key", expected.Key);
                await cancel.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            return true;
        });
    }

    public async Task<IReadOnlyList<PendingDelete>> GetPendingDeletesAsync(int limit, CancellationToken cancellationToken)
    {
        return await Run<IReadOnlyList<PendingDelete>>(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT storage_id, location FROM pending_deletes WHERE due_ms <= $now ORDER BY due_ms LIMIT $limit";
            command.Parameters.AddWithValue("$now", _timeProvider.GetUtcNow().ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$limit", limit);
            return await CatalogRows.PendingDeletesAsync(command, cancellationToken);
        });
    }

    public async Task CompletePendingDeleteAsync(PendingDelete pending, CancellationToken cancellationToken)
    {
        await Write(async connection =>
            await Execute(connection, null, "DELETE FROM pending_deletes WHERE storage_id = $storage AND location = $location", pending.StorageId, pending.Location, cancellationToken));
    }

    // One SQLite file has one process writing it: the janitor needs no lock across instances.
    public ValueTask<IAsyncDisposable?> TryLockMaintenanceAsync(CancellationToken cancellationToken)
        => ValueTask.FromResult<IAsyncDisposable?>(NoLock.Instance);

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql, string storageId, string location)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.Parameters.AddWithValue("$storage", storageId);
        command.Parameters.AddWithValue("$location", location);
        return command;
    }

    private static async Task<int> Execute(SqliteConnection connection, SqliteTransaction? transaction, string sql, string storageId, string location, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, sql, storageId, location);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task Enqueue(SqliteConnection connection, SqliteTransaction transaction, string storageId, string location, string? key, TimeSpan grace, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, "INSERT OR REPLACE INTO pending_deletes (storage_id, location, enqueued_ms, due_ms, key) VALUES ($storage, $location, $now, $due, $key)", storageId, location);
        command.Parameters.AddWithValue("$key", (object?)key ?? DBNull.Value);
        var now = _timeProvider.GetUtcNow();
        command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$due", (now + grace).ToUnixTimeMilliseconds());
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

    public Task<IReadOnlyList<ObjectRecord>> ListAsync(string prefix, string? after, int limit, CancellationToken cancellationToken)
        => ListRecordsAsync(null, prefix, after, limit, cancellationToken);

    public Task<IReadOnlyList<ObjectRecord>> ListStoredAsync(string storageId, string prefix, string? after, int limit, CancellationToken cancellationToken)
        => ListRecordsAsync(storageId, prefix, after, limit, cancellationToken);

    private async Task<IReadOnlyList<ObjectRecord>> ListRecordsAsync(string? storageId, string prefix, string? after, int limit, CancellationToken cancellationToken)
    {
        return await Run<IReadOnlyList<ObjectRecord>>(async connection =>
        {
            // The range on key uses the primary key (or, for one storage, its index, which holds the key too); substr
            // keeps exactly the prefix (no LIKE wildcards to escape).
            await using var command = Command(connection, null, $"""
                SELECT {Columns} FROM objects
                WHERE {(storageId is null ? string.Empty : "storage_id = $storage AND ")}key >= $from AND key > $after AND substr(key, 1, length($prefix)) = $prefix
                ORDER BY key LIMIT $limit
                """, storageId ?? string.Empty, string.Empty);
            command.Parameters.AddWithValue("$from", prefix);
            command.Parameters.AddWithValue("$after", after ?? string.Empty);
            command.Parameters.AddWithValue("$prefix", prefix);
            command.Parameters.AddWithValue("$limit", limit);
            return await CatalogRows.RecordsAsync(command, cancellationToken);
        });
    }

    public async Task<bool> AdoptAsync(ObjectRecord record, CancellationToken cancellationToken)
    {
        return await Write(async connection =>
        {
            await using var transaction = connection.BeginTransaction(deferred: false);
            await using var command = Command(connection, transaction, $"""
                INSERT INTO objects ({Columns})
                SELECT $key, $storage, $size, $type, $sha, $created, $location
                WHERE NOT EXISTS (SELECT 1 FROM objects WHERE key = $key)
                  AND {NothingNamesLocation}
                """, record.StorageId, record.Location);
            AddRecordValues(command, record);
            var added = await command.ExecuteNonQueryAsync(cancellationToken) == 1;
            await transaction.CommitAsync(cancellationToken);
            return added;
        });
    }

    public Task<bool> TryUseUploadTokenAsync(string id, int uses, DateTimeOffset expiresAt, CancellationToken cancellationToken)
        => Write(connection => Uploads.Tokens.UploadTokenUsesSql.TryUseAsync(connection, id, uses, expiresAt, _timeProvider.GetUtcNow()));

    public async Task<bool> RecordHashAsync(ObjectRecord expected, string sha256, CancellationToken cancellationToken)
    {
        return await Write(async connection =>
        {
            await using var command = Command(connection, null, "UPDATE objects SET sha256 = $sha WHERE key = $key AND storage_id = $storage AND location = $location AND sha256 = ''", expected.StorageId, expected.Location);
            command.Parameters.AddWithValue("$key", expected.Key);
            command.Parameters.AddWithValue("$sha", sha256);
            return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
        });
    }

    public async Task<IReadOnlyList<bool>> RelocateManyAsync(IReadOnlyList<Relocation> relocations, CancellationToken cancellationToken)
    {
        return await Write<IReadOnlyList<bool>>(async connection =>
        {
            await using var transaction = connection.BeginTransaction(deferred: false);
            var moved = new bool[relocations.Count];
            for (var i = 0; i < relocations.Count; i++)
            {
                moved[i] = await RelocateAsync(connection, transaction, relocations[i].Expected, relocations[i].Copy, cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            return moved;
        });
    }

    /// <summary>One relocation inside a transaction; when it does not hold, it changes nothing.</summary>
    private async Task<bool> RelocateAsync(SqliteConnection connection, SqliteTransaction transaction, ObjectRecord expected, UploadIntent copy, CancellationToken cancellationToken)
    {
        await using (var intent = Command(connection, transaction, "SELECT count(*) FROM upload_intents WHERE storage_id = $storage AND location = $location AND key = $key AND cancelled = 0 AND expires_ms > $now", copy.StorageId, copy.Location))
        {
            intent.Parameters.AddWithValue("$key", expected.Key);
            intent.Parameters.AddWithValue("$now", _timeProvider.GetUtcNow().ToUnixTimeMilliseconds());
            if (await intent.ExecuteScalarAsync(cancellationToken) is not 1L)
            {
                return false;
            }
        }

        await using (var move = Command(connection, transaction, "UPDATE objects SET storage_id = $storage, location = $location WHERE key = $key AND storage_id = $from AND location = $old AND sha256 = $sha", copy.StorageId, copy.Location))
        {
            move.Parameters.AddWithValue("$key", expected.Key);
            move.Parameters.AddWithValue("$from", expected.StorageId);
            move.Parameters.AddWithValue("$old", expected.Location);
            move.Parameters.AddWithValue("$sha", expected.Sha256);
            if (await move.ExecuteNonQueryAsync(cancellationToken) != 1)
            {
                return false;
            }
        }

        await Execute(connection, transaction, "DELETE FROM upload_intents WHERE storage_id = $storage AND location = $location", copy.StorageId, copy.Location, cancellationToken);
        await Enqueue(connection, transaction, expected.StorageId, expected.Location, expected.Key, _deleteGrace, cancellationToken);
        await PurgeOutboxSql.RecordAsync(connection, transaction, _purgeTargets, PurgeEvents.Moved, expected.Key, expected.StorageId, _timeProvider.GetUtcNow());
        return true;
    }

    public async Task<IReadOnlyDictionary<string, ObjectRecord?>> FindLocationsAsync(string storageId, IReadOnlyCollection<string> locations, CancellationToken cancellationToken)
    {
        return await Run<IReadOnlyDictionary<string, ObjectRecord?>>(async connection =>
        {
            var named = new Dictionary<string, ObjectRecord?>(StringComparer.Ordinal);
            foreach (var batch in locations.Chunk(500))
            {
                var list = string.Join(", ", batch.Select((_, i) => "$l" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                await using var records = Command(connection, null, $"SELECT {Columns} FROM objects WHERE storage_id = $storage AND location IN ({list})", storageId, string.Empty);
                await using var others = Command(connection, null, $"""
                    SELECT location FROM upload_intents WHERE storage_id = $storage AND location IN ({list})
                    UNION SELECT location FROM pending_deletes WHERE storage_id = $storage AND location IN ({list})
                    """, storageId, string.Empty);
                for (var i = 0; i < batch.Length; i++)
                {
                    var name = "$l" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    records.Parameters.AddWithValue(name, batch[i]);
                    others.Parameters.AddWithValue(name, batch[i]);
                }

                CatalogRows.AddNamed(named, await CatalogRows.RecordsAsync(records, cancellationToken), await CatalogRows.StringsAsync(others, cancellationToken));
            }

            return named;
        });
    }

    public async Task<bool> QueueOrphanAsync(string storageId, string location, CancellationToken cancellationToken)
    {
        return await Write(async connection =>
        {
            await using var transaction = connection.BeginTransaction(deferred: false);
            await using var command = Command(connection, transaction, $"""
                INSERT INTO pending_deletes (storage_id, location, enqueued_ms, due_ms)
                SELECT $storage, $location, $now, $due WHERE {NothingNamesLocation}
                """, storageId, location);
            var now = _timeProvider.GetUtcNow();
            command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$due", (now + _deleteGrace).ToUnixTimeMilliseconds());
            var queued = await command.ExecuteNonQueryAsync(cancellationToken) == 1;
            await transaction.CommitAsync(cancellationToken);
            return queued;
        });
    }

    public async Task<IReadOnlyList<PendingDelete>> FindFormerLocationsAsync(string key, CancellationToken cancellationToken)
    {
        return await Run<IReadOnlyList<PendingDelete>>(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT storage_id, location FROM pending_deletes WHERE key = $key ORDER BY enqueued_ms DESC";
            command.Parameters.AddWithValue("$key", key);
            return await CatalogRows.PendingDeletesAsync(command, cancellationToken);
        });
    }

    private static void AddRecordValues(SqliteCommand command, ObjectRecord record)
    {
        command.Parameters.AddWithValue("$key", record.Key);
        command.Parameters.AddWithValue("$size", record.Size);
        command.Parameters.AddWithValue("$type", record.ContentType);
        command.Parameters.AddWithValue("$sha", record.Sha256);
        command.Parameters.AddWithValue("$created", record.CreatedAt.ToUnixTimeMilliseconds());
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
            return await RunOnConnectionAsync(action);
        }
        catch (SqliteException ex)
        {
            throw Unavailable(ex);
        }
    }

    /// <summary>
    /// <see cref="Run{T}"/> for a write. Writers take turns here rather than in SQLite: a writer that finds the file
    /// locked gets SQLITE_BUSY, and Microsoft.Data.Sqlite retries it only after sleeping, so concurrent commits (a
    /// job's parallel copies, a burst of uploads) queued behind one another's sleeps instead of each other's commits.
    /// </summary>
    private async Task<T> Write<T>(Func<SqliteConnection, Task<T>> action)
    {
        await _writers.WaitAsync();
        try
        {
            return await Run(action);
        }
        finally
        {
            _writers.Release();
        }
    }

    private async Task<T> RunOnConnectionAsync<T>(Func<SqliteConnection, Task<T>> action)
    {
        await using var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync();
        await using (var synchronous = connection.CreateCommand())
        {
            synchronous.CommandText = _synchronous;
            await synchronous.ExecuteNonQueryAsync();
        }

        return await action(connection);
    }

    private static CatalogUnavailableException Unavailable(SqliteException ex)
        => new($"The catalog could not complete the operation: {ex.Message}", ex);

    private void Migrate()
    {
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using (var wal = connection.CreateCommand())
        {
            wal.CommandText = "PRAGMA journal_mode = WAL";
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

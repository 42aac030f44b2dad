using EdgeRouter.Cdn;
using System.Data.Common;
using EdgeRouter.Configuration;
using EdgeRouter.Placement;
using Microsoft.Extensions.Options;
using Npgsql;

namespace EdgeRouter.Catalog.Postgres;

/// <summary>
/// The shared catalog for several instances: PostgreSQL through Npgsql's pooled data source. Usage per storage is
/// kept by triggers in the same transaction as the record; writers of one key are serialised by a transaction
/// advisory lock on it, so two instances cannot both see a key free. The router creates and migrates the schema
/// at start-up, under a session advisory lock, so instances starting together migrate once.
/// </summary>
internal sealed partial class PostgresObjectCatalog : IObjectCatalog, ICapacityLedger, Jobs.IJobStore, IPurgeOutbox, Uploads.Tokens.IUploadTokenUses, Uploads.Tus.IResumableUploadStore, IAsyncDisposable
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
        """
        ALTER TABLE objects ADD COLUMN location text COLLATE "C";
        UPDATE objects SET location = key;
        ALTER TABLE objects ALTER COLUMN location SET NOT NULL;
        CREATE UNIQUE INDEX ux_objects_location ON objects (storage_id, location);
        ALTER TABLE pending_deletes RENAME COLUMN key TO location;
        ALTER TABLE pending_deletes ADD COLUMN due_ms bigint NOT NULL DEFAULT 0;
        CREATE INDEX ix_pending_deletes_due ON pending_deletes (due_ms);
        CREATE TABLE upload_intents (
            storage_id text    NOT NULL,
            location   text    NOT NULL COLLATE "C",
            key        text    NOT NULL COLLATE "C",
            expires_ms bigint  NOT NULL,
            cancelled  boolean NOT NULL DEFAULT false,
            PRIMARY KEY (storage_id, location)
        );
        CREATE INDEX ix_upload_intents_key ON upload_intents (key);
        CREATE INDEX ix_upload_intents_expiry ON upload_intents (expires_ms);
        """,
        """
        ALTER TABLE pending_deletes ADD COLUMN key text COLLATE "C";
        CREATE INDEX ix_pending_deletes_key ON pending_deletes (key);
        CREATE INDEX ix_objects_storage_key ON objects (storage_id, key);
        CREATE TABLE jobs (
            id          text    NOT NULL PRIMARY KEY,
            kind        text    NOT NULL,
            spec        text    NOT NULL,
            state       text    NOT NULL,
            processed   bigint  NOT NULL DEFAULT 0,
            total       bigint,
            bytes       bigint  NOT NULL DEFAULT 0,
            errors      bigint  NOT NULL DEFAULT 0,
            checkpoint  text COLLATE "C",
            report      text,
            owner       text,
            lease_ms    bigint  NOT NULL DEFAULT 0,
            cancel      boolean NOT NULL DEFAULT false,
            created_ms  bigint  NOT NULL,
            started_ms  bigint,
            finished_ms bigint
        );
        CREATE INDEX ix_jobs_state ON jobs (state, created_ms);
        """,
        """
        CREATE TABLE purges (
            id         bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            target     text    NOT NULL,
            event      text    NOT NULL,
            scope      text    NOT NULL,
            subject    text    NOT NULL,
            storage_id text,
            state      text    NOT NULL,
            attempts   integer NOT NULL,
            created_ms bigint  NOT NULL,
            due_ms     bigint  NOT NULL,
            lease_ms   bigint  NOT NULL,
            owner      text,
            sent_ms    bigint,
            last_error text
        );
        CREATE INDEX ix_purges_due ON purges (state, due_ms);
        """,
        """
        CREATE TABLE upload_token_uses (
            id         text    NOT NULL PRIMARY KEY,
            used       integer NOT NULL,
            expires_ms bigint  NOT NULL
        );
        CREATE INDEX ix_upload_token_uses_expiry ON upload_token_uses (expires_ms);
        """,
        """
        CREATE TABLE resumable_uploads (
            id         text    NOT NULL PRIMARY KEY,
            length     bigint  NOT NULL,
            metadata   text,
            token      text,
            created_ms bigint  NOT NULL,
            expires_ms bigint  NOT NULL,
            object_key text,
            object_url text
        );
        CREATE INDEX ix_resumable_uploads_expiry ON resumable_uploads (expires_ms);
        """,
        """
        ALTER TABLE purges ADD COLUMN payload text;
        """,
    ];

    // Any constants that no other application uses as its advisory lock keys.
    private const long MigrationLock = 0x4564676552_7472;
    private const long MaintenanceLock = 0x4564676552_4A61;
    private const string Columns = CatalogRows.Columns;

    /// <summary>SQL true when no record, upload intent or queued deletion names the location (given as two parameters).</summary>
    private static string NothingNames(string storage, string location) => $"""
        NOT EXISTS (SELECT 1 FROM objects WHERE storage_id = {storage} AND location = {location})
          AND NOT EXISTS (SELECT 1 FROM upload_intents WHERE storage_id = {storage} AND location = {location})
          AND NOT EXISTS (SELECT 1 FROM pending_deletes WHERE storage_id = {storage} AND location = {location})
        """;

    // The pool an instance opens unless told otherwise: five instances fit PostgreSQL's default max_connections.
    private const int DefaultPoolSize = 20;

    // 53300, "too many clients already": the server is full for a moment; the caller waits for a connection instead,
    // up to about 9 s in all (an upload's own limits are minutes), and only then answers 503.
    private static readonly TimeSpan[] FullServerBackoff = [.. new[] { 50, 100, 200, 400, 800, 1600, 2000, 2000, 2000 }.Select(ms => TimeSpan.FromMilliseconds(ms))];

    private readonly NpgsqlDataSource _dataSource;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<PostgresObjectCatalog> _logger;
    private readonly int _poolSize;
    private readonly int? _instances;
    private readonly TimeSpan _reservationLifetime;
    private readonly TimeSpan _deleteGrace;

    // The CDN targets each change of an object is purged on, recorded in the change's own transaction.
    private readonly string[] _purgeTargets;

    public PostgresObjectCatalog(IOptions<EdgeRouterOptions> options, TimeProvider timeProvider, ILogger<PostgresObjectCatalog> logger)
    {
        _timeProvider = timeProvider;
        _logger = logger;
        var catalog = options.Value.Catalog;
        _reservationLifetime = catalog.ReservationLifetime;
        _deleteGrace = catalog.DeleteGrace;
        _purgeTargets = [.. options.Value.Cdn.Targets.Select(t => t.Name)];
        var builder = new NpgsqlConnectionStringBuilder(catalog.ConnectionString);
        var given = new DbConnectionStringBuilder { ConnectionString = catalog.ConnectionString }.Keys.Cast<string>()
            .Select(k => k.Replace(" ", string.Empty, StringComparison.Ordinal).ToLowerInvariant()).ToHashSet();
        if (catalog.PoolSize is { } size)
        {
            builder.MaxPoolSize = size;
        }
        else if (!given.Contains("maxpoolsize") && !given.Contains("maximumpoolsize"))
        {
            builder.MaxPoolSize = DefaultPoolSize;
        }

        _poolSize = builder.MaxPoolSize;
        _instances = catalog.Instances;

        // The catalog repeats a handful of statements: prepared once per connection, PostgreSQL stops parsing and
        // planning them on every call (a 404 storm: 1.3x the rps). A connection string that sets it itself wins, e.g.
        // 'Max Auto Prepare=0' behind a pooler that cannot keep prepared statements.
        if (!given.Contains("maxautoprepare"))
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

    public async Task<bool> TryBeginUploadAsync(UploadIntent intent, CancellationToken cancellationToken)
        => (await TryBeginUploadsAsync([intent], cancellationToken))[0];

    public async Task<IReadOnlyList<bool>> TryBeginUploadsAsync(IReadOnlyList<UploadIntent> intents, CancellationToken cancellationToken)
    {
        return await Run<IReadOnlyList<bool>>(async connection =>
        {
            // Each insert stands alone (ON CONFLICT DO NOTHING), so one transaction only saves round trips and commits.
            await using var transaction = intents.Count > 1 ? await connection.BeginTransactionAsync(CancellationToken.None) : null;
            var added = new bool[intents.Count];
            for (var i = 0; i < intents.Count; i++)
            {
                added[i] = await ExecuteAsync(
                    connection,
                    transaction,
                    """
                    INSERT INTO upload_intents (storage_id, location, key, expires_ms)
                    SELECT $1, $2, $3, $4
                    WHERE NOT EXISTS (SELECT 1 FROM objects WHERE storage_id = $1 AND location = $2)
                      AND NOT EXISTS (SELECT 1 FROM pending_deletes WHERE storage_id = $1 AND location = $2)
                    ON CONFLICT DO NOTHING
                    """,
                    intents[i].StorageId,
                    intents[i].Location,
                    intents[i].Key,
                    intents[i].ExpiresAt.ToUnixTimeMilliseconds()) == 1;
            }

            if (transaction is not null)
            {
                await transaction.CommitAsync(CancellationToken.None);
            }

            return added;
        });
    }

    public async Task<bool> HasIntentAsync(UploadIntent intent, CancellationToken cancellationToken)
    {
        return await Query(
            async connection =>
            {
                await using var command = new NpgsqlCommand("SELECT count(*) FROM upload_intents WHERE storage_id = $1 AND location = $2", connection)
                {
                    Parameters = { new() { Value = intent.StorageId }, new() { Value = intent.Location } },
                };
                return Convert.ToInt64(await command.ExecuteScalarAsync(CancellationToken.None), System.Globalization.CultureInfo.InvariantCulture) == 1;
            },
            cancellationToken);
    }

    public async Task EndUploadAsync(UploadIntent intent, CancellationToken cancellationToken)
        => await Run(connection => ExecuteAsync(connection, null, "DELETE FROM upload_intents WHERE storage_id = $1 AND location = $2", intent.StorageId, intent.Location));

    public async Task<IReadOnlyList<UploadIntent>> GetExpiredIntentsAsync(DateTimeOffset expiredBefore, int limit, CancellationToken cancellationToken)
    {
        return await Query<IReadOnlyList<UploadIntent>>(
            async connection =>
            {
                await using var command = new NpgsqlCommand("SELECT storage_id, location, key, expires_ms FROM upload_intents WHERE expires_ms < $1 ORDER BY expires_ms LIMIT $2", connection)
                {
                    Parameters = { new() { Value = expiredBefore.ToUnixTimeMilliseconds() }, new() { Value = limit } },
                };
                return await CatalogRows.IntentsAsync(command, CancellationToken.None);
            },
            cancellationToken);
    }

    public async Task<CatalogWriteResult> AddAsync(ObjectRecord record, bool overwrite, Cdn.PurgeRequest? notify, CancellationToken cancellationToken)
    {
        return await Run(async connection =>
        {
            // The key's transaction lock serialises this commit with every other commit and delete of the key, across
            // instances, for the length of the commit only.
            await using var transaction = await connection.BeginTransactionAsync(CancellationToken.None);
            await LockKeyAsync(connection, transaction, record.Key);
            await using (var intent = new NpgsqlCommand("SELECT count(*) FROM upload_intents WHERE storage_id = $1 AND location = $2 AND NOT cancelled AND expires_ms > $3", connection, transaction)
            {
                Parameters = { new() { Value = record.StorageId }, new() { Value = record.Location }, new() { Value = _timeProvider.GetUtcNow().ToUnixTimeMilliseconds() } },
            })
            {
                // Gone, expired (the janitor may be removing its bytes) or cancelled by a delete: the upload lost. Its
                // intent stays for the uploader (or, after a crash, the janitor) to delete what it wrote.
                if (await intent.ExecuteScalarAsync(CancellationToken.None) is not 1L)
                {
                    return new CatalogWriteResult(CatalogWriteOutcome.Abandoned, null);
                }
            }

            ObjectRecord? previous;
            await using (var find = new NpgsqlCommand($"SELECT {Columns} FROM objects WHERE key = $1", connection, transaction) { Parameters = { new() { Value = record.Key } } })
            {
                previous = await CatalogRows.FirstRecordAsync(find, CancellationToken.None);
            }

            if (previous is not null && !overwrite)
            {
                return new CatalogWriteResult(CatalogWriteOutcome.Conflict, previous);
            }

            if (previous is not null)
            {
                await EnqueueAsync(connection, transaction, previous.StorageId, previous.Location, previous.Key, _deleteGrace);
                await PurgeOutboxSql.RecordAsync(connection, transaction, _purgeTargets, PurgeEvents.Replaced, previous.Key, previous.StorageId, _timeProvider.GetUtcNow());
            }

            await ExecuteAsync(connection, transaction, "DELETE FROM upload_intents WHERE storage_id = $1 AND location = $2", record.StorageId, record.Location);
            await ExecuteAsync(
                connection,
                transaction,
                $"""
                INSERT INTO objects ({Columns}) VALUES ($1, $2, $3, $4, $5, $6, $7)
                ON CONFLICT (key) DO UPDATE SET storage_id = EXCLUDED.storage_id, size = EXCLUDED.size, content_type = EXCLUDED.content_type,
                    sha256 = EXCLUDED.sha256, created_ms = EXCLUDED.created_ms, location = EXCLUDED.location
                """,
                record.Key,
                record.StorageId,
                record.Size,
                record.ContentType,
                record.Sha256,
                record.CreatedAt.ToUnixTimeMilliseconds(),
                record.Location);
            await PurgeOutboxSql.RecordCallbackAsync(connection, transaction, notify, _timeProvider.GetUtcNow());
            await transaction.CommitAsync(CancellationToken.None);
            return new CatalogWriteResult(previous is null ? CatalogWriteOutcome.Added : CatalogWriteOutcome.Replaced, previous);
        });
    }

    public async Task<bool> RemoveAsync(ObjectRecord expected, bool immediate, CancellationToken cancellationToken)
    {
        return await Run(async connection =>
        {
            await using var transaction = await connection.BeginTransactionAsync(CancellationToken.None);
            await LockKeyAsync(connection, transaction, expected.Key);
            var removed = await ExecuteAsync(
                connection,
                transaction,
                "DELETE FROM objects WHERE key = $1 AND storage_id = $2 AND location = $3 AND sha256 = $4",
                expected.Key,
                expected.StorageId,
                expected.Location,
                expected.Sha256);
            if (removed != 1)
            {
                return false;
            }

            await EnqueueAsync(connection, transaction, expected.StorageId, expected.Location, expected.Key, immediate ? TimeSpan.Zero : _deleteGrace);
            await PurgeOutboxSql.RecordAsync(connection, transaction, _purgeTargets, PurgeEvents.Deleted, expected.Key, expected.StorageId, _timeProvider.GetUtcNow());

            // An upload of the key still streaming loses at its commit: the delete came after it began.
            await ExecuteAsync(connection, transaction, "UPDATE upload_intents SET cancelled = true WHERE key = $1", expected.Key);
            await transaction.CommitAsync(CancellationToken.None);
            return true;
        });
    }

    public async Task<IReadOnlyList<PendingDelete>> GetPendingDeletesAsync(int limit, CancellationToken cancellationToken)
    {
        return await Query<IReadOnlyList<PendingDelete>>(
            async connection =>
            {
                await using var command = new NpgsqlCommand("SELECT storage_id, location FROM pending_deletes WHERE due_ms <= $1 ORDER BY due_ms LIMIT $2", connection)
                {
                    Parameters = { new() { Value = _timeProvider.GetUtcNow().ToUnixTimeMilliseconds() }, new() { Value = limit } },
                };
                return await CatalogRows.PendingDeletesAsync(command, CancellationToken.None);
            },
            cancellationToken);
    }

    public async Task CompletePendingDeleteAsync(PendingDelete pending, CancellationToken cancellationToken)
        => await Run(connection => ExecuteAsync(connection, null, "DELETE FROM pending_deletes WHERE storage_id = $1 AND location = $2", pending.StorageId, pending.Location));

    /// <summary>A session advisory lock on its own connection, held while the janitor runs; tried, never waited for.</summary>
    public async ValueTask<IAsyncDisposable?> TryLockMaintenanceAsync(CancellationToken cancellationToken)
    {
        NpgsqlConnection? connection = null;
        try
        {
            connection = await OpenAsync();
            await using var command = new NpgsqlCommand($"SELECT pg_try_advisory_lock({MaintenanceLock})", connection);
            if (await command.ExecuteScalarAsync(CancellationToken.None) is not true)
            {
                return null;
            }

            var lease = new MaintenanceLease(connection);
            connection = null;
            return lease;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            throw new CatalogUnavailableException($"The catalog could not take the maintenance lock: {ex.Message}", ex);
        }
        finally
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }
        }
    }

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

    public Task<IReadOnlyList<ObjectRecord>> ListAsync(string prefix, string? after, int limit, CancellationToken cancellationToken)
        => ListRecordsAsync(null, prefix, after, limit, cancellationToken);

    public Task<IReadOnlyList<ObjectRecord>> ListStoredAsync(string storageId, string prefix, string? after, int limit, CancellationToken cancellationToken)
        => ListRecordsAsync(storageId, prefix, after, limit, cancellationToken);

    private async Task<IReadOnlyList<ObjectRecord>> ListRecordsAsync(string? storageId, string prefix, string? after, int limit, CancellationToken cancellationToken)
    {
        return await Query<IReadOnlyList<ObjectRecord>>(
            async connection =>
            {
                // The range on key uses the primary key, or (storage_id, key) for one storage (collation "C": byte
                // order); left() keeps exactly the prefix.
                await using var command = new NpgsqlCommand(
                    $"SELECT {Columns} FROM objects WHERE {(storageId is null ? "$4 = ''" : "storage_id = $4")} AND key >= $1 AND key > $2 AND left(key, length($1)) = $1 ORDER BY key LIMIT $3",
                    connection)
                {
                    Parameters = { new() { Value = prefix }, new() { Value = after ?? string.Empty }, new() { Value = limit }, new() { Value = storageId ?? string.Empty } },
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

    public async Task<bool> AdoptAsync(ObjectRecord record, CancellationToken cancellationToken)
    {
        return await Run(async connection =>
        {
            await using var transaction = await connection.BeginTransactionAsync(CancellationToken.None);
            await LockKeyAsync(connection, transaction, record.Key);
            var added = await ExecuteAsync(
                connection,
                transaction,
                $"""
                INSERT INTO objects ({Columns})
                SELECT $1, $2, $3, $4, $5, $6, $7
                WHERE NOT EXISTS (SELECT 1 FROM objects WHERE key = $1) AND {NothingNames("$2", "$7")}
                ON CONFLICT DO NOTHING
                """,
                record.Key,
                record.StorageId,
                record.Size,
                record.ContentType,
                record.Sha256,
                record.CreatedAt.ToUnixTimeMilliseconds(),
                record.Location) == 1;
            await transaction.CommitAsync(CancellationToken.None);
            return added;
        });
    }

    public Task<bool> TryUseUploadTokenAsync(string id, int uses, DateTimeOffset expiresAt, CancellationToken cancellationToken)
        => Run(connection => Uploads.Tokens.UploadTokenUsesSql.TryUseAsync(connection, id, uses, expiresAt, _timeProvider.GetUtcNow()));

    public async Task<bool> RecordHashAsync(ObjectRecord expected, string sha256, CancellationToken cancellationToken)
    {
        // One conditional UPDATE: its row lock orders it with any commit, delete or switch of the key.
        return await Run(async connection => await ExecuteAsync(
            connection,
            null,
            "UPDATE objects SET sha256 = $1 WHERE key = $2 AND storage_id = $3 AND location = $4 AND sha256 = ''",
            sha256,
            expected.Key,
            expected.StorageId,
            expected.Location) == 1);
    }

    public async Task<IReadOnlyList<bool>> RelocateManyAsync(IReadOnlyList<Relocation> relocations, CancellationToken cancellationToken)
    {
        return await Run<IReadOnlyList<bool>>(async connection =>
        {
            await using var transaction = await connection.BeginTransactionAsync(CancellationToken.None);

            // The keys' transaction locks serialise these switches with every commit and delete of the same keys, across
            // instances; taken in one order, so two batches cannot wait on each other.
            foreach (var key in relocations.Select(r => r.Expected.Key).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
            {
                await LockKeyAsync(connection, transaction, key);
            }

            var moved = new bool[relocations.Count];
            for (var i = 0; i < relocations.Count; i++)
            {
                moved[i] = await RelocateAsync(connection, transaction, relocations[i].Expected, relocations[i].Copy);
            }

            await transaction.CommitAsync(CancellationToken.None);
            return moved;
        });
    }

    /// <summary>One relocation inside a transaction that holds the key's lock; when it does not hold, it changes nothing.</summary>
    private async Task<bool> RelocateAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, ObjectRecord expected, UploadIntent copy)
    {
        await using (var intent = new NpgsqlCommand("SELECT count(*) FROM upload_intents WHERE storage_id = $1 AND location = $2 AND key = $3 AND NOT cancelled AND expires_ms > $4", connection, transaction)
        {
            Parameters = { new() { Value = copy.StorageId }, new() { Value = copy.Location }, new() { Value = expected.Key }, new() { Value = _timeProvider.GetUtcNow().ToUnixTimeMilliseconds() } },
        })
        {
            if (await intent.ExecuteScalarAsync(CancellationToken.None) is not 1L)
            {
                return false;
            }
        }

        var moved = await ExecuteAsync(
            connection,
            transaction,
            "UPDATE objects SET storage_id = $1, location = $2 WHERE key = $3 AND storage_id = $4 AND location = $5 AND sha256 = $6",
            copy.StorageId,
            copy.Location,
            expected.Key,
            expected.StorageId,
            expected.Location,
            expected.Sha256);
        if (moved != 1)
        {
            return false;
        }

        await ExecuteAsync(connection, transaction, "DELETE FROM upload_intents WHERE storage_id = $1 AND location = $2", copy.StorageId, copy.Location);
        await EnqueueAsync(connection, transaction, expected.StorageId, expected.Location, expected.Key, _deleteGrace);
        await PurgeOutboxSql.RecordAsync(connection, transaction, _purgeTargets, PurgeEvents.Moved, expected.Key, expected.StorageId, _timeProvider.GetUtcNow());
        return true;
    }

    public async Task<IReadOnlyDictionary<string, ObjectRecord?>> FindLocationsAsync(string storageId, IReadOnlyCollection<string> locations, CancellationToken cancellationToken)
    {
        return await Query<IReadOnlyDictionary<string, ObjectRecord?>>(
            async connection =>
            {
                var named = new Dictionary<string, ObjectRecord?>(StringComparer.Ordinal);
                var all = locations.ToArray();
                await using var records = new NpgsqlCommand($"SELECT {Columns} FROM objects WHERE storage_id = $1 AND location = ANY($2)", connection)
                {
                    Parameters = { new() { Value = storageId }, new() { Value = all } },
                };
                await using var others = new NpgsqlCommand(
                    "SELECT location FROM upload_intents WHERE storage_id = $1 AND location = ANY($2) UNION SELECT location FROM pending_deletes WHERE storage_id = $1 AND location = ANY($2)",
                    connection)
                {
                    Parameters = { new() { Value = storageId }, new() { Value = all } },
                };
                CatalogRows.AddNamed(named, await CatalogRows.RecordsAsync(records, CancellationToken.None), await CatalogRows.StringsAsync(others, CancellationToken.None));
                return named;
            },
            cancellationToken);
    }

    public async Task<bool> QueueOrphanAsync(string storageId, string location, CancellationToken cancellationToken)
    {
        var now = _timeProvider.GetUtcNow();
        return await Run(async connection => await ExecuteAsync(
            connection,
            null,
            $"""
            INSERT INTO pending_deletes (storage_id, location, enqueued_ms, due_ms)
            SELECT $1, $2, $3, $4 WHERE {NothingNames("$1", "$2")}
            ON CONFLICT DO NOTHING
            """,
            storageId,
            location,
            now.ToUnixTimeMilliseconds(),
            (now + _deleteGrace).ToUnixTimeMilliseconds()) == 1);
    }

    public async Task<IReadOnlyList<PendingDelete>> FindFormerLocationsAsync(string key, CancellationToken cancellationToken)
    {
        return await Query<IReadOnlyList<PendingDelete>>(
            async connection =>
            {
                await using var command = new NpgsqlCommand("SELECT storage_id, location FROM pending_deletes WHERE key = $1 ORDER BY enqueued_ms DESC", connection)
                {
                    Parameters = { new() { Value = key } },
                };
                return await CatalogRows.PendingDeletesAsync(command, CancellationToken.None);
            },
            cancellationToken);
    }

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

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    private sealed class MaintenanceLease(NpgsqlConnection connection) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await ExecuteAsync(connection, null, $"SELECT pg_advisory_unlock({MaintenanceLock})");
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

    private Task<int> EnqueueAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string storageId, string location, string key, TimeSpan grace)
    {
        var now = _timeProvider.GetUtcNow();
        return ExecuteAsync(
            connection,
            transaction,
            """
            INSERT INTO pending_deletes (storage_id, location, enqueued_ms, due_ms, key) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (storage_id, location) DO UPDATE SET enqueued_ms = EXCLUDED.enqueued_ms, due_ms = EXCLUDED.due_ms, key = EXCLUDED.key
            """,
            storageId,
            location,
            now.ToUnixTimeMilliseconds(),
            (now + grace).ToUnixTimeMilliseconds(),
            key);
    }

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
            await using var connection = await OpenAsync();
            return await action(connection);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            throw new CatalogUnavailableException($"The catalog could not complete the operation: {ex.Message}", ex);
        }
    }

    /// <summary>A pooled connection; when the server has no room for another one (53300), waits a little and tries again.</summary>
    private async Task<NpgsqlConnection> OpenAsync()
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await _dataSource.OpenConnectionAsync(CancellationToken.None);
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.TooManyConnections && attempt < FullServerBackoff.Length)
            {
                await Task.Delay(FullServerBackoff[attempt], _timeProvider);
            }
        }
    }

    /// <summary>Warns when the instances' pools together cannot fit the server: they would fail with 53300 under load.</summary>
    private void CheckConnectionBudget(NpgsqlConnection connection)
    {
        using var show = new NpgsqlCommand("SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int", connection);
        var available = Convert.ToInt32(show.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        if (_instances is { } instances && instances * _poolSize > available)
        {
            Log.ConnectionBudget(_logger, instances, _poolSize, instances * _poolSize, available);
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

            CheckConnectionBudget(connection);
        }
        catch (NpgsqlException ex)
        {
            throw new CatalogUnavailableException($"The PostgreSQL catalog could not be opened or migrated: {ex.Message}", ex);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = Observability.EventIds.CatalogConnectionBudget, Level = LogLevel.Warning, Message = "{Instances} instances x Catalog:PoolSize {PoolSize} = {Total} connections, but the PostgreSQL server takes {Available} (max_connections less the superuser reserve): under load, queries will wait for connections. Lower Catalog:PoolSize or raise max_connections.")]
        public static partial void ConnectionBudget(ILogger logger, int instances, int poolSize, int total, int available);
    }
}

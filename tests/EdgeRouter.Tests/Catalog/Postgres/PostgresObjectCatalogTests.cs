using EdgeRouter.Catalog;
using EdgeRouter.Catalog.Postgres;
using EdgeRouter.Configuration;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace EdgeRouter.Tests.Catalog.Postgres;

/// <summary>The catalog contract on a real PostgreSQL, plus what only a shared catalog must do.</summary>
[Collection(SharedCatalogGroup.Name)]
public sealed class PostgresObjectCatalogTests(PostgresFixture postgres) : CatalogContractTests, IAsyncLifetime
{
    private PostgresObjectCatalog? _catalog;
    private string _connectionString = string.Empty;

    protected override IObjectCatalog Catalog => _catalog!;

    public async Task InitializeAsync()
    {
        _connectionString = await postgres.CreateDatabaseAsync();
        _catalog = Create(_connectionString, clock: Clock);
    }

    public async Task DisposeAsync() => await _catalog!.DisposeAsync();

    [Fact]
    public async Task InstancesStartingTogether_MigrateTheSchemaOnce()
    {
        var database = await postgres.CreateDatabaseAsync();

        var catalogs = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => Create(database))));

        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*), max(version) FROM edgerouter_schema", connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        Assert.Equal(7, reader.GetInt64(0));
        Assert.Equal(7, reader.GetInt32(1));
        foreach (var catalog in catalogs)
        {
            await catalog.DisposeAsync();
        }
    }

    [Fact]
    public async Task TwoInstancesWritingOneKeyAtOnce_EndWithOneRecord_AndEveryLoserQueuedForDeletion()
    {
        await using var other = Create(_connectionString, clock: Clock);
        var key = "race/" + Guid.NewGuid();
        var records = Enumerable.Range(0, 20).Select(i => new ObjectRecord(key, $"s{i}", 100 + i, "image/png", $"sha{i}", DateTimeOffset.UnixEpoch)).ToList();
        foreach (var record in records)
        {
            Assert.True(await Catalog.TryBeginUploadAsync(new UploadIntent(record.StorageId, key, key, Clock.GetUtcNow().AddHours(1)), CancellationToken.None));
        }

        var results = await Task.WhenAll(records.Select((r, i) => (i % 2 == 0 ? (IObjectCatalog)_catalog! : other).AddAsync(r, overwrite: true, CancellationToken.None)));

        var winner = await Catalog.FindAsync(key, CancellationToken.None);
        Assert.NotNull(winner);
        Assert.Equal(1, results.Count(r => r.Outcome == CatalogWriteOutcome.Added));
        Clock.Advance(Grace);
        var pending = (await Catalog.GetPendingDeletesAsync(1000, CancellationToken.None)).Where(p => p.Location == key).Select(p => p.StorageId).ToHashSet();
        Assert.DoesNotContain(winner.StorageId, pending);
        Assert.Equal(19, pending.Count);
        var usage = await Catalog.GetUsageAsync(CancellationToken.None);
        Assert.Equal(1, Enumerable.Range(0, 20).Sum(i => usage.GetValueOrDefault($"s{i}").Objects));
    }

    [Fact]
    public async Task AtStart_AClusterWhosePoolsCannotFitTheServer_IsWarnedAbout_AndOneThatFits_IsNot()
    {
        var tooMany = new Microsoft.Extensions.Logging.Testing.FakeLogger<PostgresObjectCatalog>();
        var fitting = new Microsoft.Extensions.Logging.Testing.FakeLogger<PostgresObjectCatalog>();

        int available;
        await using (var connection = new NpgsqlConnection(_connectionString))
        {
            await connection.OpenAsync();
            await using var show = new NpgsqlCommand("SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int", connection);
            available = (int)(await show.ExecuteScalarAsync())!;
        }

        var fits = available / 20;
        await Create(_connectionString, logger: tooMany, instances: fits + 1, poolSize: 20).DisposeAsync();
        await Create(_connectionString, logger: fitting, instances: fits, poolSize: 20).DisposeAsync();

        Assert.Equal(
            $"{fits + 1} instances x Catalog:PoolSize 20 = {(fits + 1) * 20} connections, but the PostgreSQL server takes {available} (max_connections less the superuser reserve): under load, queries will wait for connections. Lower Catalog:PoolSize or raise max_connections.",
            Assert.Single(tooMany.Collector.GetSnapshot()).Message);
        Assert.Empty(fitting.Collector.GetSnapshot());
    }

    [Fact]
    public async Task AServerWithNoRoomForAnotherConnection_MakesCallersWait_NotFail()
    {
        // A role allowed two connections (not a superuser: they have no limit): a third open is refused with 53300, as a
        // full server refuses it.
        var role = "limited_" + Guid.NewGuid().ToString("N")[..8];
        await using (var admin = new NpgsqlConnection(_connectionString))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE ROLE {role} LOGIN CONNECTION LIMIT 2 IN ROLE {PostgresFixture.User}", admin);
            await create.ExecuteNonQueryAsync();
        }

        var limited = new NpgsqlConnectionStringBuilder(_connectionString) { Username = role }.ConnectionString;
        await using var catalog = Create(limited, poolSize: 8);

        // Every one of 40 at once gets its answer; none is a CatalogUnavailableException.
        var lookups = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(async () => await catalog.FindAsync($"none/{i}", CancellationToken.None))));

        Assert.All(lookups, Assert.Null);
    }

    [Fact]
    public async Task TheMaintenanceLock_IsHeldByOneInstanceAtATime()
    {
        await using var other = Create(_connectionString);

        var first = await _catalog!.TryLockMaintenanceAsync(CancellationToken.None);
        Assert.NotNull(first);
        Assert.Null(await other.TryLockMaintenanceAsync(CancellationToken.None));
        await first.DisposeAsync();

        await using var second = await other.TryLockMaintenanceAsync(CancellationToken.None);
        Assert.NotNull(second);
    }

    [Fact]
    public async Task Reservations_NeverLetConcurrentInstancesOverfillAStorage()
    {
        await using var other = Create(_connectionString, clock: Clock);
        var storage = "cap-" + Guid.NewGuid().ToString("N")[..8];

        // 1,000 bytes of room, 50 instances' worth of 100-byte uploads asking at once.
        var asks = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => (i % 2 == 0 ? _catalog! : other).TryReserveAsync(storage, 100, 1_000, CancellationToken.None)));

        Assert.Equal(10, asks.Count(a => a is not null));
        await _catalog!.ReleaseAsync(asks.First(a => a is not null)!.Value, CancellationToken.None);
        Assert.NotNull(await other.TryReserveAsync(storage, 100, 1_000, CancellationToken.None));
        Assert.Null(await other.TryReserveAsync(storage, 100, 1_000, CancellationToken.None));
    }

    [Fact]
    public async Task AReservationLeftByACrashedInstance_Expires()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var shortLived = Create(_connectionString, TimeSpan.FromMinutes(5), clock);
        var storage = "exp-" + Guid.NewGuid().ToString("N")[..8];

        Assert.NotNull(await shortLived.TryReserveAsync(storage, 900, 1_000, CancellationToken.None));
        clock.Advance(TimeSpan.FromMinutes(4));
        Assert.Null(await shortLived.TryReserveAsync(storage, 900, 1_000, CancellationToken.None));
        clock.Advance(TimeSpan.FromMinutes(2));

        Assert.NotNull(await shortLived.TryReserveAsync(storage, 900, 1_000, CancellationToken.None));
    }

    [Fact]
    public async Task ALookupWhoseCallerGivesUp_StopsWaiting_AndTheCatalogKeepsAnswering()
    {
        Assert.True(await Catalog.TryBeginUploadAsync(new UploadIntent("s1", "slow/a.png", "slow/a.png", Clock.GetUtcNow().AddHours(1)), CancellationToken.None));
        await Catalog.AddAsync(new ObjectRecord("slow/a.png", "s1", 10, "image/png", "sha", DateTimeOffset.UnixEpoch), overwrite: false, CancellationToken.None);

        // A lookup held up by a table lock, whose caller (a client that disconnected) gives up meanwhile.
        await using var blocker = new NpgsqlConnection(_connectionString);
        await blocker.OpenAsync();
        var transaction = await blocker.BeginTransactionAsync();
        await using (var lockTable = new NpgsqlCommand("LOCK TABLE objects IN ACCESS EXCLUSIVE MODE", blocker, transaction))
        {
            await lockTable.ExecuteNonQueryAsync();
        }

        using var giveUp = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var lookup = Catalog.FindAsync("slow/a.png", giveUp.Token).AsTask();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => lookup.WaitAsync(TimeSpan.FromSeconds(5)));

        await transaction.RollbackAsync();
        Assert.NotNull(await Catalog.FindAsync("slow/a.png", CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void WithTheServerUnreachable_StartingIsACatalogErrorThatSaysSo()
    {
        var error = Assert.Throws<CatalogUnavailableException>(() => Create($"Host=127.0.0.1;Port={TestUtilities.ServerProcess.FreePort()};Username=x;Database=x;Timeout=2"));

        Assert.StartsWith("The PostgreSQL catalog could not be opened or migrated: ", error.Message, StringComparison.Ordinal);
    }

    private static PostgresObjectCatalog Create(
        string connectionString, TimeSpan? reservationLifetime = null, TimeProvider? clock = null, Microsoft.Extensions.Logging.ILogger<PostgresObjectCatalog>? logger = null, int? instances = null, int? poolSize = null)
    {
        var options = new EdgeRouterOptions
        {
            Catalog = new CatalogOptions
            {
                Provider = CatalogProviders.Postgres,
                ConnectionString = connectionString,
                ReservationLifetime = reservationLifetime ?? TimeSpan.FromMinutes(30),
                DeleteGrace = Grace,
                Instances = instances,
                PoolSize = poolSize,
            },
        };
        AddPurgeTargets(options);
        return new PostgresObjectCatalog(Options.Create(options), clock ?? TimeProvider.System, logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger<PostgresObjectCatalog>.Instance);
    }
}

using EdgeRouter.Catalog;
using EdgeRouter.Catalog.Sqlite;
using EdgeRouter.Configuration;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace EdgeRouter.Tests.Catalog;

public sealed class SqliteObjectCatalogTests : CatalogContractTests, IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("edgerouter-catalog-").FullName;
    private readonly SqliteObjectCatalog _catalog;

    public SqliteObjectCatalogTests()
    {
        _catalog = Create(_folder, Clock);
    }

    protected override IObjectCatalog Catalog => _catalog;

    [Fact]
    public async Task TheDatabase_IsInWalMode_AndAtTheLatestSchemaVersion()
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(_folder, "catalog.db")}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode; PRAGMA user_version;";
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        Assert.Equal("wal", reader.GetString(0));
        await reader.NextResultAsync();
        await reader.ReadAsync();
        Assert.Equal(7, reader.GetInt32(0));
    }

    [Fact]
    public async Task Reopening_KeepsRecords_AndDoesNotMigrateTwice()
    {
        var record = new ObjectRecord("keep.png", "s", 5, "image/png", "ab", DateTimeOffset.UnixEpoch);
        Assert.True(await _catalog.TryBeginUploadAsync(new UploadIntent("s", "keep.png", "keep.png", DateTimeOffset.MaxValue.AddYears(-1)), CancellationToken.None));
        await _catalog.AddAsync(record, false, CancellationToken.None);

        var schemaChanges = await PragmaAsync("schema_version");

        using var reopened = Create(_folder, Clock);

        // SQLite counts every change of the schema in schema_version: a migration run again, even one that did not
        // fail, would have changed it.
        Assert.Equal(record, await reopened.FindAsync("keep.png", CancellationToken.None));
        Assert.Equal(schemaChanges, await PragmaAsync("schema_version"));
        Assert.Equal(7L, await PragmaAsync("user_version"));
    }

    private async Task<long> PragmaAsync(string name)
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(_folder, "catalog.db")};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA " + name;
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task ACatalogOfTheFirstSchema_IsMigrated_WithEachKeyItsOwnLocation_AndQueuedDeletionsDueAtOnce()
    {
        var folder = Directory.CreateTempSubdirectory("edgerouter-catalog-v1-").FullName;
        try
        {
            await using (var connection = new SqliteConnection($"Data Source={Path.Combine(folder, "catalog.db")};Pooling=False"))
            {
                await connection.OpenAsync();
                await using var v1 = connection.CreateCommand();
                v1.CommandText = """
                    CREATE TABLE objects (key TEXT NOT NULL PRIMARY KEY, storage_id TEXT NOT NULL, size INTEGER NOT NULL,
                        content_type TEXT NOT NULL, sha256 TEXT NOT NULL, created_ms INTEGER NOT NULL) WITHOUT ROWID;
                    CREATE TABLE storage_usage (storage_id TEXT NOT NULL PRIMARY KEY, bytes INTEGER NOT NULL, objects INTEGER NOT NULL);
                    CREATE TABLE pending_deletes (storage_id TEXT NOT NULL, key TEXT NOT NULL, enqueued_ms INTEGER NOT NULL,
                        PRIMARY KEY (storage_id, key)) WITHOUT ROWID;
                    INSERT INTO objects VALUES ('old/a.png', 's', 3, 'image/png', 'ab', 0);
                    INSERT INTO pending_deletes VALUES ('s', 'gone.png', 0);
                    PRAGMA user_version = 1;
                    """;
                await v1.ExecuteNonQueryAsync();
            }

            using var migrated = Create(folder, Clock);

            Assert.Equal("old/a.png", (await migrated.FindAsync("old/a.png", CancellationToken.None))!.Location);
            Assert.Equal([new PendingDelete("s", "gone.png")], await migrated.GetPendingDeletesAsync(10, CancellationToken.None));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task AnUnreachableDatabase_ThrowsCatalogUnavailable()
    {
        using var catalog = Create(_folder, Clock);
        File.Delete(Path.Combine(_folder, "catalog.db"));
        Directory.CreateDirectory(Path.Combine(_folder, "catalog.db"));
        SqliteConnection.ClearAllPools();

        await Assert.ThrowsAsync<CatalogUnavailableException>(() => catalog.PingAsync(CancellationToken.None));
    }

    public void Dispose()
    {
        _catalog.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    private static SqliteObjectCatalog Create(string folder, TimeProvider clock)
    {
        var options = new EdgeRouterOptions { Catalog = { ConnectionString = $"Data Source={Path.Combine(folder, "catalog.db")}", DeleteGrace = Grace } };
        AddPurgeTargets(options);
        return new(Options.Create(options), new Env(folder), clock);
    }

    private sealed class Env(string root) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "Test";

        public string ApplicationName { get; set; } = "EdgeRouter";

        public string ContentRootPath { get; set; } = root;

        public Microsoft.Extensions.FileProviders.IFileProvider ContentRootFileProvider { get; set; } = null!;
    }
}

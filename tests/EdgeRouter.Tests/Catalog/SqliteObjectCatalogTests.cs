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
        _catalog = Create(_folder);
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
        Assert.Equal(1, reader.GetInt32(0));
    }

    [Fact]
    public async Task Reopening_KeepsRecords_AndDoesNotMigrateTwice()
    {
        await _catalog.AddAsync(new ObjectRecord("keep.png", "s", 5, "image/png", "ab", DateTimeOffset.UnixEpoch), false, CancellationToken.None);

        using var reopened = Create(_folder);

        Assert.NotNull(await reopened.FindAsync("keep.png", CancellationToken.None));
    }

    [Fact]
    public async Task AnUnreachableDatabase_ThrowsCatalogUnavailable()
    {
        using var catalog = Create(_folder);
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

    private static SqliteObjectCatalog Create(string folder) => new(
        Options.Create(new EdgeRouterOptions { Catalog = { ConnectionString = $"Data Source={Path.Combine(folder, "catalog.db")}" } }),
        new Env(folder),
        TimeProvider.System);

    private sealed class Env(string root) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "Test";

        public string ApplicationName { get; set; } = "EdgeRouter";

        public string ContentRootPath { get; set; } = root;

        public Microsoft.Extensions.FileProviders.IFileProvider ContentRootFileProvider { get; set; } = null!;
    }
}

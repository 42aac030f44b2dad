using System.Globalization;
using EdgeRouter.Tests.TestUtilities;
using Npgsql;

namespace EdgeRouter.Tests.Catalog.Postgres;

/// <summary>
/// A throwaway PostgreSQL cluster (Debian's <c>postgresql</c>): <c>initdb</c> into a temp folder and <c>postgres</c>
/// on a loopback port, with no durability (fsync off), started once for all tests that need it. PostgreSQL
/// refuses to run as root, so under root (CI) it runs as the <c>postgres</c> system user.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    public const string User = "edgerouter";

    private readonly string _folder = Directory.CreateTempSubdirectory("edgerouter-pg-").FullName;
    private ServerProcess? _server;
    private string _bin = string.Empty;

    public int Port { get; } = ServerProcess.FreePort();

    private static bool IsRoot => string.Equals(Environment.UserName, "root", StringComparison.Ordinal);

    public async Task InitializeAsync()
    {
        _bin = Directory.GetDirectories("/usr/lib/postgresql").OrderByDescending(d => int.Parse(Path.GetFileName(d), CultureInfo.InvariantCulture)).Select(d => Path.Combine(d, "bin")).FirstOrDefault()
            ?? throw new InvalidOperationException("PostgreSQL is not installed (/usr/lib/postgresql/*/bin); run scripts/test-deps.sh.");
        if (IsRoot)
        {
            Commands.Run("chown", "postgres:postgres", _folder);
        }

        var (file, arguments) = AsServerUser("initdb", "-D", Data, "-U", User, "-A", "trust", "--no-sync", "-E", "UTF8", "--locale", "C");
        var (exit, output) = Commands.Run(file, arguments);
        if (exit != 0)
        {
            throw new InvalidOperationException($"initdb failed ({exit}): {output}");
        }

        await StartAsync();
    }

    public Task StopAsync() => _server?.StopAsync() ?? Task.CompletedTask;

    /// <summary>Starts the server again; this process's pooled connections died with the old one, so they are dropped.</summary>
    public async Task RestartAsync()
    {
        await StartAsync();
        NpgsqlConnection.ClearAllPools();
    }

    /// <summary>A connection string to a new, empty database.</summary>
    /// <param name="connectionLimit">
    /// Serve the database to a role of its own that may open only this many connections, as a server with that
    /// <c>max_connections</c> (less its superuser reserve) would: past it, PostgreSQL refuses with the same 53300.
    /// The shared server itself keeps room for every test.
    /// </param>
    public async Task<string> CreateDatabaseAsync(int? connectionLimit = null)
    {
        var name = "t_" + Guid.NewGuid().ToString("N")[..12];
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        var sql = connectionLimit is { } limit
            ? $"CREATE ROLE {name} LOGIN CONNECTION LIMIT {limit.ToString(CultureInfo.InvariantCulture)}; CREATE DATABASE {name} OWNER {name}"
            : $"CREATE DATABASE {name}";
        foreach (var statement in sql.Split("; "))
        {
            await using var command = new NpgsqlCommand(statement, connection);
            await command.ExecuteNonQueryAsync();
        }

        return ConnectionString(name, connectionLimit is null ? User : name);
    }

    public string ConnectionString(string database, string user = User) => $"Host=127.0.0.1;Port={Port};Username={user};Database={database};Pooling=true;Timeout=5;Command Timeout=10";

    public async Task DisposeAsync()
    {
        await StopAsync();
        Directory.Delete(_folder, recursive: true);
    }

    private string Data => Path.Combine(_folder, "data");

    private async Task StartAsync()
    {
        var (file, arguments) = AsServerUser(
            "postgres", "-D", Data, "-p", Port.ToString(CultureInfo.InvariantCulture), "-k", _folder,
            "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "full_page_writes=off", "-c", "max_connections=300");
        _server = new ServerProcess("postgres", file, arguments, Port);
        await _server.StartAsync(TimeSpan.FromSeconds(30));

        // The port opens before recovery ends (after a kill, say): ready once it accepts a session (57P03 until then).
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(ConnectionString("postgres") + ";Pooling=false");
                await connection.OpenAsync();
                return;
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.CannotConnectNow && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    // setpriv execs the program in place (no forked parent), so stopping the process stops PostgreSQL itself.
    private (string File, string[] Arguments) AsServerUser(string program, params string[] arguments)
        => IsRoot
            ? ("/usr/bin/setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", Path.Combine(_bin, program), .. arguments])
            : (Path.Combine(_bin, program), arguments);
}

/// <summary>Everything that needs the shared catalog's servers: one PostgreSQL and one Redis for the whole run.</summary>
[CollectionDefinition(Name)]
public sealed class SharedCatalogGroup : ICollectionFixture<PostgresFixture>, ICollectionFixture<Caching.Redis.RedisFixture>
{
    public const string Name = "postgres+redis";
}

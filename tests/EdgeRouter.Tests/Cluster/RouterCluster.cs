using System.Globalization;
using System.Net.Http.Headers;
using EdgeRouter.Tests.Caching.Redis;
using EdgeRouter.Tests.Catalog.Postgres;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.Cluster;

/// <summary>
/// Several real router processes on their own ports, as production runs them: one shared storages.json, one
/// PostgreSQL database (new for each cluster), one Redis.
/// </summary>
public sealed class RouterCluster : IAsyncDisposable
{
    public const string ApiKey = "cluster-test-key-0f3c9b";

    /// <summary>
    /// Settings for a test whose reads must go on from memory while the database is down: lookups kept a minute,
    /// and the grace with them (the router requires it), instead of the seconds that let other tests see files settle.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> LongCache = new Dictionary<string, string>
    {
        ["EdgeRouter__Catalog__CacheTtl"] = "00:01:00",
        ["EdgeRouter__Catalog__DeleteGrace"] = "00:01:00",
    };

    private readonly string _root = Directory.CreateTempSubdirectory("edgerouter-cluster-").FullName;
    private readonly List<ServerProcess> _routers = [];

    private RouterCluster()
    {
    }

    /// <summary>The cluster's PostgreSQL database (a connection string), to look at what the routers left in it.</summary>
    public string Database { get; private set; } = string.Empty;

    /// <summary>The folder the Local storages of <see cref="StartAsync"/>'s storages.json write to.</summary>
    public string Files => Path.Combine(_root, "files");

    public IReadOnlyList<HttpClient> Clients { get; private set; } = [];

    /// <summary>Starts <paramref name="instances"/> routers; <paramref name="storages"/> is storages.json with <c>{files}</c> for <see cref="Files"/>.</summary>
    /// <param name="connectionLimit">The most connections the instances together may open (see <see cref="PostgresFixture.CreateDatabaseAsync"/>).</param>
    public static async Task<RouterCluster> StartAsync(PostgresFixture postgres, RedisFixture redis, string storages, int instances = 2, IReadOnlyDictionary<string, string>? settings = null, int? connectionLimit = null)
    {
        var cluster = new RouterCluster();
        Directory.CreateDirectory(Path.Combine(cluster._root, "config"));
        Directory.CreateDirectory(cluster.Files);
        await File.WriteAllTextAsync(Path.Combine(cluster._root, "config", "storages.json"), storages.Replace("{files}", cluster.Files, StringComparison.Ordinal));
        var database = await postgres.CreateDatabaseAsync(connectionLimit);
        cluster.Database = database;
        var clients = new List<HttpClient>();
        for (var i = 0; i < instances; i++)
        {
            var port = ServerProcess.FreePort();
            var url = $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";
            var environment = new Dictionary<string, string>
            {
                ["EDGEROUTER_API_KEY"] = ApiKey,
                ["EdgeRouter__SiteUrl"] = url + "/",
                ["EdgeRouter__Catalog__Provider"] = "postgres",
                // Npgsql's own wait for a pooled connection (15 s), as in production; the fixture's 5 s is for the tests' own queries.
                ["EdgeRouter__Catalog__ConnectionString"] = database.Replace("Timeout=5;", "Timeout=15;", StringComparison.Ordinal),
                ["EdgeRouter__Catalog__Redis"] = redis.Configuration,
                ["EdgeRouter__Uploads__SpoolDirectory"] = Path.Combine(cluster._root, $"spool-{i}"),
                ["EdgeRouter__Health__ProbeInterval"] = "00:00:01",

                // Replaced and deleted objects go within seconds, so a test sees the files settle. The grace is no
                // shorter than the cache's lifetime, as the router requires with several instances: a lookup another
                // instance still holds for a replaced version (an announcement lost to a crash) must find its bytes.
                ["EdgeRouter__Catalog__DeleteGrace"] = "00:00:02",
                ["EdgeRouter__Catalog__CacheTtl"] = "00:00:02",
                ["EdgeRouter__Catalog__JanitorInterval"] = "00:00:01",
                ["Logging__LogLevel__Default"] = "Warning",
            };
            foreach (var (key, value) in settings ?? new Dictionary<string, string>())
            {
                environment[key] = value;
            }

            var router = new ServerProcess($"router-{i}", "dotnet", [Path.Combine(AppContext.BaseDirectory, "EdgeRouter.dll"), "--urls", url], port, cluster._root, environment);
            cluster._routers.Add(router);
            await router.StartAsync(TimeSpan.FromSeconds(60));
            clients.Add(new HttpClient { BaseAddress = new Uri(url), DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", ApiKey) } });
        }

        cluster.Clients = clients;
        return cluster;
    }

    public string Output(int instance) => _routers[instance].Output;

    /// <summary>The process id of each instance (null once it is gone).</summary>
    public int? ProcessId(int instance) => _routers[instance].ProcessId;

    /// <summary>SIGKILLs one instance, as a crash would.</summary>
    public void Kill(int instance) => _routers[instance].Signal("KILL");

    public async ValueTask DisposeAsync()
    {
        foreach (var client in Clients)
        {
            client.Dispose();
        }

        foreach (var router in _routers)
        {
            await router.StopAsync();
        }

        Directory.Delete(_root, recursive: true);
    }
}

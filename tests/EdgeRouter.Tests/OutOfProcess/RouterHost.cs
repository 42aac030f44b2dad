using System.Globalization;
using System.Net.Http.Headers;
using EdgeRouter.Tests.TestUtilities;
using Microsoft.Data.Sqlite;

namespace EdgeRouter.Tests.OutOfProcess;

/// <summary>
/// The built router as an operator runs it: <c>dotnet EdgeRouter.dll</c> as a child process, its shipped
/// appsettings.json and the repository's shipped config/storages.json (Local storage under ./data/storage, SQLite
/// at ./data/catalog.db), so process-wide settings (inline socket completions, the thread pool, GC) are in force.
/// It can be killed with SIGKILL and started again on the same folder and port.
/// </summary>
public sealed class RouterHost : IAsyncDisposable
{
    public const string ApiKey = "oop-test-key-7d1e2a";

    private readonly Dictionary<string, string> _environment;
    private ServerProcess? _process;

    /// <param name="adminPort">Also listen on this port, set as <c>Admin:Port</c>.</param>
    public RouterHost(IReadOnlyDictionary<string, string>? settings = null, string? storagesJson = null, int? adminPort = null)
    {
        AdminPort = adminPort;
        Root = Directory.CreateTempSubdirectory("edgerouter-oop-").FullName;
        Directory.CreateDirectory(Path.Combine(Root, "config"));
        File.WriteAllText(Path.Combine(Root, "config", "storages.json"), storagesJson ?? File.ReadAllText(Path.Combine(Repository.Root, "config", "storages.json")));
        Port = ServerProcess.FreePort();
        BaseUrl = $"http://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}/";
        _environment = new Dictionary<string, string>
        {
            ["EDGEROUTER_API_KEY"] = ApiKey,
            ["EdgeRouter__SiteUrl"] = BaseUrl,
            ["EdgeRouter__Uploads__SpoolDirectory"] = SpoolPath,
            ["Logging__LogLevel__Default"] = "Warning",
        };
        if (adminPort is { } port)
        {
            _environment["Admin__Port"] = port.ToString(CultureInfo.InvariantCulture);
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            _environment[key] = value;
        }

        Client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromSeconds(30) })
        {
            BaseAddress = new Uri(BaseUrl),
            Timeout = TimeSpan.FromSeconds(60),
            DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", ApiKey) },
        };
    }

    /// <summary>The router's working folder: config/, data/ (storage and catalog), spool/.</summary>
    public string Root { get; }

    public int Port { get; }

    public string BaseUrl { get; }

    /// <summary>The shipped Local storage's root.</summary>
    public string StoragePath => Path.Combine(Root, "data", "storage");

    public string SpoolPath => Path.Combine(Root, "spool");

    public string CatalogPath => Path.Combine(Root, "data", "catalog.db");

    public HttpClient Client { get; }

    public int? AdminPort { get; }

    public string Output => _process?.Output ?? string.Empty;

    public async Task StartAsync()
    {
        var urls = BaseUrl.TrimEnd('/') + (AdminPort is { } admin ? $";http://127.0.0.1:{admin.ToString(CultureInfo.InvariantCulture)}" : string.Empty);
        _process = new ServerProcess("router", "dotnet", [Path.Combine(AppContext.BaseDirectory, "EdgeRouter.dll"), "--urls", urls], Port, Root, _environment);
        await _process.StartAsync(TimeSpan.FromSeconds(60));
    }

    /// <summary>SIGKILL: no shutdown code runs, as in a crash or an OOM kill.</summary>
    public Task KillAsync() => _process?.KillAsync() ?? Task.CompletedTask;

    /// <summary>Every file under the storage root, relative to it with '/', except a health probe's own.</summary>
    public IReadOnlyList<string> StorageFiles()
        => Directory.Exists(StoragePath)
            ? Directory.GetFiles(StoragePath, "*", SearchOption.AllDirectories)
                .Where(f => !Path.GetFileName(f).StartsWith(".er-probe-", StringComparison.Ordinal))
                .Select(f => Path.GetRelativePath(StoragePath, f).Replace('\\', '/')).Order(StringComparer.Ordinal).ToList()
            : [];

    /// <summary>Runs <paramref name="sql"/> on the catalog, read-only, beside the running router (WAL allows it).</summary>
    public List<object[]> Query(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={CatalogPath};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<object[]>();
        while (reader.Read())
        {
            var row = new object[reader.FieldCount];
            reader.GetValues(row);
            rows.Add(row);
        }

        return rows;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (_process is not null)
        {
            await _process.StopAsync();
        }

        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A mount point or a file still held; the temp folder is cleaned by the OS.
        }
    }
}

using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeRouter.Tests.TestUtilities;

/// <summary>
/// The real router in-process, on its own temporary content root with its own storages.json and SQLite catalog.
/// Storage roots in the JSON are written relative to <see cref="Root"/>.
/// </summary>
public sealed class RouterFactory : WebApplicationFactory<Program>
{
    public const string ApiKey = "test-upload-key-5b0c1f0e9d";
    public const string SiteUrl = "http://router.test/";

    private readonly Action<IServiceCollection>? _configureServices;
    private readonly Dictionary<string, string?> _settings;

    public RouterFactory(string storagesJson, Action<IServiceCollection>? configureServices = null, IDictionary<string, string?>? settings = null)
    {
        Root = Directory.CreateTempSubdirectory("edgerouter-test-").FullName;
        Directory.CreateDirectory(Path.Combine(Root, "config"));
        File.WriteAllText(StoragesPath, storagesJson);
        _configureServices = configureServices;
        _settings = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["EdgeRouter:SiteUrl"] = SiteUrl,
            ["EdgeRouter:StoragesFile"] = "config/storages.json",
            ["EdgeRouter:Catalog:ConnectionString"] = $"Data Source={Path.Combine(Root, "catalog.db")}",
            ["EdgeRouter:Uploads:SpoolDirectory"] = Path.Combine(Root, "spool"),
            ["EdgeRouter:Health:ProbeInterval"] = "01:00:00",
            ["EDGEROUTER_API_KEY"] = ApiKey,
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            _settings[key] = value;
        }
    }

    public string Root { get; }

    public string StoragesPath => Path.Combine(Root, "config", "storages.json");

    /// <summary>A client that sends the upload API key.</summary>
    public HttpClient CreateAuthorizedClient()
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
        return client;
    }

    public HttpClient CreateAnonymousClient() => CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    /// <summary>
    /// Every file under a folder of <see cref="Root"/>, relative to it, except a health probe's own file, which the
    /// background monitor writes and removes at any moment and which no request under test made.
    /// </summary>
    public IReadOnlyList<string> FilesUnder(string folder) => StoredFiles(Path.Combine(Root, folder));

    /// <summary>Every file under <paramref name="path"/>, relative to it, but a health probe's (see <see cref="FilesUnder"/>).</summary>
    public static IReadOnlyList<string> StoredFiles(string path)
        => Directory.Exists(path)
            ? Directory.GetFiles(path, "*", SearchOption.AllDirectories)
                .Where(f => !Path.GetFileName(f).StartsWith(".er-probe-", StringComparison.Ordinal))
                .Select(f => Path.GetRelativePath(path, f)).Order().ToList()
            : [];

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseContentRoot(Root);
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        if (_configureServices is not null)
        {
            builder.ConfigureServices(_configureServices);
        }
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open by a finishing request; the temp folder is cleaned by the OS.
        }
    }
}

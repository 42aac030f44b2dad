using System.Globalization;
using System.Net;
using System.Text.Json;
using EdgeRouter.Storage;
using EdgeRouter.Storage.Swift;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.Storage.Swift;

/// <summary>
/// A real one-node OpenStack Swift on loopback (Debian's swift-proxy, -account, -container and -object servers,
/// one replica on a plain folder, tempauth backed by memcached), started once for all Swift tests. Its
/// configuration and rings are written by <c>tests/servers/swift-node.sh</c>. The container is publicly
/// readable (<c>.r:*</c>), so mapped URLs resolve, and the account has a Temp-URL key for presigned reads.
/// </summary>
public sealed class SwiftFixture : IAsyncLifetime
{
    public const string User = "test:tester";
    public const string Key = "testing";
    public const string Container = "edgerouter";
    public const string TempUrlKey = "temp-url-key-for-tests";

    private readonly string _folder = Directory.CreateTempSubdirectory("edgerouter-swift-").FullName;
    private readonly List<ServerProcess> _backends = [];
    private ServerProcess? _proxy;

    public int ProxyPort { get; } = ServerProcess.FreePort();

    public string AuthUrl => $"http://127.0.0.1:{ProxyPort}/auth/v1.0";

    public string AccountUrl => $"http://127.0.0.1:{ProxyPort}/v1/AUTH_test";

    public string ContainerUrl => $"{AccountUrl}/{Container}/";

    public HttpClient Direct { get; } = new();

    public async Task InitializeAsync()
    {
        int account = ServerProcess.FreePort(), container = ServerProcess.FreePort(), objects = ServerProcess.FreePort(), memcached = ServerProcess.FreePort();
        var script = Path.Combine(Repository.Root, "tests", "servers", "swift-node.sh");
        var (exit, output) = Commands.Run("bash", script, _folder, Port(ProxyPort), Port(account), Port(container), Port(objects), Port(memcached));
        if (exit != 0)
        {
            throw new InvalidOperationException($"swift-node.sh failed ({exit}); run scripts/test-deps.sh to install Swift. {output}");
        }

        _backends.Add(new ServerProcess("memcached", "/usr/bin/memcached", ["-l", "127.0.0.1", "-p", Port(memcached), "-U", "0", "-m", "32", "-u", Environment.UserName], memcached));
        foreach (var (server, port) in new[] { ("account", account), ("container", container), ("object", objects) })
        {
            _backends.Add(new ServerProcess($"swift-{server}", $"/usr/bin/swift-{server}-server", [Path.Combine(_folder, "etc", $"{server}-server.conf")], port));
        }

        foreach (var backend in _backends)
        {
            await backend.StartAsync(TimeSpan.FromSeconds(30));
        }

        await StartProxyAsync();
        var token = await TokenAsync();
        await SendAsync(HttpMethod.Post, AccountUrl, token, ("X-Account-Meta-Temp-URL-Key", TempUrlKey));
        await SendAsync(HttpMethod.Put, ContainerUrl.TrimEnd('/'), token, ("X-Container-Read", ".r:*"));
    }

    public async Task StartProxyAsync()
    {
        _proxy = new ServerProcess("swift-proxy", "/usr/bin/swift-proxy-server", [Path.Combine(_folder, "etc", "proxy-server.conf")], ProxyPort);
        await _proxy.StartAsync(TimeSpan.FromSeconds(30));
    }

    public Task StopProxyAsync() => _proxy?.StopAsync() ?? Task.CompletedTask;

    /// <summary>A tempauth token, as <c>X-Auth-Token</c> gives it.</summary>
    public async Task<string> TokenAsync()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, AuthUrl) { Headers = { { "X-Auth-User", User }, { "X-Auth-Key", Key } } };
        using var response = await Direct.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return response.Headers.GetValues("X-Auth-Token").Single();
    }

    /// <summary>A storages.json entry for this Swift through tempauth (v1).</summary>
    public string StorageJson(string id = "swift", string read = "stream", int weight = 1, string? prefix = null, int segmentSizeBytes = 1048576) => $$"""
        { "id": "{{id}}", "api": "swift", "read": "{{read}}", "weight": {{weight}}, "storageUrl": "{{ContainerUrl}}{{prefix}}",
          "authUrl": "{{AuthUrl}}", "authVersion": 1, "username": "{{User}}", "password": "{{Key}}", "container": "{{Container}}",
          "prefix": "{{prefix}}", "segmentSizeBytes": {{segmentSizeBytes}}, "tempUrlKey": "{{TempUrlKey}}", "timeoutSeconds": 10,
          "cacheControl": "public, max-age=86400" }
        """;

    public IObjectStore CreateStore(string? prefix = null) => TestStores.Create(new SwiftStorageProvider(TimeProvider.System), StorageJson(prefix: prefix), _folder);

    /// <summary>The object's headers straight from Swift, or null when it is not there.</summary>
    public async Task<HttpResponseMessage?> HeadAsync(string name)
    {
        var response = await SendAsync(HttpMethod.Head, ContainerUrl + string.Join('/', name.Split('/').Select(Uri.EscapeDataString)), await TokenAsync(), ensureSuccess: false);
        return response.StatusCode == HttpStatusCode.NotFound ? null : response;
    }

    /// <summary>Every object name in the container.</summary>
    public async Task<IReadOnlyList<string>> ListAsync()
    {
        using var response = await SendAsync(HttpMethod.Get, ContainerUrl.TrimEnd('/') + "?format=json&limit=10000", await TokenAsync());
        using var list = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return list.RootElement.EnumerateArray().Select(o => o.GetProperty("name").GetString()!).ToList();
    }

    public async Task DisposeAsync()
    {
        await StopProxyAsync();
        foreach (var backend in _backends)
        {
            await backend.StopAsync();
        }

        Direct.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string url, string token, params (string Name, string Value)[] headers)
        => SendAsync(method, url, token, ensureSuccess: true, headers);

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string url, string token, bool ensureSuccess, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(method, url) { Headers = { { "X-Auth-Token", token } } };
        foreach (var (name, value) in headers)
        {
            request.Headers.Add(name, value);
        }

        var response = await Direct.SendAsync(request);
        return ensureSuccess ? response.EnsureSuccessStatusCode() : response;
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);
}

[CollectionDefinition(Name)]
public sealed class SwiftGroup : ICollectionFixture<SwiftFixture>
{
    public const string Name = "swift";
}

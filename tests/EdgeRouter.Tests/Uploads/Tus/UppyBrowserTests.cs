using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeRouter.Tests.Admin.Browser;
using EdgeRouter.Tests.TestUtilities;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace EdgeRouter.Tests.Uploads.Tus;

/// <summary>
/// Uppy (core + tus 6.x), bundled for a page on another origin than the router's, uploads an image the page drew, in
/// Debian's Chromium: a real CORS preflight, progress events, and the image displayed from its site URL.
/// </summary>
[Collection(ChromiumGroup.Name)]
public sealed class UppyBrowserTests(ChromiumFixture chromium) : IDisposable
{
    private static readonly Lazy<string> Bundle = new(BuildBundle);
    private readonly WireMockServer _page = StartPage();

    public void Dispose()
    {
        _page.Stop();
        _page.Dispose();
    }

    [Fact]
    public async Task UppyOnAnAllowedOrigin_UploadsWithAToken_ShowsProgress_AndTheImageDisplaysFromItsSiteUrl()
    {
        using var router = Router(_page.Url!);
        var site = $"http://127.0.0.1:{router.Port}";
        var token = await MintAsync(site);
        var page = await OpenAsync();

        var report = await page.EvaluateAsync<JsonElement>("([endpoint, token]) => window.uploadWithUppy(endpoint, token)", new[] { site + "/api/v1/tus/", token });

        Assert.True(report.GetProperty("error").ValueKind == JsonValueKind.Null, report.ToString());
        var progress = report.GetProperty("progress").EnumerateArray().Select(p => p.GetInt64()).ToList();
        Assert.True(progress.Count >= 3, $"Uppy reported {progress.Count} progress events for {report.GetProperty("size")} bytes in 128 KiB chunks.");
        Assert.Equal(progress.Order(), progress);
        Assert.Equal(report.GetProperty("size").GetInt64(), progress[^1]);
        var key = report.GetProperty("key").GetString()!;
        Assert.StartsWith("browser/", key, StringComparison.Ordinal);
        Assert.Equal(512, await page.EvaluateAsync<int>("url => window.showImage(url)", $"{site}/{key}"));
    }

    [Fact]
    public async Task UppyOnAnOriginNotAllowed_IsStoppedByThePreflight_AndNothingIsStored()
    {
        using var router = Router("https://app.example.com");
        var site = $"http://127.0.0.1:{router.Port}";
        var token = await MintAsync(site);
        var page = await OpenAsync();

        var report = await page.EvaluateAsync<JsonElement>("([endpoint, token]) => window.uploadWithUppy(endpoint, token)", new[] { site + "/api/v1/tus/", token });

        Assert.NotEqual(JsonValueKind.Null, report.GetProperty("error").ValueKind);
        Assert.Empty(router.Factory.FilesUnder("store"));
    }

    private async Task<Microsoft.Playwright.IPage> OpenAsync()
    {
        var context = await chromium.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(_page.Url + "/");
        return page;
    }

    private static async Task<string> MintAsync(string site)
    {
        using var backend = new HttpClient { BaseAddress = new Uri(site) };
        backend.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", RouterFactory.ApiKey);
        using var minted = await backend.PostAsJsonAsync("/api/v1/upload-tokens", new { keyPrefix = "browser/", contentTypes = new[] { "image/png" } });
        Assert.Equal(HttpStatusCode.Created, minted.StatusCode);
        return (string)(await minted.Content.ReadFromJsonAsync<JsonObject>())!["token"]!;
    }

    private static KestrelRouter Router(string allowedOrigin)
    {
        var factory = new RouterFactory(
            """{ "storages": [ { "id": "main", "api": "local", "root": "store", "read": "stream" } ] }""",
            settings: new Dictionary<string, string?>
            {
                ["EdgeRouter:Uploads:Tokens:SigningKeys:0:Id"] = "k1",
                ["EdgeRouter:Uploads:Tokens:SigningKeys:0:Secret"] = "uppy-browser-secret-that-is-long-enough",
                ["EdgeRouter:Uploads:Cors:AllowedOrigins:0"] = allowedOrigin,
            });
        var port = ServerProcess.FreePort();
        factory.UseKestrel(port);
        factory.StartServer();
        return new KestrelRouter(factory, port);
    }

    /// <summary>The web app's page, on its own origin: a bare HTML page and the Uppy bundle.</summary>
    private static WireMockServer StartPage()
    {
        var server = WireMockServer.Start();
        server.Given(Request.Create().WithPath("/").UsingGet())
            .RespondWith(Response.Create().WithHeader("Content-Type", "text/html; charset=utf-8").WithBody("<!doctype html><html><head><title>App</title><script src=\"/uppy.js\"></script></head><body></body></html>"));
        server.Given(Request.Create().WithPath("/uppy.js").UsingGet())
            .RespondWith(Response.Create().WithHeader("Content-Type", "text/javascript").WithBody(Bundle.Value));
        return server;
    }

    /// <summary>Uppy and its tus plugin, as installed by scripts/test-deps.sh, bundled by esbuild for the browser.</summary>
    private static string BuildBundle()
    {
        var servers = Path.Combine(Repository.Root, "tests", "servers");
        var output = Path.Combine(Path.GetTempPath(), $"edgerouter-uppy-{Environment.ProcessId}.js");
        using var esbuild = Process.Start(new ProcessStartInfo(Path.Combine(servers, "node_modules", ".bin", "esbuild"), ["uppy/entry.mjs", "--bundle", "--format=iife", "--log-level=warning", "--outfile=" + output])
        {
            WorkingDirectory = servers,
            RedirectStandardError = true,
        })!;
        var errors = esbuild.StandardError.ReadToEnd();
        esbuild.WaitForExit();
        Assert.True(esbuild.ExitCode == 0, "esbuild could not bundle Uppy (run scripts/test-deps.sh): " + errors);
        return File.ReadAllText(output);
    }

    private sealed class KestrelRouter(RouterFactory factory, int port) : IDisposable
    {
        public RouterFactory Factory { get; } = factory;

        public int Port { get; } = port;

        public void Dispose() => Factory.Dispose();
    }
}

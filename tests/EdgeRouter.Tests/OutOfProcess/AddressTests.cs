using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.RegularExpressions;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.OutOfProcess;

/// <summary>The ways ASP.NET Core documents to choose the router's addresses all work, and so does the Dockerfile's.</summary>
public sealed partial class AddressTests : IDisposable
{
    private readonly List<string> _folders = [];

    public void Dispose()
    {
        foreach (var folder in _folders)
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task AspNetCoreUrls_IsWhereTheRouterListens()
    {
        var port = ServerProcess.FreePort();
        await using var router = await StartAsync(Folder(), ["dotnet", Dll], port, new() { ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}" });

        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://127.0.0.1:{port}/healthz")).StatusCode);
    }

    [Fact]
    public async Task KestrelEndpoints_WithACertificate_ServeAnHttpsOrigin()
    {
        var folder = Folder();
        using var certificate = TestCertificates.SelfSigned();
        var pfx = Path.Combine(folder, "origin.pfx");
        await File.WriteAllBytesAsync(pfx, certificate.Export(X509ContentType.Pfx, "secret"));
        var port = ServerProcess.FreePort();
        await using var router = await StartAsync(folder, ["dotnet", Dll], port, new()
        {
            ["Kestrel__Endpoints__Https__Url"] = $"https://127.0.0.1:{port}",
            ["Kestrel__Endpoints__Https__Certificate__Path"] = pfx,
            ["Kestrel__Endpoints__Https__Certificate__Password"] = "secret",
        });

        using var http = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, served, _, _) => served?.Thumbprint == certificate.Thumbprint });
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"https://127.0.0.1:{port}/healthz")).StatusCode);
    }

    /// <summary>
    /// No Docker daemon runs here, so the image's start is played from the Dockerfile itself: its ENV, its ENTRYPOINT
    /// from its WORKDIR, as a non-root user that owns only data/, and its HEALTHCHECK command. Only its port number is
    /// changed (to a free one), everywhere it appears.
    /// </summary>
    [Fact]
    public async Task TheDockerfilesEnvAndEntrypoint_AsANonRootUser_AnswerOnItsPort_AndItsHealthcheckPasses()
    {
        var dockerfile = await File.ReadAllTextAsync(Path.Combine(Repository.Root, "Dockerfile"));
        var port = ServerProcess.FreePort();
        string Port(string value) => value.Replace("8080", port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        var environment = EnvLines().Matches(Regex.Replace(dockerfile, @"\\\r?\n", " ")).SelectMany(m => m.Groups["pairs"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(pair => pair.Split('=', 2)).ToDictionary(p => p[0], p => Port(p[1]));
        var entrypoint = JsonSerializer.Deserialize<string[]>(Instruction().Match(dockerfile).Groups["json"].Value)!;
        var healthcheck = JsonSerializer.Deserialize<string[]>(HealthcheckCommand().Match(dockerfile).Groups["json"].Value)!.Select(Port).ToArray();
        Assert.Contains("ASPNETCORE_URLS", environment.Keys);
        Assert.Equal(["dotnet", "EdgeRouter.dll"], entrypoint);

        // /app: the published files, config/storages.json, and a data/ only the app user may write.
        var app = Folder();
        foreach (var entry in Directory.EnumerateFileSystemEntries(AppContext.BaseDirectory))
        {
            File.CreateSymbolicLink(Path.Combine(app, Path.GetFileName(entry)), entry);
        }

        const string AppUser = "1654"; // $APP_UID of the .NET runtime images
        Directory.CreateDirectory(Path.Combine(app, "data"));
        Assert.Equal(0, Commands.Run("chown", AppUser, Path.Combine(app, "data")).ExitCode);
        environment["EDGEROUTER_API_KEY"] = RouterHost.ApiKey;
        environment["HOME"] = Path.Combine(app, "data");
        string[] asAppUser = ["setpriv", $"--reuid={AppUser}", $"--regid={AppUser}", "--clear-groups", "--"];

        await using var router = await StartAsync(app, [.. asAppUser, .. entrypoint], port, environment);

        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://127.0.0.1:{port}/healthz")).StatusCode);
        var check = Commands.RunIn(app, asAppUser[0], [.. asAppUser[1..], .. healthcheck]);
        Assert.True(check.ExitCode == 0, $"HEALTHCHECK failed ({check.ExitCode}): {check.Output}");
        var upload = await new HttpClient { DefaultRequestHeaders = { Authorization = new("Bearer", RouterHost.ApiKey) } }
            .PostAsync($"http://127.0.0.1:{port}/api/v1/objects", TestFiles.Raw(TestFiles.Png(), "image/png"));
        Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
    }

    private static string Dll => Path.Combine(AppContext.BaseDirectory, "EdgeRouter.dll");

    /// <summary>A working folder with the shipped config/storages.json, open to the app user.</summary>
    private string Folder()
    {
        var folder = Directory.CreateTempSubdirectory("edgerouter-addr-").FullName;
        _folders.Add(folder);
        File.SetUnixFileMode(folder, (UnixFileMode)0b111_101_101);
        Directory.CreateDirectory(Path.Combine(folder, "config"));
        File.Copy(Path.Combine(Repository.Root, "config", "storages.json"), Path.Combine(folder, "config", "storages.json"));
        return folder;
    }

    private static async Task<ServerProcess> StartAsync(string folder, string[] command, int port, Dictionary<string, string> environment)
    {
        environment.TryAdd("EDGEROUTER_API_KEY", RouterHost.ApiKey);
        environment.TryAdd("Logging__LogLevel__Default", "Warning");
        var router = new ServerProcess("router", command[0], command[1..], port, folder, environment);
        await router.StartAsync(TimeSpan.FromSeconds(60));
        return router;
    }

    [GeneratedRegex(@"^ENV\s+(?<pairs>.+)$", RegexOptions.Multiline)]
    private static partial Regex EnvLines();

    [GeneratedRegex(@"^ENTRYPOINT\s+(?<json>\[.*\])\s*$", RegexOptions.Multiline)]
    private static partial Regex Instruction();

    [GeneratedRegex(@"^HEALTHCHECK\s.*\bCMD\s+(?<json>\[.*\])\s*$", RegexOptions.Multiline)]
    private static partial Regex HealthcheckCommand();
}

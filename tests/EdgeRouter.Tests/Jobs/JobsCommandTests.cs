using System.Text.Json.Nodes;
using EdgeRouter.Jobs;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.Jobs;

/// <summary>The jobs CLI against a router: it starts a job, follows it to its end with a progress line, and says what went wrong.</summary>
public sealed class JobsCommandTests : IDisposable
{
    private readonly RouterFactory _router = JobsTestRouter.Create("""
        { "id": "main", "api": "local", "root": "data/main", "read": "stream" },
        { "id": "legacy", "api": "local", "root": "data/legacy", "read": "stream", "weight": 0 }
        """);

    public void Dispose() => _router.Dispose();

    [Fact]
    public async Task AnImport_IsStartedAndFollowedToItsEnd_WithAProgressLine_AndExit0()
    {
        for (var i = 0; i < 30; i++)
        {
            var path = Path.Combine(_router.Root, "data", "legacy", "cli", $"{i}.png");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllBytesAsync(path, TestFiles.Png(100 + i));
        }

        var (exit, output, error) = await RunAsync("import", "--storage", "legacy", "--prefix", "cli/", "--objects-per-second", "1000", "--no-hash");

        Assert.True(exit == 0, output + error);
        Assert.Matches(@"job \S+ queued", output);
        Assert.True(output.Contains("[##############################] 100%  30/30", StringComparison.Ordinal), output);
        Assert.Contains("succeeded", output, StringComparison.Ordinal);
        Assert.Contains("\"imported\": 30", output, StringComparison.Ordinal);
        using var admin = JobsTestRouter.AdminClient(_router);
        var objects = await admin.GetStringAsync("/admin/api/objects?prefix=cli/&limit=100");
        Assert.Equal(30, System.Text.RegularExpressions.Regex.Count(objects, "\"sha256\":null"));
        var (listed, list, _) = await RunAsync("list");
        Assert.Equal(0, listed);
        Assert.Contains("import", list, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "import", "--storage", "nope" }, "the router answered 400: 'storage': there is no storage 'nope'")]
    [InlineData(new[] { "migrate", "--from" }, "jobs: --from needs a value.")]
    [InlineData(new[] { "rebalance", "--tolerance", "lots" }, "jobs: --tolerance needs a number; 'lots' is not one.")]
    [InlineData(new[] { "import", "--sideways" }, "jobs: unknown option --sideways.")]
    [InlineData(new[] { "status", "no-such-job" }, "the router answered 404: There is no job 'no-such-job'.")]
    public async Task Mistakes_Exit2_SayingWhat(string[] args, string message)
    {
        var (exit, _, error) = await RunAsync(args);

        Assert.Equal(2, exit);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutTheAdminKey_NothingIsSent()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exit = await JobsCommand.RunAsync(["verify"], output, error, _ => null, _router.Server.CreateHandler());

        Assert.Equal(2, exit);
        Assert.Contains("set EDGEROUTER_ADMIN_KEY", error.ToString(), StringComparison.Ordinal);
        Assert.Equal("[]", await JobsTestRouter.AdminClient(_router).GetStringAsync("/admin/api/jobs"));
    }

    [Fact]
    public void TheProgressLine_ShowsShareCountRateBytesEtaAndErrors()
    {
        var job = JsonNode.Parse("""{ "state": "running", "processed": 250, "total": 1000, "objectsPerSecond": 50.0, "bytes": 3145728, "etaSeconds": 15.2, "errors": 2 }""")!.AsObject();

        Assert.Equal("[########----------------------]  25%  250/1,000  50.0/s  3.0 MiB  ETA 0:16  2 errors  running", JobsCommand.Progress(job));
    }

    private async Task<(int Exit, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var environment = new Dictionary<string, string> { ["EDGEROUTER_ADMIN_KEY"] = JobsTestRouter.AdminKey, ["EDGEROUTER_URL"] = "http://router.test" };
        var exit = await JobsCommand.RunAsync(args, output, error, name => environment.GetValueOrDefault(name), _router.Server.CreateHandler());
        return (exit, output.ToString(), error.ToString());
    }
}

using System.Globalization;
using System.Net;
using System.Text.Json;
using EdgeRouter.Tests.Jobs;
using EdgeRouter.Tests.OutOfProcess;
using EdgeRouter.Tests.TestUtilities;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace EdgeRouter.Tests.LoadTests;

/// <summary>Rates and latencies are measured here, so these tests run alone: nothing else competes for the two cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LoadToolGroup
{
    public const string Name = "load tool";
}

/// <summary>
/// <c>target</c>, the operators' load test, run as built against a real router (a child process, shipped settings)
/// and against a server that stalls.
/// </summary>
[Collection(LoadToolGroup.Name)]
public sealed class TargetCommandTests
{
    private const string RedirectStorage = """
        { "storages": [ { "id": "local", "api": "local", "root": "./data/storage", "weight": 1, "read": "redirect", "storageUrl": "https://cdn.example.com/" } ] }
        """;

    [Fact]
    public async Task TheArrivalRate_HoldsWithin2Percent_At1kAnd10kPerSecond_AndSeededObjectsAreRemovedAfterwards()
    {
        await using var router = new RouterHost(storagesJson: RedirectStorage);
        await router.StartAsync();

        using var run = await LoadTool.RunAsync(
            ["--url", router.BaseUrl, "--seed", "200", "--seed-size", "2KiB", "--upload-key", RouterHost.ApiKey, "--steps", "1000,10000", "--step-duration", "10s", "--warmup", "2s", "--slo-errors", "0.1%"]);

        Assert.True(run.ExitCode == 0, run.Output);
        foreach (var (index, rate) in new[] { (0, 1000.0), (1, 10_000.0) })
        {
            var step = run.Step(index);
            Assert.Equal(rate, step.GetProperty("targetRate").GetDouble());
            Assert.InRange(step.GetProperty("sentRate").GetDouble(), rate * 0.98, rate * 1.02);
            Assert.InRange(step.GetProperty("answeredRate").GetDouble(), rate * 0.98, rate * 1.02);
            Assert.Equal(0, step.GetProperty("errors").GetInt64());
            Assert.Equal(step.GetProperty("sent").GetInt64(), step.GetProperty("statusCodes").GetProperty("302").GetInt64());
            Assert.InRange(step.GetProperty("p50Ms").GetDouble(), 0.001, step.GetProperty("p99Ms").GetDouble());
            Assert.InRange(step.GetProperty("p99Ms").GetDouble(), step.GetProperty("p90Ms").GetDouble(), step.GetProperty("p999Ms").GetDouble());

            // Second by second too, not only on average: the median second of the step sends its rate within 2 %.
            var seconds = run.Report.GetProperty("timeline").EnumerateArray()
                .Where(s => s.GetProperty("at").GetInt32() is var at && at >= (index * 10) + 1 && at < (index * 10) + 9)
                .Select(s => (double)s.GetProperty("sent").GetInt64()).Order().ToList();
            Assert.InRange(seconds[seconds.Count / 2], rate * 0.98, rate * 1.02);
        }

        Assert.True(run.Report.GetProperty("sloMet").GetBoolean());
        Assert.Equal(1, run.Report.GetProperty("knee").GetProperty("step").GetInt32());
        Assert.Contains("**Knee: 10000/s", run.Markdown, StringComparison.Ordinal);
        Assert.Equal(6, run.Html.Descendants().Count(e => e.Name.LocalName == "svg"));
        Assert.Equal(3, run.Html.Descendants().Count(e => e.Name.LocalName == "tr"));
        Assert.Equal(200, run.Report.GetProperty("keys").GetProperty("count").GetInt32());

        // The upload key is a credential: the report's command line names it by a variable instead.
        Assert.DoesNotContain(RouterHost.ApiKey, File.ReadAllText(Path.Combine(run.Folder, "report.json")), StringComparison.Ordinal);
        Assert.Contains("removed 200 of the 200 seeded objects", run.Output, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(router.StoragePath, "loadtest"), "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task AgainstAServerThatStallsForOneSecond_TheOpenModelsP99HoldsTheStall_WhereAClosedLoopHidesIt()
    {
        var keys = Path.GetTempFileName();
        await File.WriteAllLinesAsync(keys, Enumerable.Range(0, 10).Select(i => $"stall/{i}.png"));
        try
        {
            await using (var server = await StallingServer.StartAsync())
            {
                using var open = await LoadTool.RunAsync(["--url", server.Url, "--keys", keys, "--inject", "500", "--duration", "4s", "--warmup", "0s", "--connections", "4", "--slo-p99", "100ms"]);

                // Every request due during the stall waited for it, most of them in the client's queue for one of
                // the 4 connections: a fifth of the requests, so the p99 is nearly the whole second.
                Assert.True(open.ExitCode == 3, open.Output);
                var step = open.Step(0);
                Assert.True(step.GetProperty("p99Ms").GetDouble() >= 800, step.ToString());
                Assert.True(step.GetProperty("p50Ms").GetDouble() < 50, step.ToString());
                Assert.False(step.GetProperty("sloMet").GetBoolean());
                Assert.False(open.Report.GetProperty("sloMet").GetBoolean());
                Assert.Equal(JsonValueKind.Null, open.Report.GetProperty("knee").ValueKind);
                Assert.Contains("SLO missed in: 500/s.", open.Markdown, StringComparison.Ordinal);
            }

            await using (var server = await StallingServer.StartAsync())
            {
                using var closed = await LoadTool.RunAsync(["--url", server.Url, "--keys", keys, "--concurrency", "4", "--duration", "4s", "--warmup", "0s"]);

                // The same stall seen by 4 clients in a closed loop: only the 4 requests in flight wait, and the
                // thousands sent around them make its p99 look fine (coordinated omission).
                Assert.True(closed.ExitCode == 0, closed.Output);
                var step = closed.Step(0);
                Assert.True(step.GetProperty("maxMs").GetDouble() >= 800, step.ToString());
                Assert.True(step.GetProperty("p99Ms").GetDouble() < 100, step.ToString());
                Assert.Equal(JsonValueKind.Null, step.GetProperty("targetRate").ValueKind);
                Assert.Equal(4, step.GetProperty("concurrency").GetInt32());
            }
        }
        finally
        {
            File.Delete(keys);
        }
    }

    [Fact]
    public async Task KeysFromAdmin_PageThroughEveryObject_AndTheirETagsRevalidate()
    {
        await using var router = new RouterHost(new Dictionary<string, string>
        {
            ["Admin__KeyHashes__0"] = JobsTestRouter.AdminKeyHash,
            ["EdgeRouter__Uploads__SyncToDisk"] = "false",
        });
        await router.StartAsync();
        const int Objects = 2_500;
        await Parallel.ForEachAsync(Enumerable.Range(0, Objects), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, cancellationToken) =>
        {
            using var response = await router.Client.PutAsync(string.Create(CultureInfo.InvariantCulture, $"/api/v1/objects/listed/{i:D4}.png"), TestFiles.Raw(TestFiles.Png(600 + (i % 7)), "image/png"), cancellationToken);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        });

        // Sequential picking at 2,500 requests: each key once; a tenth revalidate with the SHA-256 the admin listed.
        using var run = await LoadTool.RunAsync(
            ["--url", router.BaseUrl, "--keys-from-admin", router.BaseUrl + "admin", "--pick", "sequential", "--inject", "1250", "--duration", "2s", "--warmup", "0s", "--mix", "get=90,revalidate=10"],
            new Dictionary<string, string> { ["EDGEROUTER_ADMIN_KEY"] = JobsTestRouter.AdminKey });

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal(Objects, run.Report.GetProperty("keys").GetProperty("count").GetInt32());
        var step = run.Step(0);
        Assert.Equal(Objects, step.GetProperty("sent").GetInt64());
        Assert.Equal(0, step.GetProperty("errors").GetInt64());
        var statuses = step.GetProperty("statusCodes");
        var notModified = statuses.GetProperty("304").GetInt64();
        Assert.Equal(Objects, statuses.GetProperty("200").GetInt64() + notModified);
        Assert.Equal(step.GetProperty("kinds").GetProperty("revalidate").GetInt64(), notModified);
        Assert.InRange(notModified, 150, 350);
    }

    [Fact]
    public async Task WrongOptions_AreRefusedWithTheOptionNamed_AndAnUnreachableAdmin_Fails()
    {
        using var usage = await LoadTool.RunAsync(["--url", "http://127.0.0.1:1", "--keys", "k.txt", "--ramp", "500:x:60s"]);
        Assert.Equal(2, usage.ExitCode);
        Assert.Contains("--ramp: 'x' is not a rate in requests per second", usage.Output, StringComparison.Ordinal);

        using var noKey = await LoadTool.RunAsync(["--url", "http://127.0.0.1:1", "--keys-from-admin", "http://127.0.0.1:1/admin", "--inject", "10"], new Dictionary<string, string> { ["EDGEROUTER_ADMIN_KEY"] = string.Empty });
        Assert.Equal(2, noKey.ExitCode);
        Assert.Contains("--keys-from-admin needs the admin key in the environment variable EDGEROUTER_ADMIN_KEY.", noKey.Output, StringComparison.Ordinal);

        using var refused = await LoadTool.RunAsync(["--url", "http://127.0.0.1:1", "--keys-from-admin", $"http://127.0.0.1:{ServerProcess.FreePort()}/admin", "--inject", "10"], new Dictionary<string, string> { ["EDGEROUTER_ADMIN_KEY"] = "k" });
        Assert.Equal(1, refused.ExitCode);
        Assert.False(File.Exists(Path.Combine(refused.Folder, "report.json")));
    }

    /// <summary>Answers every GET at once, except that from 1.5 s after its first request, for one second, it answers nothing.</summary>
    private sealed class StallingServer : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private long _stallFrom;

        private StallingServer(WebApplication app, string url) => (_app, Url) = (app, url);

        public string Url { get; }

        public static async Task<StallingServer> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            var url = $"http://127.0.0.1:{ServerProcess.FreePort().ToString(CultureInfo.InvariantCulture)}/";
            builder.WebHost.UseUrls(url);
            var app = builder.Build();
            var server = new StallingServer(app, url);
            app.MapGet("/{**key}", (Delegate)server.AnswerAsync);
            await app.StartAsync();
            return server;
        }

        private async Task<IResult> AnswerAsync(HttpContext context)
        {
            var now = Environment.TickCount64;
            Interlocked.CompareExchange(ref _stallFrom, now + 1500, 0);
            var from = Interlocked.Read(ref _stallFrom);
            if (now >= from && now < from + 1000)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(from + 1000 - now), context.RequestAborted);
            }

            return Results.Text("ok");
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}

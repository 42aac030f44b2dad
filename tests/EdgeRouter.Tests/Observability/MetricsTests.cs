using System.Net;
using EdgeRouter.Tests.OutOfProcess;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.Observability;

/// <summary>The router as a process, scraped by a real Prometheus; and who may read <c>/metrics</c>.</summary>
public sealed class MetricsTests
{
    [Fact]
    public async Task ARealPrometheus_ScrapesTheRouter_AndCountsItsUploadsReadsAndBackendCallsByStorage()
    {
        await using var router = new RouterHost();
        await router.StartAsync();
        await using var prometheus = new PrometheusServer(new Uri(router.BaseUrl).Authority);
        await prometheus.StartAsync();

        for (var i = 0; i < 5; i++)
        {
            using var created = await router.Client.PutAsync($"/api/v1/objects/scraped/{i}.png", TestFiles.Raw(TestFiles.Png(), "image/png"));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        for (var i = 0; i < 7; i++)
        {
            using var read = await router.Client.GetAsync($"/scraped/{i % 5}.png");
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        }

        await router.Client.GetAsync("/scraped/none.png");

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var uploads = await prometheus.QueryAsync("sum by (storage, outcome) (edgerouter_uploads_total)");
            var reads = await prometheus.QueryAsync("sum by (mode, outcome) (edgerouter_reads_total)");
            var healthy = await prometheus.QueryAsync("edgerouter_storage_healthy");
            var readsByStorage = await prometheus.QueryAsync("sum by (storage) (edgerouter_read_duration_seconds_count)");
            var puts = await prometheus.QueryAsync("sum by (storage) (edgerouter_storage_operation_duration_seconds_count{operation=\"put\"})");
            var commits = await prometheus.QueryAsync("sum(edgerouter_catalog_query_duration_seconds_count{operation=\"commit\"})");
            if (uploads.Any(s => s.Labels["storage"] == "local" && s.Value == 5)
                && readsByStorage.Any(s => s.Labels["storage"] == "local" && s.Value == 7)
                && reads.Any(s => s.Labels["mode"] == "stream" && s.Labels["outcome"] == "full" && s.Value == 7)
                && reads.Any(s => s.Labels["outcome"] == "not-found" && s.Value == 1)
                && puts.Any(s => s.Labels["storage"] == "local" && s.Value == 5)
                && commits.Any(s => s.Value == 5))
            {
                Assert.Equal("stored", Assert.Single(uploads).Labels["outcome"]);
                Assert.Equal(1, Assert.Single(healthy, s => s.Labels["storage"] == "local").Value);
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Prometheus did not see the counts in time: uploads {Describe(uploads)}; reads {Describe(reads)}; reads by storage {Describe(readsByStorage)}; puts {Describe(puts)}; commits {Describe(commits)}; targets {await prometheus.TargetsAsync()}");
            await Task.Delay(500);
        }
    }

    [Fact]
    public async Task Metrics_AnswerOnlyTheAllowedNetworks_OrOnlyTheAdminPort()
    {
        await using var elsewhere = new RouterHost(new Dictionary<string, string> { ["EdgeRouter__Metrics__AllowedNetworks__0"] = "10.0.0.0/8" });
        await elsewhere.StartAsync();
        await using var local = new RouterHost();
        await local.StartAsync();

        Assert.Equal(HttpStatusCode.NotFound, (await elsewhere.Client.GetAsync("/metrics")).StatusCode);
        var scraped = await local.Client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, scraped.StatusCode);
        Assert.Contains("# TYPE edgerouter_storage_healthy gauge", await scraped.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // With an admin port, /metrics is there and only there, even for a client on loopback.
        await using var withAdmin = new RouterHost(adminPort: ServerProcess.FreePort());
        await withAdmin.StartAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await withAdmin.Client.GetAsync("/metrics")).StatusCode);
        var onAdminPort = await withAdmin.Client.GetAsync($"http://127.0.0.1:{withAdmin.AdminPort}/metrics");
        Assert.Equal(HttpStatusCode.OK, onAdminPort.StatusCode);
        Assert.Contains("# TYPE edgerouter_storage_healthy gauge", await onAdminPort.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static string Describe(IEnumerable<(IReadOnlyDictionary<string, string> Labels, double Value)> samples)
        => string.Join("; ", samples.Select(s => $"{{{string.Join(",", s.Labels.Select(l => $"{l.Key}={l.Value}"))}}} {s.Value}"));
}

using System.Net;
using EdgeRouter.Tests.OutOfProcess;
using EdgeRouter.Tests.TestUtilities;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace EdgeRouter.Tests.Observability;

/// <summary>
/// The router as a process exporting over OTLP/HTTP to a collector (WireMock stands in for one: no OpenTelemetry
/// Collector runs here; an empty 200 is a successful export): metrics, traces and logs when the endpoint is set, and
/// not the signal whose standard <c>OTEL_*_EXPORTER</c> is <c>none</c>.
/// </summary>
public sealed class OtlpExportTests : IDisposable
{
    private readonly WireMockServer _collector = WireMockServer.Start();

    public OtlpExportTests() => _collector.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(200));

    public void Dispose() => _collector.Stop();

    [Theory]
    [InlineData(null)]
    [InlineData("traces")]
    [InlineData("metrics")]
    public async Task EverySignalGoesToTheCollector_ButOneWhoseExporterIsNone(string? none)
    {
        var settings = new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = _collector.Url!,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_TRACES_SAMPLER"] = "always_on",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            ["OTEL_BLRP_SCHEDULE_DELAY"] = "200",
        };
        if (none is not null)
        {
            settings[$"OTEL_{none.ToUpperInvariant()}_EXPORTER"] = "none";
        }

        await using var router = new RouterHost(settings);
        await router.StartAsync();
        Assert.Equal(HttpStatusCode.Created, (await router.Client.PutAsync("/api/v1/objects/otlp/a.png", TestFiles.Raw(TestFiles.Png(), "image/png"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await router.Client.GetAsync("/otlp/a.png")).StatusCode);

        // Metrics every half second, spans and logs within a fifth of that: the one left out would be there by now.
        string[] expected = [.. new[] { "traces", "metrics", "logs" }.Where(signal => signal != none)];
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!expected.All(signal => Posted($"/v1/{signal}")))
        {
            Assert.True(DateTime.UtcNow < deadline, $"The collector got: {string.Join(", ", _collector.LogEntries.Select(e => e.RequestMessage.Path))}");
            await Task.Delay(200);
        }

        await Task.Delay(TimeSpan.FromSeconds(1));
        if (none is not null)
        {
            Assert.False(Posted($"/v1/{none}"));
        }

        Assert.All(_collector.LogEntries, e => Assert.Equal("application/x-protobuf", e.RequestMessage.Headers!["Content-Type"].ToString()));
    }

    private bool Posted(string path) => _collector.LogEntries.Any(e => e.RequestMessage.Path == path);
}

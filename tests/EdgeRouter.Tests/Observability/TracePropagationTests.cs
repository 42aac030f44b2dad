using System.Diagnostics;
using System.Net;
using EdgeRouter.Tests.OutOfProcess;
using EdgeRouter.Tests.Storage.Gcs;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.Observability;

/// <summary>
/// With tracing on (an OTLP endpoint set), the router as a process passes the caller's trace on to the backend it
/// calls: through the storage's SDK in <c>stream</c> mode and through YARP in <c>proxy</c> mode, each with a span id of
/// its own, so a slow read can be followed into the backend's logs; a caller's trace that is not sampled is passed on
/// as such.
/// </summary>
[Collection(GcsGroup.Name)]
public sealed class TracePropagationTests(GcsFixture gcs)
{
    [Theory]
    [InlineData("stream", "01")]
    [InlineData("proxy", "01")]
    [InlineData("stream", "00")]
    [InlineData("proxy", "00")]
    public async Task AReadCarriesTheCallersTraceAndDecisionToTheBackend(string read, string flags)
    {
        var propagated = await TraceparentAtTheBackendAsync(read, flags);
        Assert.StartsWith($"00-{propagated.Trace}-", propagated.Header, StringComparison.Ordinal);
        Assert.EndsWith($"-{flags}", propagated.Header, StringComparison.Ordinal);
        Assert.DoesNotContain(propagated.CallerSpan.ToString(), propagated.Header, StringComparison.Ordinal);
    }

    private async Task<(ActivityTraceId Trace, ActivitySpanId CallerSpan, string Header)> TraceparentAtTheBackendAsync(string read, string flags)
    {
        await using var router = new RouterHost(
            new Dictionary<string, string> { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{ServerProcess.FreePort()}" },
            storagesJson: $$"""{ "storages": [ {{gcs.StorageJson(read: read)}} ] }""");
        await router.StartAsync();
        var key = $"traced/{read}-{Guid.NewGuid():N}.png";
        Assert.Equal(HttpStatusCode.Created, (await router.Client.PutAsync($"/api/v1/objects/{key}", TestFiles.Raw(TestFiles.Png(), "image/png"))).StatusCode);

        var trace = ActivityTraceId.CreateRandom();
        var callerSpan = ActivitySpanId.CreateRandom();
        using var caller = new HttpClient(new SocketsHttpHandler { ActivityHeadersPropagator = null, AllowAutoRedirect = false });
        using var request = new HttpRequestMessage(HttpMethod.Get, router.BaseUrl + key);
        request.Headers.Add("traceparent", $"00-{trace}-{callerSpan}-{flags}");
        using var response = await caller.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var backendCalls = gcs.Server.Server.LogEntries
            .Where(e => Uri.UnescapeDataString(e.RequestMessage.Url).Contains(key, StringComparison.Ordinal) && e.RequestMessage.Method == "GET")
            .Select(e => e.RequestMessage.Headers?.TryGetValue("traceparent", out var values) == true ? values.ToString() : "(none)")
            .ToList();
        return (trace, callerSpan, Assert.Single(backendCalls));
    }
}

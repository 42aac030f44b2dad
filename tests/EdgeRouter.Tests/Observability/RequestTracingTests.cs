using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.Observability;

/// <summary>
/// Request spans with tracing on: a request the sampler will not keep and that brings no <c>traceparent</c> gets no
/// span at all (that is what keeps tracing cheap); a caller's trace is always continued, recorded or not, as its
/// flag says; a request the root ratio picks is a recorded root with the read beneath it.
/// </summary>
[Collection(TracingCollection.Name)]
public sealed class RequestTracingTests : IDisposable
{
    // No say in sampling: what is recorded is the router's sampler's decision alone.
    private readonly SpanRecorder _recorder = new(ActivitySamplingResult.None);

    private ConcurrentQueue<Activity> Spans => _recorder.Spans;

    public void Dispose() => _recorder.Dispose();

    [Fact]
    public async Task WithoutAPickNoSpanExists_AndACallersTraceIsContinuedAsItsFlagSays()
    {
        using var factory = Router("0");
        using var client = factory.CreateAuthorizedClient();
        Assert.Equal(HttpStatusCode.Created, (await client.PutAsync("/api/v1/objects/rt0/a.png", TestFiles.Raw(TestFiles.Png(), "image/png"))).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/rt0/a.png")).StatusCode);
        Assert.Empty(Spans);

        var (sampledTrace, sampledCaller) = (ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom());
        Assert.Equal(HttpStatusCode.OK, (await Get(client, "/rt0/a.png", $"00-{sampledTrace}-{sampledCaller}-01")).StatusCode);
        var sampled = Assert.Single(Spans, s => s.Kind == ActivityKind.Server && s.TraceId == sampledTrace);
        Assert.True(sampled.Recorded);
        Assert.Equal(sampledCaller, sampled.ParentSpanId);
        Assert.Equal("GET", sampled.GetTagItem("http.request.method"));
        Assert.Equal("/rt0/a.png", sampled.GetTagItem("url.path"));
        Assert.Equal(200, sampled.GetTagItem("http.response.status_code"));
        Assert.Contains(Spans, s => s.OperationName == "read" && s.ParentSpanId == sampled.SpanId);

        var unsampledTrace = ActivityTraceId.CreateRandom();
        Assert.Equal(HttpStatusCode.NotFound, (await Get(client, "/rt0/missing.png", $"00-{unsampledTrace}-{ActivitySpanId.CreateRandom()}-00")).StatusCode);
        var unsampled = Assert.Single(Spans, s => s.Kind == ActivityKind.Server && s.TraceId == unsampledTrace);
        Assert.False(unsampled.Recorded);
        Assert.DoesNotContain(Spans, s => s.OperationName == "read" && s.TraceId == unsampledTrace);
    }

    [Fact]
    public async Task ARequestTheRootRatioPicks_IsARecordedRootWithItsStatus()
    {
        using var factory = Router("1");
        using var client = factory.CreateAuthorizedClient();
        Assert.Equal(HttpStatusCode.Created, (await client.PutAsync("/api/v1/objects/rt1/a.png", TestFiles.Raw(TestFiles.Png(), "image/png"))).StatusCode);

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/rt1/missing.png")).StatusCode);

        var request = Assert.Single(Spans, s => s.Kind == ActivityKind.Server && (string?)s.GetTagItem("url.path") == "/rt1/missing.png");
        Assert.True(request.Recorded);
        Assert.Equal(default, request.ParentSpanId);
        Assert.Equal(404, request.GetTagItem("http.response.status_code"));
        Assert.Contains(Spans, s => s.OperationName == "read" && s.ParentSpanId == request.SpanId);
        var upload = Assert.Single(Spans, s => s.Kind == ActivityKind.Server && (string?)s.GetTagItem("url.path") == "/api/v1/objects/rt1/a.png");
        Assert.Contains(Spans, s => s.OperationName == "upload" && s.ParentSpanId == upload.SpanId);
    }

    private static Task<HttpResponseMessage> Get(HttpClient client, string path, string traceparent)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("traceparent", traceparent);
        return client.SendAsync(request);
    }

    // Tracing on (an OTLP endpoint that nothing answers: export failures are the exporter's) with a root ratio of 0 or 1.
    private static RouterFactory Router(string ratio) => new(
        """{ "storages": [ { "id": "rt-local", "api": "local", "root": "s", "read": "stream" } ] }""",
        settings: new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{ServerProcess.FreePort()}",
            ["OTEL_TRACES_SAMPLER"] = "parentbased_traceidratio",
            ["OTEL_TRACES_SAMPLER_ARG"] = ratio,
        });
}

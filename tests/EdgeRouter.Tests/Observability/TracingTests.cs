using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.Observability;

/// <summary>The router's spans, as an exporter would receive them: an upload with its steps, a failover as two writes, a read with its lookup.</summary>
[Collection(TracingCollection.Name)]
public sealed class TracingTests : IDisposable
{
    private readonly SpanRecorder _recorder = new(ActivitySamplingResult.AllDataAndRecorded);

    private ConcurrentQueue<Activity> Spans => _recorder.Spans;

    public void Dispose() => _recorder.Dispose();

    [Fact]
    public async Task AnUploadThatFailsOver_IsOneSpanWithSniffPlacementsTwoWritesAndTheCommit_AndAReadHasItsLookup()
    {
        // 'gone' weighs far more and nothing answers it: the upload is placed there first, then fails over to 'local'.
        // The listener hears every router in this process: the storage ids are this test's own.
        using var factory = new RouterFactory($$"""
            { "storages": [
              { "id": "traced-local", "api": "local", "root": "s", "read": "stream", "weight": 1 },
              { "id": "traced-gone", "api": "s3compatible", "read": "stream", "weight": 1000000, "endpoint": "http://127.0.0.1:{{ServerProcess.FreePort()}}",
                "pathStyle": true, "bucket": "bucket", "accessKey": "AKIAEXAMPLE", "secretKey": "secret" } ] }
            """,
            settings: new Dictionary<string, string?> { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{ServerProcess.FreePort()}", ["OTEL_TRACES_SAMPLER"] = "always_on" });
        using var client = factory.CreateAuthorizedClient();

        Assert.Equal(HttpStatusCode.Created, (await client.PutAsync("/api/v1/objects/traced/a.png", TestFiles.Raw(TestFiles.Png(), "image/png"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/traced/a.png")).StatusCode);

        var upload = Assert.Single(Spans, s => s.OperationName == "upload" && Within(s, "write", w => w.GetTagItem("edgerouter.storage") as string == "traced-gone"));
        var steps = Spans.Where(s => s.TraceId == upload.TraceId && s.ParentSpanId == upload.SpanId).ToList();
        Assert.Single(steps, s => s.OperationName == "sniff");
        Assert.Equal(2, steps.Count(s => s.OperationName == "place"));
        var writes = steps.Where(s => s.OperationName == "write").ToList();
        Assert.Equal(["traced-gone", "traced-local"], writes.Select(w => (string)w.GetTagItem("edgerouter.storage")!));
        Assert.Equal([ActivityStatusCode.Error, ActivityStatusCode.Unset], writes.Select(w => w.Status));
        Assert.Single(steps, s => s.OperationName == "commit");

        var read = Assert.Single(Spans, s => s.OperationName == "read" && s.TraceId != upload.TraceId && Within(s, "lookup", _ => true) && (string?)s.GetTagItem("edgerouter.storage") == "traced-local");
        Assert.Equal("stream", read.GetTagItem("edgerouter.read_mode"));
        Assert.Contains(Spans, s => s.OperationName == "stream" && s.ParentSpanId == read.SpanId);
    }

    private bool Within(Activity parent, string operation, Func<Activity, bool> match)
        => Spans.Any(s => s.ParentSpanId == parent.SpanId && s.TraceId == parent.TraceId && s.OperationName == operation && match(s));
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using EdgeRouter.Observability;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.Observability;

/// <summary>The router's spans, as an exporter would receive them: an upload with its steps, a failover as two writes, a read with its lookup.</summary>
public sealed class TracingTests : IDisposable
{
    private readonly ConcurrentQueue<Activity> _spans = new();
    private readonly ActivityListener _listener;

    public TracingTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == EdgeRouterTelemetry.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _spans.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose() => _listener.Dispose();

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
            """);
        using var client = factory.CreateAuthorizedClient();

        Assert.Equal(HttpStatusCode.Created, (await client.PutAsync("/api/v1/objects/traced/a.png", TestFiles.Raw(TestFiles.Png(), "image/png"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/traced/a.png")).StatusCode);

        var upload = Assert.Single(_spans, s => s.OperationName == "upload" && Within(s, "write", w => w.GetTagItem("edgerouter.storage") as string == "traced-gone"));
        var steps = _spans.Where(s => s.TraceId == upload.TraceId && s.ParentSpanId == upload.SpanId).ToList();
        Assert.Single(steps, s => s.OperationName == "sniff");
        Assert.Equal(2, steps.Count(s => s.OperationName == "place"));
        var writes = steps.Where(s => s.OperationName == "write").ToList();
        Assert.Equal(["traced-gone", "traced-local"], writes.Select(w => (string)w.GetTagItem("edgerouter.storage")!));
        Assert.Equal([ActivityStatusCode.Error, ActivityStatusCode.Unset], writes.Select(w => w.Status));
        Assert.Single(steps, s => s.OperationName == "commit");

        var read = Assert.Single(_spans, s => s.OperationName == "read" && s.TraceId != upload.TraceId && Within(s, "lookup", _ => true) && (string?)s.GetTagItem("edgerouter.storage") == "traced-local");
        Assert.Equal("stream", read.GetTagItem("edgerouter.read_mode"));
        Assert.Contains(_spans, s => s.OperationName == "stream" && s.ParentSpanId == read.SpanId);
    }

    private bool Within(Activity parent, string operation, Func<Activity, bool> match)
        => _spans.Any(s => s.ParentSpanId == parent.SpanId && s.TraceId == parent.TraceId && s.OperationName == operation && match(s));
}

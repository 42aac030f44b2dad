using System.Collections.Concurrent;
using System.Diagnostics;
using EdgeRouter.Observability;

namespace EdgeRouter.Tests.Observability;

/// <summary>
/// Hears every span of the router's source in this process as an exporter would, once stopped. With
/// <see cref="ActivitySamplingResult.None"/> it has no say in sampling, so what is recorded is the router's decision.
/// </summary>
public sealed class SpanRecorder : IDisposable
{
    private readonly ActivityListener _listener;

    public SpanRecorder(ActivitySamplingResult sampling)
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == EdgeRouterTelemetry.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => sampling,
            ActivityStopped = Spans.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public ConcurrentQueue<Activity> Spans { get; } = new();

    public void Dispose() => _listener.Dispose();
}

/// <summary>Tests whose span listeners would sample each other's spans if they ran at once.</summary>
[CollectionDefinition(Name)]
public sealed class TracingCollection
{
    public const string Name = "Tracing";
}

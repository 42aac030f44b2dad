using System.Diagnostics;

namespace EdgeRouter.Observability;

/// <summary>
/// With JSON logs, every request gets an <see cref="Activity"/> even when no trace is exported, so each log line's
/// scopes carry its <c>TraceId</c> and <c>SpanId</c> (and a caller's <c>traceparent</c> is kept). The activity is
/// created for its ids only (<see cref="ActivitySamplingResult.PropagationData"/>): nothing is recorded.
/// </summary>
internal sealed class LogCorrelation : IHostedService, IDisposable
{
    private readonly ActivityListener _listener = new()
    {
        ShouldListenTo = source => source.Name == "Microsoft.AspNetCore",
        Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.PropagationData,
    };

    public Task StartAsync(CancellationToken cancellationToken)
    {
        ActivitySource.AddActivityListener(_listener);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _listener.Dispose();
}

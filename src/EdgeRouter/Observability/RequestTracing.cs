using System.Diagnostics;
using System.Globalization;
using OpenTelemetry.Trace;

namespace EdgeRouter.Observability;

/// <summary>
/// The span of each traced request. Once anyone listens to ASP.NET Core's activity source it makes an
/// <see cref="Activity"/> for every request, sampled or not, so that the decision and a caller's <c>traceparent</c> can be
/// passed on: 4-5 % of a hot redirect's CPU at 1 % sampling. Here a request gets a span only when the caller sent a
/// <c>traceparent</c> (its decision is followed by the sampler and passed on to the backends) or when the root ratio
/// picks it; the other 99 % cost one header lookup and one random number.
/// </summary>
internal sealed class RequestTracing(RequestDelegate next, RequestSampling sampling)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        var hasParent = ActivityContext.TryParse(request.Headers.TraceParent, request.Headers.TraceState, isRemote: true, out var parent);
        var picked = !hasParent && sampling.PicksRoot();
        if (!hasParent && !picked && !sampling.SpanForEveryRequest)
        {
            await next(context);
            return;
        }

        Activity? span;
        RequestSampling.Picked = picked;
        try
        {
            span = EdgeRouterTelemetry.Source.StartActivity(request.Method, ActivityKind.Server, parent);
        }
        finally
        {
            RequestSampling.Picked = false;
        }

        if (span is null)
        {
            await next(context);
            return;
        }

        using (span)
        {
            if (span.IsAllDataRequested)
            {
                span.SetTag("http.request.method", request.Method)
                    .SetTag("url.scheme", request.Scheme)
                    .SetTag("url.path", request.Path.Value)
                    .SetTag("server.address", request.Host.Host)
                    .SetTag("network.protocol.version", request.Protocol)
                    .SetTag("user_agent.original", request.Headers.UserAgent.ToString());
            }

            try
            {
                await next(context);
            }
            catch (Exception ex)
            {
                span.SetStatus(ActivityStatusCode.Error).SetTag("error.type", ex.GetType().FullName);
                throw;
            }

            if (span.IsAllDataRequested)
            {
                var status = context.Response.StatusCode;
                span.SetTag("http.response.status_code", status);
                if (status >= 500)
                {
                    span.SetStatus(ActivityStatusCode.Error).SetTag("error.type", status.ToString(CultureInfo.InvariantCulture));
                }
            }
        }
    }
}

/// <summary>
/// The standard <c>OTEL_TRACES_SAMPLER</c> and <c>OTEL_TRACES_SAMPLER_ARG</c>, split in two: the share of requests
/// without a caller's trace that <see cref="RequestTracing"/> picks before any span exists, and the sampler that
/// decides everything else (a caller's trace, spans made outside a request).
/// </summary>
internal sealed class RequestSampling
{
    /// <summary>Set while a request span the root ratio picked is being started, so the sampler records it.</summary>
    [ThreadStatic]
    internal static bool Picked;

    private readonly double _rootRatio;

    private RequestSampling(double rootRatio, Sampler? sampler, bool spanForEveryRequest)
    {
        _rootRatio = rootRatio;
        Sampler = sampler is null ? null : new PickedRequests(sampler);
        SpanForEveryRequest = spanForEveryRequest;
    }

    /// <summary>Null when <c>OTEL_TRACES_SAMPLER</c> names a sampler OpenTelemetry configures itself.</summary>
    public Sampler? Sampler { get; }

    /// <summary>
    /// Every request gets a span, recorded or not: JSON logs carry each line's trace and span id, and an unknown
    /// sampler sees every request.
    /// </summary>
    public bool SpanForEveryRequest { get; }

    public bool PicksRoot() => _rootRatio >= 1 || (_rootRatio > 0 && Random.Shared.NextDouble() < _rootRatio);

    /// <summary>Default: parent-based, one request in a hundred.</summary>
    public static RequestSampling FromConfiguration(IConfiguration configuration, bool spanForEveryRequest)
    {
        var name = configuration["OTEL_TRACES_SAMPLER"]?.Trim().ToLowerInvariant();
        var arg = double.TryParse(configuration["OTEL_TRACES_SAMPLER_ARG"], NumberStyles.Float, CultureInfo.InvariantCulture, out var a) && a is >= 0 and <= 1 ? a : (double?)null;
        return name switch
        {
            null or "" => new(0.01, new ParentBasedSampler(new TraceIdRatioBasedSampler(0.01)), spanForEveryRequest),
            "always_on" => new(1, new AlwaysOnSampler(), spanForEveryRequest),
            "always_off" => new(0, new AlwaysOffSampler(), spanForEveryRequest),
            "traceidratio" => new(arg ?? 1, new TraceIdRatioBasedSampler(arg ?? 1), spanForEveryRequest),
            "parentbased_always_on" => new(1, new ParentBasedSampler(new AlwaysOnSampler()), spanForEveryRequest),
            "parentbased_always_off" => new(0, new ParentBasedSampler(new AlwaysOffSampler()), spanForEveryRequest),
            "parentbased_traceidratio" => new(arg ?? 1, new ParentBasedSampler(new TraceIdRatioBasedSampler(arg ?? 1)), spanForEveryRequest),
            _ => new(1, null, spanForEveryRequest: true),
        };
    }

    /// <summary>A request span without a parent was decided before it existed; everything else, by the configured sampler.</summary>
    private sealed class PickedRequests(Sampler inner) : Sampler
    {
        private static readonly SamplingResult Record = new(SamplingDecision.RecordAndSample);
        private static readonly SamplingResult Drop = new(SamplingDecision.Drop);

        public override SamplingResult ShouldSample(in SamplingParameters samplingParameters)
        {
            if (samplingParameters.Kind == ActivityKind.Server && samplingParameters.ParentContext.TraceId == default)
            {
                return Picked ? Record : Drop;
            }

            return inner.ShouldSample(samplingParameters);
        }
    }
}

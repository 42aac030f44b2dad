using System.Diagnostics;
using System.Net;
using EdgeRouter.Configuration;
using Microsoft.AspNetCore.Routing.Matching;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace EdgeRouter.Observability;

/// <summary>
/// Metrics, traces and logs on OpenTelemetry: the router's meter beside ASP.NET Core's, Kestrel's, HttpClient's and
/// the runtime's, scraped at <c>/metrics</c>; and, when the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, all
/// three exported over OTLP. Nothing leaves the process otherwise, and no span is recorded.
/// </summary>
public static class EdgeRouterTelemetry
{
    public const string SourceName = "EdgeRouter";

    /// <summary>The router's own spans.</summary>
    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>
    /// A span of the router's, or null. Under a request whose trace is not sampled (99 % of them by default) none is
    /// made: OpenTelemetry would still create each one, unrecorded, on the hot path.
    /// </summary>
    public static Activity? StartSpan(string name)
        => Activity.Current is { Recorded: false } ? null : Source.StartActivity(name);

    /// <summary>Meters of the runtime and of ASP.NET Core that a dashboard of the router uses.</summary>
    internal static readonly string[] BuiltInMeters = ["Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Net.Http", "System.Runtime"];

    public static IServiceCollection AddEdgeRouterTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        if (string.Equals(configuration["Logging:Console:FormatterName"], "json", StringComparison.OrdinalIgnoreCase))
        {
            services.AddHostedService<LogCorrelation>();
        }

        var otlp = !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var scrape = configuration.GetValue($"{EdgeRouterOptions.SectionName}:Metrics:{nameof(MetricsOptions.Enabled)}", defaultValue: true);
        if (!otlp && !scrape)
        {
            return services;
        }

        var telemetry = services.AddOpenTelemetry().ConfigureResource(resource => resource.AddService("edgerouter"));
        telemetry.WithMetrics(metrics =>
        {
            metrics.AddMeter([EdgeRouterMetrics.MeterName, .. BuiltInMeters]);

            // The count of requests in flight costs two updates on every request (a fifth of what metrics cost on a
            // hot redirect); dropped, ASP.NET Core does not measure it at all. Kestrel's connection gauges show the load.
            metrics.AddView("http.server.active_requests", MetricStreamConfiguration.Drop);
            if (scrape)
            {
                metrics.AddPrometheusExporter();
            }
        });

        if (otlp)
        {
            // OTEL_TRACES_EXPORTER=none keeps metrics and logs over OTLP without tracing and what it costs on every
            // request: ASP.NET Core then makes no span for it (3-4 % of a hot redirect's CPU, sampled or not).
            if (!string.Equals(configuration["OTEL_TRACES_EXPORTER"], "none", StringComparison.OrdinalIgnoreCase))
            {
                telemetry.WithTracing(tracing =>
                {
                    tracing.AddSource(SourceName).AddAspNetCoreInstrumentation().AddHttpClientInstrumentation();

                    // One request in a hundred, unless the standard OTEL_TRACES_SAMPLER says otherwise; a sampled
                    // caller's decision (traceparent) is followed.
                    if (string.IsNullOrWhiteSpace(configuration["OTEL_TRACES_SAMPLER"]))
                    {
                        tracing.SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(0.01)));
                    }
                });
            }

            telemetry.WithLogging();
            telemetry.UseOtlpExporter();
        }

        services.TryAddSingleton<StorageGauges>();
        if (scrape)
        {
            services.TryAddEnumerable(ServiceDescriptor.Singleton<MatcherPolicy, MetricsAccessPolicy>());
        }

        return services;
    }

    /// <summary>Maps the Prometheus scrape endpoint, <c>/metrics</c>, when it is enabled.</summary>
    public static IEndpointRouteBuilder MapEdgeRouterMetrics(this IEndpointRouteBuilder endpoints)
    {
        var options = endpoints.ServiceProvider.GetRequiredService<IOptions<EdgeRouterOptions>>().Value;

        // The gauges exist once asked for; their values are read at each scrape or export.
        endpoints.ServiceProvider.GetService<StorageGauges>();
        if (options.Metrics.Enabled)
        {
            endpoints.MapPrometheusScrapingEndpoint("/metrics").WithMetadata(MetricsAccessPolicy.Metadata).DisableHttpMetrics();
        }

        return endpoints;
    }

    /// <summary>
    /// The router faces the internet, so <c>/metrics</c> answers only on the admin port when <c>Admin:Port</c> is
    /// set, and otherwise only to clients in <see cref="MetricsOptions.AllowedNetworks"/>. For anyone else the
    /// endpoint does not exist: the path falls through to an object read, which answers 404.
    /// </summary>
    private sealed class MetricsAccessPolicy(IOptions<EdgeRouterOptions> options, IOptions<Admin.AdminOptions> admin) : MatcherPolicy, IEndpointSelectorPolicy
    {
        public static readonly object Metadata = new();

        private readonly int? _adminPort = admin.Value.Port;
        private readonly IPNetwork[] _allowed = [.. ((IEnumerable<string>?)options.Value.Metrics.AllowedNetworks ?? MetricsOptions.DefaultAllowedNetworks).Select(n => IPNetwork.Parse(n))];

        public override int Order => -1000;

        public bool AppliesToEndpoints(IReadOnlyList<Endpoint> endpoints) => endpoints.Any(e => e.Metadata.Contains(Metadata));

        public Task ApplyAsync(HttpContext httpContext, CandidateSet candidates)
        {
            for (var i = 0; i < candidates.Count; i++)
            {
                if (candidates[i].Endpoint.Metadata.Contains(Metadata) && !Allowed(httpContext.Connection))
                {
                    candidates.SetValidity(i, false);
                }
            }

            return Task.CompletedTask;
        }

        private bool Allowed(ConnectionInfo connection)
        {
            if (_adminPort is { } port)
            {
                return connection.LocalPort == port;
            }

            // No address: a Unix socket or an in-process test server, both on this machine.
            var address = connection.RemoteIpAddress is { IsIPv4MappedToIPv6: true } mapped ? mapped.MapToIPv4() : connection.RemoteIpAddress;
            return address is null || _allowed.Any(network => network.Contains(address));
        }
    }
}

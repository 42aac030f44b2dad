using System.Diagnostics;
using System.Net;
using EdgeRouter.Configuration;
using Microsoft.AspNetCore.Routing.Matching;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Logs;
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
    /// A step of a recorded request's span, or null. A request whose trace is not kept (99 % of them by default) has
    /// no span or an unrecorded one, and its steps are not made: OpenTelemetry would still create each, unrecorded.
    /// </summary>
    public static Activity? StartSpan(string name)
        => Activity.Current is { Recorded: true } ? Source.StartActivity(name) : null;

    /// <summary>Meters of the runtime and of ASP.NET Core that a dashboard of the router uses.</summary>
    internal static readonly string[] BuiltInMeters = ["Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Net.Http", "System.Runtime"];

    public static IServiceCollection AddEdgeRouterTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        var jsonLogs = string.Equals(configuration["Logging:Console:FormatterName"], "json", StringComparison.OrdinalIgnoreCase);
        var otlp = !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);

        // The standard OTEL_{TRACES,METRICS,LOGS}_EXPORTER=none leave a signal out of the export. Metrics over OTLP
        // beside the scrape endpoint are aggregated twice (a second reader), which a hot path pays for.
        bool Exported(string signal) => otlp && !string.Equals(configuration[$"OTEL_{signal}_EXPORTER"], "none", StringComparison.OrdinalIgnoreCase);
        var tracing = Exported("TRACES");
        var otlpMetrics = Exported("METRICS");
        if (jsonLogs && !tracing)
        {
            services.AddHostedService<LogCorrelation>();
        }

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

            if (otlpMetrics)
            {
                metrics.AddOtlpExporter();
            }
        });

        if (tracing)
        {
            // Request spans are the router's own (RequestTracing), not ASP.NET Core's: it would make one for every
            // request, sampled or not. One request in a hundred unless OTEL_TRACES_SAMPLER says otherwise; a
            // caller's decision (traceparent) is followed.
            var sampling = RequestSampling.FromConfiguration(configuration, spanForEveryRequest: jsonLogs);
            services.AddSingleton(sampling);
            services.AddSingleton<IStartupFilter, RequestTracingStartupFilter>();
            telemetry.WithTracing(builder =>
            {
                builder.AddSource(SourceName).AddHttpClientInstrumentation().AddOtlpExporter();
                if (sampling.Sampler is { } sampler)
                {
                    builder.SetSampler(sampler);
                }
            });
        }

        if (Exported("LOGS"))
        {
            telemetry.WithLogging(logging => logging.AddOtlpExporter());
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

    /// <summary>The request span wraps the whole pipeline, so it sees every status and exception.</summary>
    private sealed class RequestTracingStartupFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.UseMiddleware<RequestTracing>();
            next(app);
        };
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

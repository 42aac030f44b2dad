using System.Text.Json;
using EdgeRouter.Configuration;
using EdgeRouter.Observability;
using EdgeRouter.Serving;
using EdgeRouter.Uploads;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

#pragma warning disable IDE0130 // Extension methods live where IEndpointRouteBuilder does, as ASP.NET Core's own do.
namespace Microsoft.AspNetCore.Builder;
#pragma warning restore IDE0130

public static class EdgeRouterEndpointRouteBuilderExtensions
{
    internal const string ReadyTag = "ready";

    /// <summary>
    /// Maps the upload API, <c>/healthz</c>, <c>/readyz</c> and the object read path. Object reads sit under
    /// <see cref="EdgeRouterOptions.ObjectPathPrefix"/> with the lowest priority, so YARP routes and the router's
    /// own endpoints always win over the catch-all. Reads short-circuit: routing runs them as soon as it matches,
    /// past the authentication, exception-handling and authorization middleware that a public read has no use for
    /// (the last resolves a per-request service scope); the handler answers its own failures.
    /// </summary>
    public static IEndpointRouteBuilder MapEdgeRouter(this IEndpointRouteBuilder endpoints)
    {
        var options = endpoints.ServiceProvider.GetRequiredService<IOptions<EdgeRouterOptions>>().Value;
        endpoints.MapObjectApi();
        endpoints.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false }).DisableHttpMetrics();
        endpoints.MapHealthChecks("/readyz", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(ReadyTag),
            ResponseWriter = WriteReadinessAsync,
        }).DisableHttpMetrics();
        endpoints.MapEdgeRouterMetrics();

        var reads = endpoints.ServiceProvider.GetRequiredService<ObjectReadHandler>();
        endpoints.MapMethods(options.ObjectPathPrefix + "{**key}", [HttpMethods.Get, HttpMethods.Head], reads.HandleAsync)
            .WithOrder(int.MaxValue)
            .WithDisplayName("EdgeRouter object read")
            .ShortCircuit();
        return endpoints;
    }

    /// <summary>
    /// Anyone (a load balancer, a monitor) learns the status of each check; their descriptions and data (storage
    /// roots, error texts) only a caller with an upload or admin key, since the router faces the internet.
    /// </summary>
    /// <summary>
    /// Behind known proxies (<see cref="EdgeRouterOptions.KnownProxies"/>, <see cref="EdgeRouterOptions.KnownNetworks"/>),
    /// takes the client's address and scheme from <c>X-Forwarded-For</c>/<c>-Proto</c>, trusting only those proxies;
    /// otherwise changes nothing, and the headers are not even read.
    /// </summary>
    public static IApplicationBuilder UseEdgeRouterForwardedHeaders(this IApplicationBuilder app)
    {
        var options = app.ApplicationServices.GetRequiredService<IOptions<EdgeRouterOptions>>().Value;
        if (options.KnownProxies.Count == 0 && options.KnownNetworks.Count == 0)
        {
            return app;
        }

        var forwarded = new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto, ForwardLimit = null };
        forwarded.KnownProxies.Clear();
        forwarded.KnownIPNetworks.Clear();
        foreach (var proxy in options.KnownProxies)
        {
            forwarded.KnownProxies.Add(System.Net.IPAddress.Parse(proxy));
        }

        foreach (var network in options.KnownNetworks)
        {
            forwarded.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
        }

        return app.UseForwardedHeaders(forwarded);
    }

    private static async Task WriteReadinessAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        var detailed = await HasKeyAsync(context);
        var body = new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(
                e => e.Key,
                e => detailed
                    ? (object)new { status = e.Value.Status.ToString(), description = e.Value.Description, data = e.Value.Data }
                    : new { status = e.Value.Status.ToString() }),
        };
        await JsonSerializer.SerializeAsync(context.Response.Body, body, JsonSerializerOptions.Web, context.RequestAborted);
    }

    /// <summary>
    /// An upload key is checked directly, not through its scheme, whose lock-out would count an admin key sent here as
    /// a wrong upload key; anything else goes to the admin's scheme (which counts a wrong key towards its lock-out).
    /// </summary>
    private static async Task<bool> HasKeyAsync(HttpContext context)
    {
        var uploads = context.RequestServices.GetRequiredService<IOptions<EdgeRouterOptions>>().Value.Uploads;
        if (ApiKeys.Presented(context.Request.Headers) is not { } key)
        {
            return false;
        }

        if (ApiKeys.Matches(key, ApiKeys.ParseHashes(uploads.ApiKeys)))
        {
            return true;
        }

        var schemes = context.RequestServices.GetRequiredService<IAuthenticationSchemeProvider>();
        return await schemes.GetSchemeAsync(EdgeRouter.Admin.AdminOptions.KeyScheme) is not null
            && (await context.AuthenticateAsync(EdgeRouter.Admin.AdminOptions.KeyScheme)).Succeeded;
    }
}

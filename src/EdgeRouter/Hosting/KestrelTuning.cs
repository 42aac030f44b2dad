using EdgeRouter.Configuration;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;

#pragma warning disable IDE0130 // Extension methods live where IWebHostBuilder does, as ASP.NET Core's own do.
namespace Microsoft.AspNetCore.Hosting;
#pragma warning restore IDE0130

public static class EdgeRouterWebHostBuilderExtensions
{
    private const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>
    /// Kestrel settings for an origin whose hot path is short and never blocks: no Server header, no hop through
    /// Kestrel's I/O queue, and, unless <c>EdgeRouter:Serving:InlineIoScheduling</c> says otherwise, request
    /// processing inline on the socket threads.
    /// </summary>
    /// <remarks>
    /// Inline scheduling skips two thread hops per request (socket thread to I/O queue to thread pool), which
    /// cut the CPU per read by 30-50% in the load tests. It is safe because nothing on the request path blocks a
    /// socket thread: the SQLite catalog moves its (synchronous) work to the thread pool, file and backend I/O is
    /// asynchronous, logging is queued, and the PostgreSQL catalog never hands Npgsql a cancellation token (whose
    /// cancel request does synchronous socket I/O). Must run before any socket is used: the runtime reads the
    /// variable once.
    /// </remarks>
    /// <summary>
    /// The thread pool's minimum worker threads the router asks for; 0 keeps the runtime's. The shared catalog's clients
    /// complete on the thread pool: a cold burst of misses (a 404 storm on a fresh instance) found the pool at one
    /// thread per core and waited for it to grow, a thread every half second: p99 1.6 s. Starting from 16 threads:
    /// 30-50 ms. SQLite's lookups, which run on the pool by design, were better off without (p99 16 against 37 ms).
    /// </summary>
    internal static int MinimumWorkers(IConfiguration configuration)
    {
        var scaledOut = CatalogProviders.UsesPostgres(configuration) || CatalogProviders.UsesRedis(configuration);
        return configuration.GetValue<int?>($"{EdgeRouterOptions.SectionName}:Serving:{nameof(ServingOptions.MinThreadPoolThreads)}") ?? (scaledOut ? 16 : 0);
    }

    /// <summary>Where the router listens when no address is configured.</summary>
    public const string DefaultUrl = "http://localhost:5080";

    public static IWebHostBuilder UseEdgeRouterKestrel(this IWebHostBuilder webHost, IConfiguration configuration)
    {
        var inline = configuration.GetValue($"{EdgeRouterOptions.SectionName}:Serving:{nameof(ServingOptions.InlineIoScheduling)}", defaultValue: true);

        var minThreads = MinimumWorkers(configuration);
        ThreadPool.GetMinThreads(out var workers, out var io);
        if (minThreads > workers)
        {
            ThreadPool.SetMinThreads(minThreads, io);
        }

        if (inline && Environment.GetEnvironmentVariable(InlineCompletions) is null)
        {
            Environment.SetEnvironmentVariable(InlineCompletions, "1");
        }

        // The router's own address only when none is given the ways ASP.NET Core documents (ASPNETCORE_URLS, --urls,
        // ASPNETCORE_HTTP_PORTS, Kestrel:Endpoints): set in appsettings.json, it overrode every one of them.
        if (string.IsNullOrEmpty(configuration["urls"]) && string.IsNullOrEmpty(configuration["http_ports"])
            && string.IsNullOrEmpty(configuration["https_ports"]) && !configuration.GetSection("Kestrel:Endpoints").Exists())
        {
            webHost.UseUrls(DefaultUrl);
        }

        // Without inline socket completions, Kestrel's own inline scheduling still skips its I/O queue: requests then
        // run on the pool thread that took the socket's completion, which no client's completion ever waits on.
        return webHost
            .ConfigureKestrel(kestrel => kestrel.AddServerHeader = false)
            .UseSockets(sockets => sockets.UnsafePreferInlineScheduling = true);
    }
}

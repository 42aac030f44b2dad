using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeRouter.Tests.TestUtilities;

/// <summary>
/// A real HTTP server on loopback (Kestrel serving static files, with Range, ETag and 304 of its own) that plays
/// the web server behind a storage's Storage URL for the redirect and proxy read modes. Started once per run.
/// </summary>
public sealed class StaticWebServer : IAsyncLifetime
{
    private WebApplication? _app;

    /// <summary>The folder it serves; a local storage whose root is this folder is reachable at <see cref="BaseUrl"/>.</summary>
    public string Root { get; } = Directory.CreateTempSubdirectory("edgerouter-web-").FullName;

    public string BaseUrl { get; private set; } = string.Empty;

    /// <summary>Requests it received, for asserting what the router forwarded.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<(string Path, string Query, IReadOnlyDictionary<string, string> Headers)> Requests { get; } = new();

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.Use((context, next) =>
        {
            Requests.Enqueue((context.Request.Path.Value ?? string.Empty, context.Request.QueryString.Value ?? string.Empty, context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase)));
            return next(context);
        });
        _app.MapGet("/app/{**rest}", (string? rest) => Results.Text($"app page {rest}"));

        // A backend in trouble: a 5xx that says it may be cached, and one that never answers.
        _app.MapGet("/failing/{**rest}", (HttpContext context) =>
        {
            context.Response.Headers.CacheControl = "public, max-age=3600";
            return Results.Text("backend overloaded", statusCode: StatusCodes.Status503ServiceUnavailable);
        });
        _app.MapGet("/silent/{**rest}", async (CancellationToken aborted) =>
        {
            await Task.Delay(Timeout.Infinite, aborted);
            return Results.Empty;
        });
        _app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = new PhysicalFileProvider(Root),
            ServeUnknownFileTypes = true,
            ContentTypeProvider = new FileExtensionContentTypeProvider(),
        });
        await _app.StartAsync();
        BaseUrl = _app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First() + "/";
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        Directory.Delete(Root, recursive: true);
    }
}

[CollectionDefinition(Name)]
public sealed class StaticWebServerGroup : ICollectionFixture<StaticWebServer>
{
    public const string Name = "static web server";
}

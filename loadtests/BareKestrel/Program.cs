// The ceiling for EdgeRouter's read modes: Kestrel with the router's settings and no other middleware, answering
// every request with a 302 to <target><path>; with BARE_FORWARD=1, forwarding it there through YARP's
// IHttpForwarder with the router's client settings; with BARE_BODY=<bytes>, writing a body of that size from memory
// with an origin's headers (the ceiling of an origin cache hit). loadtests/ceiling.sh runs it with inline socket
// completions, as the router runs itself.
using System.Net;
using Yarp.ReverseProxy.Forwarder;

var target = Environment.GetEnvironmentVariable("BARE_TARGET") ?? "http://127.0.0.1:9/";
var forward = Environment.GetEnvironmentVariable("BARE_FORWARD") == "1";
var body = new byte[int.TryParse(Environment.GetEnvironmentVariable("BARE_BODY"), out var size) ? size : 0];
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.WebHost
    .ConfigureKestrel(kestrel => kestrel.AddServerHeader = false)
    .UseSockets(sockets => sockets.UnsafePreferInlineScheduling = true);
builder.Services.AddHttpForwarder();
var app = builder.Build();
if (forward)
{
    var forwarder = app.Services.GetRequiredService<IHttpForwarder>();
    var invoker = new HttpMessageInvoker(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
    });
    var config = new ForwarderRequestConfig { Version = HttpVersion.Version11, VersionPolicy = HttpVersionPolicy.RequestVersionOrLower };
    app.Run(async context => await forwarder.SendAsync(context, target.TrimEnd('/'), invoker, config));
}
else if (body.Length > 0)
{
    app.Run(async context =>
    {
        var headers = context.Response.Headers;
        headers.ContentType = "image/png";
        headers.ETag = "\"0123456789abcdef\"";
        headers.CacheControl = "public, max-age=31536000, immutable";
        context.Response.ContentLength = body.Length;
        await context.Response.BodyWriter.WriteAsync(body);
    });
}
else
{
    app.Run(context =>
    {
        context.Response.StatusCode = StatusCodes.Status302Found;
        context.Response.Headers.Location = string.Concat(target, context.Request.Path.Value.AsSpan(1));
        context.Response.Headers.CacheControl = "public, max-age=3600";
        return Task.CompletedTask;
    });
}

app.Run();

// A 302 to <target><path> for every request, with the router's Kestrel settings and no other middleware: what
// any ASP.NET Core app pays per redirect on this machine, to set EdgeRouter's redirect figures against.
// loadtests/ceiling.sh runs it with inline socket completions, as the router runs itself.
var target = Environment.GetEnvironmentVariable("BARE_REDIRECT_TARGET") ?? "http://127.0.0.1:9/";
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.WebHost
    .ConfigureKestrel(kestrel => kestrel.AddServerHeader = false)
    .UseSockets(sockets => sockets.UnsafePreferInlineScheduling = true);
var app = builder.Build();
app.Run(context =>
{
    context.Response.StatusCode = StatusCodes.Status302Found;
    context.Response.Headers.Location = string.Concat(target, context.Request.Path.Value.AsSpan(1));
    context.Response.Headers.CacheControl = "public, max-age=3600";
    return Task.CompletedTask;
});
app.Run();

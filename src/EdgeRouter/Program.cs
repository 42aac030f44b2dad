using EdgeRouter.Configuration;
using EdgeRouter.Hosting;
using EdgeRouter.Uploads;
using Microsoft.Extensions.Options;

if (args is ["hash-key", ..])
{
    // Prints the configuration form of an upload key: a new random one, or the one given on standard input.
    var key = args.Length > 1 && args[1] == "-" ? Console.In.ReadLine()?.Trim() : ApiKeys.Generate();
    if (string.IsNullOrEmpty(key))
    {
        Console.Error.WriteLine("usage: EdgeRouter hash-key [-]   (with '-', the key is read from standard input)");
        return 2;
    }

    if (args.Length == 1)
    {
        Console.WriteLine($"key:  {key}");
    }

    Console.WriteLine($"hash: {ApiKeys.Hash(key)}");
    return 0;
}

if (args is ["jobs", ..])
{
    return await EdgeRouter.Jobs.JobsCommand.RunAsync(args[1..], Console.Out, Console.Error, Environment.GetEnvironmentVariable);
}

if (args is ["healthcheck", ..])
{
    // For container HEALTHCHECKs: the runtime image has no curl.
    var url = args.Length > 1 ? args[1] : "http://127.0.0.1:8080/healthz";
    using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
    try
    {
        return (await http.GetAsync(url)).IsSuccessStatusCode ? 0 : 1;
    }
    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
    {
        Console.Error.WriteLine($"unhealthy: {ex.Message}");
        return 1;
    }
}

var builder = WebApplication.CreateBuilder(args);
try
{
    builder.Configuration.UseAppSettingsBesideBinary(builder.Environment);

    builder.WebHost.UseEdgeRouterKestrel(builder.Configuration);

    builder.Services.AddEdgeRouter(builder.Configuration);

    // Paths that are not objects (the web app's pages, say) go to the app's own servers through standard YARP routes.
    builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"));

    var app = builder.Build();
    app.UseEdgeRouterForwardedHeaders();
    app.UseExceptionHandler();

    // No UseAuthentication: the upload API's policy names its scheme, so authorization authenticates those
    // requests alone, and object reads (the hot path) never run an authentication handler.
    // CORS answers only the upload routes' preflights (their endpoints name the policy); reads pass straight through.
    app.UseCors();
    app.UseAuthorization();
    app.MapEdgeRouter();
    app.MapEdgeRouterAdmin();
    app.MapReverseProxy();
    await app.RunAsync();
    return 0;
}
catch (Exception ex) when (ex is OptionsValidationException or StorageConfigurationException)
{
    // A configuration problem is the operator's to fix: say what is wrong, without a stack trace.
    Console.Error.WriteLine($"EdgeRouter cannot start: {ex.Message}");
    return 1;
}

/// <summary>The entry point, visible to the integration tests' WebApplicationFactory.</summary>
public partial class Program;

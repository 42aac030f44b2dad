using EdgeRouter.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;

namespace EdgeRouter.Tests.Hosting;

/// <summary>The host's threading settings: what the shared catalog needs from the thread pool, and their checks.</summary>
public sealed class KestrelTuningTests
{
    [Theory]
    [InlineData("postgres", null, 16)]
    [InlineData("sqlite", "127.0.0.1:6379", 16)]
    [InlineData("sqlite", null, 0)]
    public void WithTheSharedCatalog_TheThreadPoolIsAskedForSixteenWorkers_AndWithSqliteForNone(string provider, string? redis, int expected)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["EdgeRouter:Catalog:Provider"] = provider,
            ["EdgeRouter:Catalog:Redis"] = redis,
        }).Build();

        Assert.Equal(expected, EdgeRouterWebHostBuilderExtensions.MinimumWorkers(configuration));
    }

    [Fact]
    public void TheConfiguredMinimum_IsWhatTheThreadPoolGets()
    {
        ThreadPool.GetMinThreads(out var before, out _);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["EdgeRouter:Serving:MinThreadPoolThreads"] = (before + 3).ToString(System.Globalization.CultureInfo.InvariantCulture),
        }).Build();

        WebApplication.CreateSlimBuilder().WebHost.UseEdgeRouterKestrel(configuration);

        ThreadPool.GetMinThreads(out var after, out _);
        Assert.Equal(before + 3, after);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5000)]
    public void AMinimumOutOfRange_IsRefused_NamingTheField(int threads)
    {
        var options = new EdgeRouterOptions { SiteUrl = "https://img.example.com/", Uploads = { AllowAnonymous = true }, Serving = { MinThreadPoolThreads = threads } };

        var result = new EdgeRouterOptionsValidator().Validate(null, options);

        Assert.Equal([$"EdgeRouter:Serving:MinThreadPoolThreads: must be between 1 and 1024 (was {threads})."], result.Failures);
    }
}

using EdgeRouter.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;

namespace EdgeRouter.Tests.Hosting;

/// <summary>The host's threading settings: what the shared catalog needs from the thread pool, and their checks.</summary>
public sealed class KestrelTuningTests
{
    [Fact]
    public void WithTheSharedCatalog_TheThreadPoolStartsWithSixteenWorkers()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["EdgeRouter:Catalog:Provider"] = "postgres",
            ["EdgeRouter:Catalog:ConnectionString"] = "Host=127.0.0.1",
        }).Build();

        WebApplication.CreateSlimBuilder().WebHost.UseEdgeRouterKestrel(configuration);

        ThreadPool.GetMinThreads(out var workers, out _);
        Assert.True(workers >= 16, $"{workers} minimum workers");
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

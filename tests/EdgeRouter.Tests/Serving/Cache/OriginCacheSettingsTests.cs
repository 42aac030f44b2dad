using EdgeRouter.Configuration;
using EdgeRouter.Serving.Cache;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.Serving.Cache;

/// <summary>The origin cache's settings are checked at start, each problem naming its setting or its storage's field.</summary>
public sealed class OriginCacheSettingsTests
{
    [Theory]
    [InlineData(-1L, 1024L, "sieve", "EdgeRouter:OriginCache:MemoryBytes: must be 0 (off) or a number of bytes (was -1).")]
    [InlineData(1000L, 2000L, "sieve", "EdgeRouter:OriginCache:MaxObjectBytes: must be between 1 and MemoryBytes (1000) and below 2 GiB (was 2000).")]
    [InlineData(1000L, 0L, "sieve", "EdgeRouter:OriginCache:MaxObjectBytes: must be between 1 and MemoryBytes (1000) and below 2 GiB (was 0).")]
    [InlineData(1000L, 100L, "arc", "EdgeRouter:OriginCache:Eviction: 'arc' is not a policy (known: sieve, lru).")]
    public void ASettingOutOfRange_IsRefused_NamingIt(long memory, long maxObject, string eviction, string expected)
    {
        var options = new EdgeRouterOptions
        {
            SiteUrl = "https://img.example.com/",
            Uploads = { AllowAnonymous = true },
            OriginCache = { MemoryBytes = memory, MaxObjectBytes = maxObject, Eviction = eviction },
        };

        var result = new EdgeRouterOptionsValidator().Validate(null, options);

        Assert.Equal([expected], result.Failures);
    }

    [Theory]
    [InlineData(0L, 67108864L)]
    [InlineData(1073741824L, 1024L)]
    [InlineData(1048576L, 67108864L)]
    public void ADiskTierOutOfRange_IsRefused_NamingItsSettings(long diskBytes, long diskMaxObject)
    {
        var options = new EdgeRouterOptions { SiteUrl = "https://img.example.com/", Uploads = { AllowAnonymous = true }, OriginCache = { DiskPath = "cache", DiskBytes = diskBytes, DiskMaxObjectBytes = diskMaxObject } };

        var failure = Assert.Single(new EdgeRouterOptionsValidator().Validate(null, options).Failures!);

        Assert.StartsWith("EdgeRouter:OriginCache:DiskBytes/DiskMaxObjectBytes: with a DiskPath, DiskBytes must be positive and DiskMaxObjectBytes between MaxObjectBytes (1048576)", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void WithTheCacheOff_NoStorageIsCached_AndWithItOn_OnlyProxyAndStreamOnesThatDoNotOptOut()
    {
        const string Storages = """
            { "storages": [
              { "id": "s", "api": "local", "root": "s", "read": "stream" },
              { "id": "p", "api": "local", "root": "p", "read": "proxy", "storageUrl": "https://files.example.com/" },
              { "id": "n", "api": "local", "root": "n", "read": "stream", "cache": false },
              { "id": "r", "api": "local", "root": "r", "read": "redirect", "storageUrl": "https://files.example.com/" } ] }
            """;
        using var on = new RouterFactory(Storages);
        using var off = new RouterFactory(Storages, settings: new Dictionary<string, string?> { ["EdgeRouter:OriginCache:MemoryBytes"] = "0" });

        Assert.Equal(["p", "s"], Cached(on));
        Assert.Empty(Cached(off));
    }

    private static string[] Cached(RouterFactory factory)
    {
        factory.CreateClient().Dispose();
        var registry = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<EdgeRouter.Storage.IStorageRegistry>(factory.Services);
        return [.. registry.Current.Storages.Where(s => s.Cached).Select(s => s.Id).Order(StringComparer.Ordinal)];
    }
}

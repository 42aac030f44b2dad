using EdgeRouter.Configuration;

namespace EdgeRouter.Tests.Catalog;

/// <summary>The catalog's settings are checked at start, each problem naming its setting.</summary>
public sealed class CatalogSettingsTests
{
    [Theory]
    [InlineData(null, "00:00:02", "00:10:00", null)]
    [InlineData("redis:6379", "01:00:00", "00:10:00", null)]
    [InlineData("redis:6379", "00:10:00", "00:10:00", null)]
    [InlineData("redis:6379", "00:00:02", "00:10:00", "EdgeRouter:Catalog:DeleteGrace: must be at least Catalog:CacheTtl (00:10:00) when several instances share the catalog (Catalog:Redis is set), was 00:00:02: an instance that crashes before announcing a change leaves the others holding the old record for up to CacheTtl, and the bytes it names must still be there.")]
    public void WithSeveralInstances_TheDeleteGrace_OutlastsTheCachedRecords(string? redis, string grace, string cacheTtl, string? expected)
    {
        var options = new EdgeRouterOptions
        {
            SiteUrl = "https://img.example.com/",
            Uploads = { AllowAnonymous = true },
            Catalog = { Redis = redis, DeleteGrace = TimeSpan.Parse(grace, System.Globalization.CultureInfo.InvariantCulture), CacheTtl = TimeSpan.Parse(cacheTtl, System.Globalization.CultureInfo.InvariantCulture) },
        };

        var result = new EdgeRouterOptionsValidator().Validate(null, options);

        Assert.Equal(expected is null ? null : [expected], result.Failures);
    }
}

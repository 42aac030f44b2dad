using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeRouter.Tests.TestUtilities;

public static class TestHybridCache
{
    /// <summary>A HybridCache with no second level, as one instance without Redis has.</summary>
    public static HybridCache Create() => new ServiceCollection().AddHybridCache().Services.BuildServiceProvider().GetRequiredService<HybridCache>();
}

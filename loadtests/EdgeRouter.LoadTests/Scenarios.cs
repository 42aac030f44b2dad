namespace EdgeRouter.LoadTests;

/// <summary>Which keys a scenario reads, and the Lua shape that picks among them.</summary>
public enum KeyChoice
{
    /// <summary>Zipf(1.0) over the set: a hot set.</summary>
    Zipf,

    /// <summary>Every key equally likely: a cold set that misses the catalog cache.</summary>
    Uniform,

    /// <summary>Hot keys with a <c>Range</c> header.</summary>
    Range,

    /// <summary>Keys that do not exist.</summary>
    NotFound,
}

/// <summary>What the router and its baseline are asked to serve: which seeded objects, through which port.</summary>
public enum Target
{
    Router,
    NginxDirect,
    NginxProxyPass,
    NginxRedirect,
}

/// <summary>
/// One load scenario, declared the way NBomber users declare theirs: a name, how keys are picked, which seeded
/// set (read mode and object size), and the nginx baseline it is measured against in the same run.
/// Add a scenario by adding one of these to <see cref="Scenarios.All"/>; the engine needs no change.
/// <see cref="CatalogCacheEntries"/> gives the router a catalog cache of that size (a fresh router, warmed up
/// again), for scenarios that must miss the cache; null keeps the router's default.
/// </summary>
public sealed record Scenario(
    string Name,
    KeyChoice Keys,
    string KeySet,
    Target Baseline,
    int ExpectedStatus,
    string Description,
    int? CatalogCacheEntries = null);

/// <summary>The object sets the runner seeds through the router's upload API, by owning storage (read mode) and size.</summary>
public sealed record KeySet(string Name, string Storage, int SizeBytes, double ShareOfObjects);

public static class Scenarios
{
    public static readonly IReadOnlyList<KeySet> KeySets =
    [
        new("redirect-1KB", "redirect", 1024, 0.70),
        new("proxy-10KB", "proxy", 10 * 1024, 0.10),
        new("proxy-1MB", "proxy", 1024 * 1024, 0.02),
        new("stream-10KB", "stream", 10 * 1024, 0.10),
        new("stream-100KB", "stream", 100 * 1024, 0.08),
    ];

    public static readonly IReadOnlyList<Scenario> All =
    [
        new("redirect-hot", KeyChoice.Zipf, "redirect-1KB", Target.NginxRedirect, 302, "hot set, redirect mode vs nginx return 302"),
        new("proxy-10KB-hot", KeyChoice.Zipf, "proxy-10KB", Target.NginxProxyPass, 200, "hot set, proxy mode 10 KB vs nginx proxy_pass"),
        new("proxy-1MB-hot", KeyChoice.Zipf, "proxy-1MB", Target.NginxProxyPass, 200, "hot set, proxy mode 1 MB vs nginx proxy_pass"),
        new("proxy-10KB-vs-direct", KeyChoice.Zipf, "proxy-10KB", Target.NginxDirect, 200, "hot set, proxy mode 10 KB vs nginx serving the files directly"),
        new("stream-10KB-hot", KeyChoice.Zipf, "stream-10KB", Target.NginxDirect, 200, "hot set, stream mode from Local storage vs nginx direct"),
        new("cold-uniform", KeyChoice.Uniform, "redirect-1KB", Target.NginxRedirect, 302, "uniform keys over the whole redirect set, router cache of 1,000 entries (mostly misses) vs nginx 302", CatalogCacheEntries: 1000),
        new("404-storm", KeyChoice.NotFound, "redirect-1KB", Target.NginxDirect, 404, "unknown keys (negative cache) vs nginx 404"),
        new("range-proxy", KeyChoice.Range, "proxy-1MB", Target.NginxProxyPass, 206, "Range bytes=0-1023 through proxy mode vs nginx proxy_pass"),
    ];
}

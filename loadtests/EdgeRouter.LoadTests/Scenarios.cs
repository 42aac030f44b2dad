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

    /// <summary>Half the reads Zipf over the key set (the hot set), half uniform over <see cref="Scenario.ScanKeySet"/> (a crawl).</summary>
    HotAndScan,

    /// <summary>Not wrk: 1,000 requests at once for one key nobody read yet; the backend must be read once.</summary>
    Stampede,
}

/// <summary>What the router and its baseline are asked to serve: which seeded objects, through which port.</summary>
public enum Target
{
    Router,
    NginxDirect,
    NginxProxyPass,
    NginxRedirect,

    /// <summary>nginx <c>proxy_pass</c> with <c>proxy_cache</c>: after the warm-up every request is a HIT.</summary>
    NginxProxyCache,
}

/// <summary>
/// One load scenario, declared the way NBomber users declare theirs: a name, how keys are picked, which seeded
/// set (read mode and object size), and the nginx baseline it is measured against in the same run.
/// Add a scenario by adding one of these to <see cref="Scenarios.All"/>; the engine needs no change.
/// <see cref="CatalogCacheEntries"/> gives the router a catalog cache of that size (a fresh router, warmed up
/// again), for scenarios that must miss the cache; null keeps the router's default. With <see cref="ScanKeySet"/>, the
/// router's origin cache is a tenth of that set's bytes, and the report adds the hot set's origin cache hit ratio.
/// </summary>
public sealed record Scenario(
    string Name,
    KeyChoice Keys,
    string KeySet,
    Target Baseline,
    int ExpectedStatus,
    string Description,
    int? CatalogCacheEntries = null,
    string? ScanKeySet = null);

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
        new("proxy-10KB-cached", "proxy-cached", 10 * 1024, 0.10),
        new("proxy-1MB-cached", "proxy-cached", 1024 * 1024, 0.02),
        new("stream-10KB-cached", "stream-cached", 10 * 1024, 0.10),
        new("scan-10KB", "scan", 10 * 1024, 2.0),
        new("stampede-100KB", "stream-cached", 100 * 1024, 0.001),
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
        new("proxy-10KB-cached", KeyChoice.Zipf, "proxy-10KB-cached", Target.NginxProxyCache, 200, "hot set, proxy mode 10 KB from the origin cache vs nginx proxy_pass + proxy_cache (all HITs)"),
        new("stream-10KB-cached", KeyChoice.Zipf, "stream-10KB-cached", Target.NginxDirect, 200, "hot set, stream mode 10 KB from the origin cache vs nginx serving the files directly"),
        new("proxy-1MB-cached", KeyChoice.Zipf, "proxy-1MB-cached", Target.NginxDirect, 200, "hot set, proxy mode 1 MB from the origin cache vs nginx serving the files directly"),
        new("cold-scan", KeyChoice.HotAndScan, "stream-10KB-cached", Target.NginxDirect, 200, "the stream hot set mixed 1:1 with a crawl over ten times the origin cache vs nginx direct", ScanKeySet: "scan-10KB"),
        new("stampede", KeyChoice.Stampede, "stampede-100KB", Target.Router, 200, "1,000 concurrent requests for one cold 100 KB key: the backend is read once"),
    ];
}

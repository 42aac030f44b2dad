namespace EdgeRouter.Configuration;

/// <summary>Site-wide settings, bound from the <c>EdgeRouter</c> section of appsettings or the environment.</summary>
public sealed class EdgeRouterOptions
{
    public const string SectionName = "EdgeRouter";

    /// <summary>The public base URL of the site (the CNAME), e.g. <c>https://img.example.com/</c>.</summary>
    public string SiteUrl { get; set; } = "http://localhost:5080/";

    /// <summary>Path of storages.json; relative paths are resolved against the content root.</summary>
    public string StoragesFile { get; set; } = "config/storages.json";

    /// <summary>The path under which objects are served; other paths are left to YARP routes.</summary>
    public string ObjectPathPrefix { get; set; } = "/";

    public UploadOptions Uploads { get; set; } = new();

    public CatalogOptions Catalog { get; set; } = new();

    public ServingOptions Serving { get; set; } = new();

    public HealthOptions Health { get; set; } = new();

    public MetricsOptions Metrics { get; set; } = new();

    public Serving.Cache.OriginCacheOptions OriginCache { get; set; } = new();

    public Jobs.JobOptions Jobs { get; set; } = new();

    public Cdn.CdnOptions Cdn { get; set; } = new();

    /// <summary>Name of the placement policy: <c>weighted</c> (default), <c>fill-first</c> or <c>least-used</c>.</summary>
    public string PlacementPolicy { get; set; } = "weighted";

    /// <summary>
    /// Addresses of the proxies in front of the router (a load balancer, a CDN's edge): only from them is the client's
    /// address taken from <c>X-Forwarded-For</c> (and the scheme from <c>X-Forwarded-Proto</c>). Empty, with
    /// <see cref="KnownNetworks"/>: the headers are ignored, and the client is the connection's peer.
    /// </summary>
    public IList<string> KnownProxies { get; } = [];

    /// <summary>Networks (CIDR, e.g. <c>10.0.0.0/8</c>) of the proxies in front of the router; see <see cref="KnownProxies"/>.</summary>
    public IList<string> KnownNetworks { get; } = [];
}

public sealed class UploadOptions
{
    /// <summary>Hashes of accepted upload API keys, each <c>sha256:&lt;hex&gt;</c> (see <c>EdgeRouter hash-key</c>).</summary>
    public IList<string> ApiKeys { get; } = [];

    /// <summary>Wrong upload keys in a row from one client address before it is locked out (429).</summary>
    public int MaxFailedKeyAttempts { get; set; } = 10;

    /// <summary>How long a client address that sent too many wrong upload keys is locked out.</summary>
    public TimeSpan KeyLockoutDuration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Accept uploads without an API key. Off unless an operator says so.</summary>
    public bool AllowAnonymous { get; set; }

    public long MaxUploadBytes { get; set; } = 100L * 1024 * 1024;

    /// <summary>Content types accepted after sniffing. Empty means the built-in image allow-list.</summary>
    public IList<string> AllowedContentTypes { get; } = [];

    /// <summary>Short-lived upload tokens a web app's backend mints for the browser (<c>POST /api/v1/upload-tokens</c>).</summary>
    public Uploads.Tokens.UploadTokenOptions Tokens { get; set; } = new();

    /// <summary>Resumable uploads (tus 1.0 at <c>/api/v1/tus/</c>): where their bytes wait, and how long.</summary>
    public Uploads.Tus.ResumableOptions Resumable { get; set; } = new();

    /// <summary>Cross-origin uploads from browsers: the upload routes answer CORS for these exact origins.</summary>
    public UploadCorsOptions Cors { get; set; } = new();

    /// <summary>Where upload bodies are spooled so a failed write can be retried on another storage.</summary>
    public string? SpoolDirectory { get; set; }

    /// <summary>
    /// The longest an upload may take, from its first byte to its commit; a slower one is answered 408 and nothing is
    /// kept. What a crashed upload wrote is cleaned up once this has passed.
    /// </summary>
    public TimeSpan MaxUploadDuration { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The slowest an upload's body may arrive, after a 5 s grace (Kestrel's minimum request body data rate, per
    /// upload); slower, the request is ended and nothing is kept. 0 leaves Kestrel's own (240 B/s).
    /// </summary>
    public long MinBytesPerSecond { get; set; } = 4096;

    /// <summary>
    /// Flush each object (on <c>local</c>: the file and its folder) and the catalog's commit to disk before the 201,
    /// so an acknowledged upload survives a power loss. Off trades that for speed.
    /// </summary>
    public bool SyncToDisk { get; set; } = true;

    /// <summary>
    /// How long an upload's intent outlives its deadline (time to commit), and how much later the janitor takes it for
    /// abandoned (room for clocks that differ between instances): a minute, or the duration itself when shorter.
    /// </summary>
    internal TimeSpan IntentMargin => MaxUploadDuration < TimeSpan.FromMinutes(1) ? MaxUploadDuration : TimeSpan.FromMinutes(1);

    internal static readonly string[] DefaultAllowedContentTypes =
    [
        "image/jpeg", "image/png", "image/gif", "image/webp", "image/avif", "image/bmp",
    ];
}

public sealed class UploadCorsOptions
{
    /// <summary>Origins (scheme, host and port, e.g. <c>https://app.example.com</c>) whose pages may upload; none by default.</summary>
    public IList<string> AllowedOrigins { get; } = [];
}

/// <summary>The names <see cref="CatalogOptions.Provider"/> takes.</summary>
public static class CatalogProviders
{
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgres";

    public static readonly IReadOnlyList<string> All = [Sqlite, Postgres];

    /// <summary>Whether configuration names the PostgreSQL catalog; read before options exist (service registration, Kestrel).</summary>
    internal static bool UsesPostgres(IConfiguration configuration)
        => string.Equals(configuration[$"{EdgeRouterOptions.SectionName}:Catalog:{nameof(CatalogOptions.Provider)}"], Postgres, StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether configuration names a Redis for several instances; read before options exist.</summary>
    internal static bool UsesRedis(IConfiguration configuration)
        => !string.IsNullOrWhiteSpace(configuration[$"{EdgeRouterOptions.SectionName}:Catalog:{nameof(CatalogOptions.Redis)}"]);
}

public sealed class CatalogOptions
{
    /// <summary><c>sqlite</c> (embedded, one instance) or <c>postgres</c> (shared by several instances).</summary>
    public string Provider { get; set; } = "sqlite";

    public string ConnectionString { get; set; } = "Data Source=data/catalog.db";

    /// <summary>
    /// PostgreSQL: the most connections this instance opens (Npgsql's Maximum Pool Size). Default 20, so a few
    /// instances fit PostgreSQL's default of 100 connections; a caller waits for a free one rather than failing.
    /// </summary>
    public int? PoolSize { get; set; }

    /// <summary>
    /// PostgreSQL: how many instances share the database, if known. At start each instance then checks that
    /// <c>Instances × PoolSize</c> fits the server's <c>max_connections</c>, and warns when it does not.
    /// </summary>
    public int? Instances { get; set; }

    /// <summary>PostgreSQL: how long an upload's capacity reservation holds if its instance dies before settling it.</summary>
    public TimeSpan ReservationLifetime { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// How long a replaced or deleted object stays on its storage before it is removed: at least the redirect's
    /// max-age, so a redirect a cache still holds resolves. A delete with <c>?immediate=true</c> skips it.
    /// </summary>
    public TimeSpan DeleteGrace { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often the janitor deletes what is due: replaced and deleted objects past their grace, and what expired uploads left.</summary>
    public TimeSpan JanitorInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long a found record stays in the in-memory cache. Writes through this instance evict it at once.</summary>
    public TimeSpan CacheTtl { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long an unknown key is remembered, so a 404 storm does not reach the database.</summary>
    public TimeSpan NegativeCacheTtl { get; set; } = TimeSpan.FromSeconds(5);

    public int CacheEntryLimit { get; set; } = 200_000;

    /// <summary>
    /// Redis (StackExchange.Redis configuration, e.g. <c>redis1:6379,password=…</c>) shared by several instances: the
    /// second-level cache of lookups and the channel that tells every instance what changed. Empty: one instance.
    /// </summary>
    public string? Redis { get; set; }

    public string RedisChannel { get; set; } = "edgerouter:changes";

    /// <summary>While Redis is unreachable, how long an instance keeps a lookup, since it may miss another's change.</summary>
    public TimeSpan DegradedCacheTtl { get; set; } = TimeSpan.FromSeconds(1);
}

public sealed class ServingOptions
{
    /// <summary>Cache-Control on a 404, short so a CDN retries soon but does not hammer the origin.</summary>
    public string NotFoundCacheControl { get; set; } = "public, max-age=60";

    /// <summary>Cache-Control on the redirect itself in <c>redirect</c> mode.</summary>
    public string RedirectCacheControl { get; set; } = "public, max-age=3600";

    /// <summary>
    /// Origins whose pages may read objects across origins (an image drawn into a canvas): their reads get
    /// <c>Access-Control-Allow-Origin</c>. None by default; <c>*</c> allows any.
    /// </summary>
    public IList<string> CorsAllowedOrigins { get; } = [];

    /// <summary>Cache-Control for objects when the storage sets none.</summary>
    public string DefaultCacheControl { get; set; } = "public, max-age=31536000, immutable";

    /// <summary>How long a forwarded request may be idle before the backend is considered gone (504).</summary>
    public TimeSpan ProxyActivityTimeout { get; set; } = TimeSpan.FromSeconds(60);

    public TimeSpan ProxyConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Runs requests on Kestrel's socket threads instead of handing each to the thread pool (fewer thread hops);
    /// read once at start-up. Default: on.
    /// </summary>
    public bool InlineIoScheduling { get; set; } = true;

    /// <summary>
    /// The thread pool's minimum worker threads, set at start-up. Default: 16 with the shared catalog (PostgreSQL or
    /// Redis), whose clients complete on the pool; the runtime's own (one per core) with SQLite.
    /// </summary>
    public int? MinThreadPoolThreads { get; set; }
}

public sealed class MetricsOptions
{
    /// <summary>The networks <c>/metrics</c> answers when no <c>Admin:Port</c> is set: loopback and private ranges.</summary>
    public static readonly IReadOnlyList<string> DefaultAllowedNetworks = ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"];

    /// <summary>Serve the Prometheus scrape endpoint, <c>/metrics</c>.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Networks (CIDR) whose clients may scrape <c>/metrics</c> on the public port; null means
    /// <see cref="DefaultAllowedNetworks"/>. (A list the binder would append to, were it filled here.)
    /// </summary>
    public IList<string>? AllowedNetworks { get; set; }
}

public sealed class HealthOptions
{
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Consecutive failed probes before a storage is taken out of placement (a failed write counts at once).</summary>
    public int UnhealthyAfterProbeFailures { get; set; } = 2;
}

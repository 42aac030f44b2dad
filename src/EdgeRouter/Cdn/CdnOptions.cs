namespace EdgeRouter.Cdn;

/// <summary><c>EdgeRouter:Cdn</c>: the CDNs in front of the router, purged when an object changes, and the cache tags it answers with.</summary>
public sealed class CdnOptions
{
    /// <summary>Where purges go; each change of an object (delete, overwrite, move) is purged once on every one.</summary>
    public IList<CdnTargetOptions> Targets { get; } = [];

    /// <summary>Whether object answers carry <c>Cache-Tag</c> and <c>Surrogate-Key</c> naming the object and its storage.</summary>
    public bool CacheTags { get; set; } = true;

    /// <summary>A <c>Surrogate-Control</c> for object answers (Fastly and other surrogates; stripped before the browser), e.g. <c>max-age=86400</c>.</summary>
    public string? SurrogateControl { get; set; }

    /// <summary>A <c>CDN-Cache-Control</c> for object answers (Cloudflare and others; RFC 9213), a CDN-only TTL beside Cache-Control.</summary>
    public string? CdnCacheControl { get; set; }

    /// <summary>Tries of a purge before it is dead-lettered (shown in the admin, retried only by hand).</summary>
    public int MaxAttempts { get; set; } = 8;

    /// <summary>How often an idle instance looks for purges to send.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long claimed purges stay an instance's while it sends them; a dead instance's are sent by another once it runs out.</summary>
    public TimeSpan LeaseTime { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>The longest wait between two tries of a purge (exponential from one second, with jitter).</summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long sent purges stay listed in the admin.</summary>
    public TimeSpan SentRetention { get; set; } = TimeSpan.FromDays(1);
}

/// <summary>One purge target: a CDN's API or a webhook. Secrets may be given as <c>${ENV_VAR}</c>.</summary>
public sealed class CdnTargetOptions
{
    /// <summary>The target's name, unique: purges are recorded per target under it.</summary>
    public string Name { get; set; } = string.Empty;

    /// <summary><c>cloudflare</c>, <c>fastly</c>, <c>bunny</c>, <c>cloudfront</c> or <c>webhook</c>.</summary>
    public string Kind { get; set; } = string.Empty;

    /// <summary><c>url</c> (each object's site URL) or <c>tag</c> (its cache tag: Cloudflare Cache-Tag, Fastly surrogate key).</summary>
    public string? PurgeBy { get; set; }

    /// <summary>The API's base URL; the documented one by default (a test or a proxy may point elsewhere).</summary>
    public string? Endpoint { get; set; }

    /// <summary>Cloudflare: the zone id.</summary>
    public string? ZoneId { get; set; }

    /// <summary>Cloudflare (API token, sent as a bearer token) and Fastly (API token, sent as <c>Fastly-Key</c>).</summary>
    public string? ApiToken { get; set; }

    /// <summary>Fastly: the service id.</summary>
    public string? ServiceId { get; set; }

    /// <summary>Bunny CDN: the account API key (sent as <c>AccessKey</c>).</summary>
    public string? ApiKey { get; set; }

    /// <summary>CloudFront: the distribution id.</summary>
    public string? DistributionId { get; set; }

    /// <summary>CloudFront: the IAM credentials allowed <c>cloudfront:CreateInvalidation</c>.</summary>
    public string? AccessKeyId { get; set; }

    public string? SecretAccessKey { get; set; }

    public string? SessionToken { get; set; }

    /// <summary>Webhook: where the events are posted.</summary>
    public string? Url { get; set; }

    /// <summary>Webhook: the HMAC-SHA256 key that signs each event.</summary>
    public string? Secret { get; set; }

    /// <summary>Items per request; the API's documented limit by default.</summary>
    public int? BatchSize { get; set; }

    /// <summary>Requests per second to the API (a token bucket, with a burst of five seconds' worth); per kind by default.</summary>
    public double? RequestsPerSecond { get; set; }
}

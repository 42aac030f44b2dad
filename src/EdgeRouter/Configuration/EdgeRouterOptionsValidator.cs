using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace EdgeRouter.Configuration;

/// <summary>Checks the site-wide settings at start-up; every problem is reported, each naming its field.</summary>
internal sealed partial class EdgeRouterOptionsValidator : IValidateOptions<EdgeRouterOptions>
{
    private static bool IsOrigin(string origin)
        => Uri.TryCreate(origin, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            && string.Equals(uri.GetLeftPart(UriPartial.Authority), origin, StringComparison.OrdinalIgnoreCase);

    public ValidateOptionsResult Validate(string? name, EdgeRouterOptions options)
    {
        var errors = new List<string>();
        const string S = EdgeRouterOptions.SectionName;

        if (!Uri.TryCreate(options.SiteUrl, UriKind.Absolute, out var site) || (site.Scheme != Uri.UriSchemeHttp && site.Scheme != Uri.UriSchemeHttps))
        {
            errors.Add($"{S}:SiteUrl: '{options.SiteUrl}' is not an absolute http(s) URL.");
        }

        if (!options.ObjectPathPrefix.StartsWith('/') || !options.ObjectPathPrefix.EndsWith('/'))
        {
            errors.Add($"{S}:ObjectPathPrefix: '{options.ObjectPathPrefix}' must start and end with '/'.");
        }

        if (string.IsNullOrWhiteSpace(options.StoragesFile))
        {
            errors.Add($"{S}:StoragesFile: a path to storages.json is required.");
        }

        var uploads = options.Uploads;
        if (uploads.MaxUploadBytes <= 0)
        {
            errors.Add($"{S}:Uploads:MaxUploadBytes: must be greater than 0 (was {uploads.MaxUploadBytes}).");
        }

        if (uploads.ApiKeys.Count == 0 && !uploads.AllowAnonymous)
        {
            errors.Add($"{S}:Uploads:ApiKeys: no upload API key is configured. Set EDGEROUTER_API_KEY, add hashed keys, or set {S}:Uploads:AllowAnonymous=true to accept anonymous uploads.");
        }

        for (var i = 0; i < uploads.ApiKeys.Count; i++)
        {
            if (!HashedKey().IsMatch(uploads.ApiKeys[i]))
            {
                // Never echo the value: it may be a plain-text key put in the wrong place.
                errors.Add($"{S}:Uploads:ApiKeys:{i}: must be 'sha256:' followed by 64 hex digits (run 'EdgeRouter hash-key' to make one).");
            }
        }

        if (uploads.MaxFailedKeyAttempts < 1 || uploads.KeyLockoutDuration <= TimeSpan.Zero)
        {
            errors.Add($"{S}:Uploads: MaxFailedKeyAttempts must be at least 1 and KeyLockoutDuration positive.");
        }

        foreach (var proxy in options.KnownProxies.Where(p => !System.Net.IPAddress.TryParse(p, out _)))
        {
            errors.Add($"{S}:KnownProxies: '{proxy}' is not an IP address.");
        }

        foreach (var (setting, networks) in new[] { ("KnownNetworks", options.KnownNetworks), ("Metrics:AllowedNetworks", options.Metrics.AllowedNetworks ?? []) })
        {
            foreach (var network in networks.Where(n => !System.Net.IPNetwork.TryParse(n, out _)))
            {
                errors.Add($"{S}:{setting}: '{network}' is not a network in CIDR form, such as 10.0.0.0/8.");
            }
        }

        errors.AddRange(Cdn.CdnTargets.Problems(options.Cdn));

        var tokens = options.Uploads.Tokens;
        var keyIds = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < tokens.SigningKeys.Count; i++)
        {
            var key = tokens.SigningKeys[i];
            if (string.IsNullOrWhiteSpace(key.Id) || key.Id.Length > 64 || !keyIds.Add(key.Id))
            {
                errors.Add($"{S}:Uploads:Tokens:SigningKeys:{i}:Id: must be 1-64 characters, unique among the signing keys (was '{key.Id}').");
            }

            if (key.Secret.Length < 32)
            {
                // Never echo the value: it is a secret.
                errors.Add($"{S}:Uploads:Tokens:SigningKeys:{i}:Secret: must be at least 32 characters (key '{key.Id}'); set it from the environment, e.g. {S}__Uploads__Tokens__SigningKeys__{i}__Secret.");
            }
        }

        if (tokens.MaxLifetime <= TimeSpan.Zero || tokens.MaxLifetime > TimeSpan.FromDays(1))
        {
            errors.Add($"{S}:Uploads:Tokens:MaxLifetime: must be positive and at most a day (was {tokens.MaxLifetime}).");
        }

        if (tokens.CallbackSecret is { } callbackSecret ? callbackSecret.Length < 32 : tokens.CallbackOrigins.Count > 0)
        {
            errors.Add($"{S}:Uploads:Tokens:CallbackSecret: completion callbacks are signed with it; it must be at least 32 characters (set it from the environment, {S}__Uploads__Tokens__CallbackSecret).");
        }

        foreach (var (setting, origins, any) in new[] { ("Uploads:Cors:AllowedOrigins", options.Uploads.Cors.AllowedOrigins, false), ("Serving:CorsAllowedOrigins", options.Serving.CorsAllowedOrigins, true), ("Uploads:Tokens:CallbackOrigins", tokens.CallbackOrigins, false) })
        {
            foreach (var origin in origins.Where(o => !(any && o == "*") && !IsOrigin(o)))
            {
                errors.Add($"{S}:{setting}: '{origin}' is not an origin (scheme, host and port, such as https://app.example.com, without a path){(any ? " or *" : null)}.");
            }
        }

        var cache = options.OriginCache;
        if (cache.MemoryBytes < 0)
        {
            errors.Add($"{S}:OriginCache:MemoryBytes: must be 0 (off) or a number of bytes (was {cache.MemoryBytes}).");
        }
        else if (cache.MemoryBytes > 0 && (cache.MaxObjectBytes <= 0 || cache.MaxObjectBytes > Math.Min(cache.MemoryBytes, int.MaxValue)))
        {
            errors.Add($"{S}:OriginCache:MaxObjectBytes: must be between 1 and MemoryBytes ({cache.MemoryBytes}) and below 2 GiB (was {cache.MaxObjectBytes}).");
        }

        if (!string.IsNullOrEmpty(cache.DiskPath) && (cache.DiskBytes <= 0 || cache.DiskMaxObjectBytes < cache.MaxObjectBytes || cache.DiskMaxObjectBytes > cache.DiskBytes))
        {
            errors.Add($"{S}:OriginCache:DiskBytes/DiskMaxObjectBytes: with a DiskPath, DiskBytes must be positive and DiskMaxObjectBytes between MaxObjectBytes ({cache.MaxObjectBytes}) and DiskBytes ({cache.DiskBytes}) (was {cache.DiskMaxObjectBytes}).");
        }

        if (!Serving.Cache.EvictionPolicies.Names.Contains(cache.Eviction, StringComparer.Ordinal))
        {
            errors.Add($"{S}:OriginCache:Eviction: '{cache.Eviction}' is not a policy (known: {string.Join(", ", Serving.Cache.EvictionPolicies.Names)}).");
        }

        if (uploads.MinBytesPerSecond < 0)
        {
            errors.Add($"{S}:Uploads:MinBytesPerSecond: must not be negative (was {uploads.MinBytesPerSecond}).");
        }

        if (uploads.MaxUploadDuration <= TimeSpan.Zero)
        {
            errors.Add($"{S}:Uploads:MaxUploadDuration: must be positive (was {uploads.MaxUploadDuration}).");
        }

        foreach (var type in uploads.AllowedContentTypes)
        {
            if (!ContentType().IsMatch(type))
            {
                errors.Add($"{S}:Uploads:AllowedContentTypes: '{type}' is not a media type such as 'image/png'.");
            }
        }

        if (options.Serving.MinThreadPoolThreads is < 1 or > 1024)
        {
            errors.Add($"{S}:Serving:MinThreadPoolThreads: must be between 1 and 1024 (was {options.Serving.MinThreadPoolThreads}).");
        }

        if (!CatalogProviders.All.Contains(options.Catalog.Provider, StringComparer.OrdinalIgnoreCase))
        {
            errors.Add($"{S}:Catalog:Provider: '{options.Catalog.Provider}' is not available (known: {string.Join(", ", CatalogProviders.All)}).");
        }

        if (options.Catalog.PoolSize is < 1)
        {
            errors.Add($"{S}:Catalog:PoolSize: must be at least 1.");
        }

        if (options.Catalog.Instances is < 1)
        {
            errors.Add($"{S}:Catalog:Instances: must be at least 1.");
        }

        if (options.Catalog.ReservationLifetime <= TimeSpan.Zero)
        {
            errors.Add($"{S}:Catalog:ReservationLifetime: must be positive.");
        }

        if (options.Catalog.DeleteGrace < TimeSpan.Zero)
        {
            errors.Add($"{S}:Catalog:DeleteGrace: must not be negative (was {options.Catalog.DeleteGrace}).");
        }

        // An instance killed between a commit and its announcement leaves the others holding the old record until
        // their cache lets it go; the bytes it names must outlast that, or they serve a redirect or a read that fails.
        if (!string.IsNullOrWhiteSpace(options.Catalog.Redis) && options.Catalog.DeleteGrace < options.Catalog.CacheTtl)
        {
            errors.Add($"{S}:Catalog:DeleteGrace: must be at least Catalog:CacheTtl ({options.Catalog.CacheTtl}) when several instances share the catalog (Catalog:Redis is set), was {options.Catalog.DeleteGrace}: an instance that crashes before announcing a change leaves the others holding the old record for up to CacheTtl, and the bytes it names must still be there.");
        }

        if (options.Catalog.JanitorInterval <= TimeSpan.Zero)
        {
            errors.Add($"{S}:Catalog:JanitorInterval: must be positive (was {options.Catalog.JanitorInterval}).");
        }

        if (string.IsNullOrWhiteSpace(options.Catalog.ConnectionString))
        {
            errors.Add($"{S}:Catalog:ConnectionString: is required.");
        }

        if (options.Catalog.CacheEntryLimit <= 0)
        {
            errors.Add($"{S}:Catalog:CacheEntryLimit: must be greater than 0.");
        }

        if (options.Health.ProbeInterval <= TimeSpan.Zero || options.Health.ProbeTimeout <= TimeSpan.Zero)
        {
            errors.Add($"{S}:Health: ProbeInterval and ProbeTimeout must be positive.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    [GeneratedRegex("^sha256:[0-9a-fA-F]{64}$")]
    private static partial Regex HashedKey();

    [GeneratedRegex(@"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$", RegexOptions.IgnoreCase)]
    private static partial Regex ContentType();
}

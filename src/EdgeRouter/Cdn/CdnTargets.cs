using System.Text.RegularExpressions;
using System.Threading.RateLimiting;
using EdgeRouter.Cdn.Targets;
using EdgeRouter.Configuration;
using Microsoft.Extensions.Options;

namespace EdgeRouter.Cdn;

/// <summary>The configured purge targets by name, each with the token bucket that paces its requests.</summary>
public sealed partial class CdnTargets : IDisposable
{
    public const string HttpClientName = "EdgeRouter.Cdn";

    private readonly Dictionary<string, (ICdnPurgeTarget Target, RateLimiter Limiter)> _targets = new(StringComparer.Ordinal);

    public CdnTargets(IOptions<EdgeRouterOptions> options, IHttpClientFactory clients, CacheTags tags, TimeProvider timeProvider)
    {
        if (!string.IsNullOrEmpty(options.Value.Uploads.Tokens.CallbackSecret))
        {
            Add(new CallbackTarget(options, clients.CreateClient(HttpClientName), timeProvider));
        }

        foreach (var o in options.Value.Cdn.Targets)
        {
            var client = clients.CreateClient(HttpClientName);
            Add(o.Kind switch
            {
                CloudflareTarget.Kind => new CloudflareTarget(o, client, tags),
                FastlyTarget.Kind => new FastlyTarget(o, client, tags),
                BunnyTarget.Kind => new BunnyTarget(o, client, tags),
                CloudFrontTarget.Kind => new CloudFrontTarget(o, client, tags, timeProvider),
                _ => new WebhookTarget(o, client, tags, timeProvider),
            });
        }
    }

    /// <summary>The configured purge targets (not the built-in callback target), each change of an object is purged on.</summary>
    public IReadOnlyList<string> PurgeNames => [.. _targets.Keys.Where(n => n != PurgeOutboxSql.CallbackTarget)];

    /// <summary>Every target, the callback one included: what the worker sends to.</summary>
    public IReadOnlyList<string> Names => [.. _targets.Keys];

    /// <summary>A target with its token bucket: a burst of five seconds' worth, refilled ten times a second.</summary>
    private void Add(ICdnPurgeTarget target)
    {
        var perPeriod = Math.Max(1, (int)Math.Ceiling(target.RequestsPerSecond / 10));
        var limiter = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(1, (int)Math.Ceiling(target.RequestsPerSecond * 5)),
            TokensPerPeriod = perPeriod,
            ReplenishmentPeriod = TimeSpan.FromSeconds(perPeriod / target.RequestsPerSecond),
            QueueLimit = int.MaxValue,
            AutoReplenishment = true,
        });
        _targets[target.Name] = (target, limiter);
    }

    public bool TryGet(string name, out ICdnPurgeTarget target, out RateLimiter limiter)
    {
        var found = _targets.TryGetValue(name, out var entry);
        (target, limiter) = (entry.Target!, entry.Limiter!);
        return found;
    }

    public void Dispose()
    {
        foreach (var (_, limiter) in _targets.Values)
        {
            limiter.Dispose();
        }
    }

    /// <summary>Replaces <c>${ENV_VAR}</c> references in the targets' settings; one whose variable is not set stays, for <see cref="Problems"/> to name.</summary>
    internal static void ExpandEnvironment(CdnOptions cdn, Func<string, string?> environment)
    {
        foreach (var target in cdn.Targets)
        {
            foreach (var property in typeof(CdnTargetOptions).GetProperties().Where(p => p.PropertyType == typeof(string)))
            {
                if (property.GetValue(target) is string text)
                {
                    var complete = true;
                    var expanded = EnvironmentReferences.Expand(text, environment, _ => complete = false);
                    if (complete)
                    {
                        property.SetValue(target, expanded);
                    }
                }
            }
        }
    }

    /// <summary>Every problem with <c>EdgeRouter:Cdn</c>, each naming the target and the field.</summary>
    internal static IEnumerable<string> Problems(CdnOptions cdn)
    {
        const string S = "EdgeRouter:Cdn";
        if (cdn.MaxAttempts < 1 || cdn.PollInterval <= TimeSpan.Zero || cdn.MaxBackoff < TimeSpan.FromSeconds(1))
        {
            yield return $"{S}: MaxAttempts must be at least 1, PollInterval positive and MaxBackoff at least a second.";
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < cdn.Targets.Count; i++)
        {
            var t = cdn.Targets[i];
            var at = $"{S}:Targets:{i} ('{t.Name}')";
            if (t.Name == PurgeOutboxSql.CallbackTarget)
            {
                yield return $"{at}: name '{PurgeOutboxSql.CallbackTarget}' is the router's own (upload tokens' completion callbacks); choose another.";
            }
            else if (!NamePattern().IsMatch(t.Name))
            {
                yield return $"{at}: name must be 1-64 characters of a-z, 0-9, '-' or '_'.";
            }
            else if (!names.Add(t.Name))
            {
                yield return $"{at}: name is used by another target.";
            }

            foreach (var property in typeof(CdnTargetOptions).GetProperties().Where(p => p.PropertyType == typeof(string)))
            {
                if (property.GetValue(t) is string text && EnvironmentReferences.First(text) is { } variable)
                {
                    yield return $"{at}: {Field(property.Name)} refers to environment variable '{variable}', which is not set.";
                }
            }

            var (required, purgeBy, maxBatch) = t.Kind switch
            {
                CloudflareTarget.Kind => ((string[])["zoneId", "apiToken"], (string[])["url", "tag"], 500),
                FastlyTarget.Kind => (["serviceId", "apiToken"], ["tag", "url"], 256),
                BunnyTarget.Kind => (["apiKey"], ["url"], 1),
                CloudFrontTarget.Kind => (["distributionId", "accessKeyId", "secretAccessKey"], ["url"], 3000),
                WebhookTarget.Kind => (["url", "secret"], [], 1),
                _ => (null, null, 0),
            };
            if (required is null)
            {
                yield return $"{at}: kind must be one of cloudflare, fastly, bunny, cloudfront, webhook (was '{t.Kind}').";
                continue;
            }

            foreach (var field in required.Where(f => string.IsNullOrWhiteSpace((string?)typeof(CdnTargetOptions).GetProperty(f, System.Reflection.BindingFlags.IgnoreCase | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance)!.GetValue(t))))
            {
                yield return $"{at}: {field} is required for kind '{t.Kind}'.";
            }

            if (t.PurgeBy is not null && !purgeBy!.Contains(t.PurgeBy))
            {
                yield return $"{at}: purgeBy must be {(purgeBy!.Length == 0 ? "left out" : string.Join(" or ", purgeBy.Select(p => $"'{p}'")))} for kind '{t.Kind}' (was '{t.PurgeBy}').";
            }

            foreach (var (field, value) in new[] { ("endpoint", t.Endpoint), ("url", t.Kind == WebhookTarget.Kind ? t.Url : null) })
            {
                if (!string.IsNullOrEmpty(value) && (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)))
                {
                    yield return $"{at}: {field} must be an absolute http(s) URL.";
                }
            }

            if (t.BatchSize is { } batch && (batch < 1 || batch > maxBatch))
            {
                yield return $"{at}: batchSize must be between 1 and {maxBatch} for kind '{t.Kind}' (was {batch}).";
            }

            if (t.RequestsPerSecond is <= 0)
            {
                yield return $"{at}: requestsPerSecond must be above 0.";
            }
        }
    }

    private static string Field(string property) => char.ToLowerInvariant(property[0]) + property[1..];

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,63}$", RegexOptions.IgnoreCase)]
    private static partial Regex NamePattern();
}

using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace EdgeRouter.Cdn.Targets;

/// <summary>
/// Cloudflare's <c>POST /client/v4/zones/{zone}/purge_cache</c> with an API token: an object by its URL (<c>files</c>)
/// or, with <c>purgeBy: "tag"</c>, by its cache tag; a storage by its tag. At most 100 per request on every plan.
/// </summary>
internal sealed class CloudflareTarget(CdnTargetOptions options, HttpClient client, CacheTags tags) : ICdnPurgeTarget
{
    public const string Kind = "cloudflare";
    public const string DefaultEndpoint = "https://api.cloudflare.com";

    public string Name => options.Name;

    public int BatchSize => options.BatchSize ?? 100;

    // The Pro and Business plans' refill; a Free zone's tighter limit answers 429 with Retry-After, which is honoured.
    public double RequestsPerSecond => options.RequestsPerSecond ?? 5;

    public Task<PurgeResult> SendAsync(IReadOnlyList<PurgeRow> batch, CancellationToken cancellationToken)
    {
        var body = new JsonObject();
        if (batch[0].Scope == PurgeScopes.Storage)
        {
            body["tags"] = new JsonArray([.. batch.Select(p => (JsonNode)CacheTags.ForStorage(p.Subject))]);
        }
        else if (options.PurgeBy == "tag")
        {
            body["tags"] = new JsonArray([.. batch.Select(p => (JsonNode)CacheTags.ForKey(p.Subject))]);
        }
        else
        {
            body["files"] = new JsonArray([.. batch.Select(p => (JsonNode)tags.Url(p.Subject))]);
        }

        var request = new HttpRequestMessage(HttpMethod.Post, $"{(options.Endpoint ?? DefaultEndpoint).TrimEnd('/')}/client/v4/zones/{Uri.EscapeDataString(options.ZoneId!)}/purge_cache")
        {
            Content = JsonContent.Create(body),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", options.ApiToken);
        return CdnHttp.SendAsync(client, request, cancellationToken, answer => JsonNode.Parse(answer)?["success"]?.GetValue<bool>() != false);
    }
}

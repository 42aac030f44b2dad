using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace EdgeRouter.Cdn.Targets;

/// <summary>
/// Fastly with an API token (<c>Fastly-Key</c>): by surrogate key, <c>POST /service/{id}/purge</c> with
/// <c>surrogate_keys</c> (up to 256 a request), the default; or with <c>purgeBy: "url"</c> each object by
/// <c>POST /purge/{host and path}</c>. A storage is always purged by its surrogate key.
/// </summary>
internal sealed class FastlyTarget(CdnTargetOptions options, HttpClient client, CacheTags tags) : ICdnPurgeTarget
{
    public const string Kind = "fastly";
    public const string DefaultEndpoint = "https://api.fastly.com";

    private bool ByUrl => options.PurgeBy == "url";

    public string Name => options.Name;

    public int BatchSize => options.BatchSize ?? (ByUrl ? 1 : 256);

    public double RequestsPerSecond => options.RequestsPerSecond ?? 10;

    public Task<PurgeResult> SendAsync(IReadOnlyList<PurgeRow> batch, CancellationToken cancellationToken)
    {
        var endpoint = (options.Endpoint ?? DefaultEndpoint).TrimEnd('/');
        HttpRequestMessage request;
        if (ByUrl && batch[0].Scope == PurgeScopes.Key)
        {
            var url = new Uri(tags.Url(batch[0].Subject));
            request = new HttpRequestMessage(HttpMethod.Post, $"{endpoint}/purge/{url.Authority}{url.AbsolutePath}");
        }
        else
        {
            var keys = batch.Select(p => (JsonNode)(p.Scope == PurgeScopes.Storage ? CacheTags.ForStorage(p.Subject) : CacheTags.ForKey(p.Subject)));
            request = new HttpRequestMessage(HttpMethod.Post, $"{endpoint}/service/{Uri.EscapeDataString(options.ServiceId!)}/purge")
            {
                Content = JsonContent.Create(new JsonObject { ["surrogate_keys"] = new JsonArray([.. keys]) }),
            };
        }

        request.Headers.Add("Fastly-Key", options.ApiToken);
        return CdnHttp.SendAsync(client, request, cancellationToken);
    }
}

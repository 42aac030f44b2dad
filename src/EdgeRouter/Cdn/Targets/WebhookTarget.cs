using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace EdgeRouter.Cdn.Targets;

/// <summary>
/// Posts each purge as a JSON event to a URL, for any other CDN or cache (Varnish, nginx): <c>{"id", "event", "scope",
/// "key", "url", "storage", "tags", "time"}</c>, signed in <c>EdgeRouter-Signature: t={unix seconds},v1={hex}</c>, the
/// HMAC-SHA256 of <c>"{t}.{body}"</c> under the target's secret (the time inside the signature stops a replay).
/// </summary>
internal sealed class WebhookTarget(CdnTargetOptions options, HttpClient client, CacheTags tags, TimeProvider timeProvider) : ICdnPurgeTarget
{
    public const string Kind = "webhook";
    public const string SignatureHeader = "EdgeRouter-Signature";

    public string Name => options.Name;

    public int BatchSize => 1;

    public double RequestsPerSecond => options.RequestsPerSecond ?? 20;

    public Task<PurgeResult> SendAsync(IReadOnlyList<PurgeRow> batch, CancellationToken cancellationToken)
    {
        var purge = batch[0];
        var byStorage = purge.Scope == PurgeScopes.Storage;
        var body = new JsonObject
        {
            ["id"] = purge.Id,
            ["event"] = purge.Event,
            ["scope"] = purge.Scope,
            ["key"] = byStorage ? null : purge.Subject,
            ["url"] = byStorage ? null : tags.Url(purge.Subject),
            ["storage"] = purge.StorageId,
            ["tags"] = new JsonArray(byStorage ? CacheTags.ForStorage(purge.Subject) : CacheTags.ForKey(purge.Subject)),
            ["time"] = purge.CreatedAt.ToString("O", CultureInfo.InvariantCulture),
        }.ToJsonString();
        var request = new HttpRequestMessage(HttpMethod.Post, options.Url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add(SignatureHeader, Sign(options.Secret!, timeProvider.GetUtcNow(), body));
        return CdnHttp.SendAsync(client, request, cancellationToken);
    }

    public static string Sign(string secret, DateTimeOffset at, string body)
    {
        var t = at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(t + "." + body));
        return $"t={t},v1={Convert.ToHexStringLower(mac)}";
    }
}

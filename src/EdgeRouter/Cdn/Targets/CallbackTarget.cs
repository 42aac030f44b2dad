using System.Text;
using EdgeRouter.Configuration;
using Microsoft.Extensions.Options;

namespace EdgeRouter.Cdn.Targets;

/// <summary>
/// Upload tokens' completion callbacks, from the outbox: each one's object JSON posted to its token's callback URL,
/// signed as webhooks are (<c>EdgeRouter-Signature</c>, under <c>Uploads:Tokens:CallbackSecret</c>).
/// </summary>
internal sealed class CallbackTarget(IOptions<EdgeRouterOptions> options, HttpClient client, TimeProvider timeProvider) : ICdnPurgeTarget
{
    private readonly string _secret = options.Value.Uploads.Tokens.CallbackSecret!;

    public string Name => PurgeOutboxSql.CallbackTarget;

    public int BatchSize => 1;

    public double RequestsPerSecond => 20;

    public Task<PurgeResult> SendAsync(IReadOnlyList<PurgeRow> batch, CancellationToken cancellationToken)
    {
        var callback = batch[0];
        var body = callback.Payload ?? "{}";
        var request = new HttpRequestMessage(HttpMethod.Post, callback.Subject) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add(WebhookTarget.SignatureHeader, WebhookTarget.Sign(_secret, timeProvider.GetUtcNow(), body));
        return CdnHttp.SendAsync(client, request, cancellationToken);
    }
}

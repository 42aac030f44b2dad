namespace EdgeRouter.Cdn.Targets;

/// <summary>
/// Bunny CDN's <c>POST /purge?url=…</c> with the account API key (<c>AccessKey</c>), one URL a request. A storage has no
/// tag there: the whole site is purged (<c>{site}*</c>, a wildcard purge).
/// </summary>
internal sealed class BunnyTarget(CdnTargetOptions options, HttpClient client, CacheTags tags) : ICdnPurgeTarget
{
    public const string Kind = "bunny";
    public const string DefaultEndpoint = "https://api.bunny.net";

    public string Name => options.Name;

    public int BatchSize => 1;

    // Exact purges refill at 5 a second (burst 120).
    public double RequestsPerSecond => options.RequestsPerSecond ?? 5;

    public Task<PurgeResult> SendAsync(IReadOnlyList<PurgeRow> batch, CancellationToken cancellationToken)
    {
        var purge = batch[0];
        var url = purge.Scope == PurgeScopes.Storage ? tags.Url(string.Empty) + "*" : tags.Url(purge.Subject);
        var request = new HttpRequestMessage(HttpMethod.Post, $"{(options.Endpoint ?? DefaultEndpoint).TrimEnd('/')}/purge?url={Uri.EscapeDataString(url)}&async=false");
        request.Headers.Add("AccessKey", options.ApiKey);
        return CdnHttp.SendAsync(client, request, cancellationToken);
    }
}

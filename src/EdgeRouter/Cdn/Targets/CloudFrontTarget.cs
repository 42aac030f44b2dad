using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Amazon.Runtime.Internal.Auth;

namespace EdgeRouter.Cdn.Targets;

/// <summary>
/// Amazon CloudFront's <c>CreateInvalidation</c> (<c>POST /2020-05-31/distribution/{id}/invalidation</c>, an XML
/// <c>InvalidationBatch</c>) signed with SigV4 by AWSSDK.Core's signer (AWSSDK.CloudFront is not used). Objects by their
/// paths; a storage has no tag there, so the whole distribution (<c>{prefix}*</c>). The caller reference is derived from
/// the batch's purges, so a retry of a batch CloudFront did take is answered with that invalidation, not a second one.
/// </summary>
internal sealed class CloudFrontTarget(CdnTargetOptions options, HttpClient client, CacheTags tags, TimeProvider timeProvider) : ICdnPurgeTarget
{
    public const string Kind = "cloudfront";
    public const string DefaultEndpoint = "https://cloudfront.amazonaws.com";
    private const string Service = "cloudfront";

    // CloudFront is a global service, signed in us-east-1.
    private const string Region = "us-east-1";

    public string Name => options.Name;

    public int BatchSize => options.BatchSize ?? 100;

    public double RequestsPerSecond => options.RequestsPerSecond ?? 1;

    public Task<PurgeResult> SendAsync(IReadOnlyList<PurgeRow> batch, CancellationToken cancellationToken)
    {
        var paths = batch[0].Scope == PurgeScopes.Storage
            ? [new Uri(tags.Url(string.Empty)).AbsolutePath + "*"]
            : batch.Select(p => new Uri(tags.Url(p.Subject)).AbsolutePath).Distinct(StringComparer.Ordinal).ToList();
        var reference = "edgerouter-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(options.Name + ":" + string.Join(',', batch.Select(p => p.Id)))), 0, 16);
        var xml = new StringBuilder("""<?xml version="1.0" encoding="UTF-8"?><InvalidationBatch xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Paths>""")
            .Append(CultureInfo.InvariantCulture, $"<Quantity>{paths.Count}</Quantity><Items>");
        foreach (var path in paths)
        {
            xml.Append("<Path>").Append(System.Security.SecurityElement.Escape(path)).Append("</Path>");
        }

        xml.Append("</Items></Paths><CallerReference>").Append(reference).Append("</CallerReference></InvalidationBatch>");
        var body = xml.ToString();

        var uri = new Uri($"{(options.Endpoint ?? DefaultEndpoint).TrimEnd('/')}/2020-05-31/distribution/{Uri.EscapeDataString(options.DistributionId!)}/invalidation");
        var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new StringContent(body, Encoding.UTF8, "text/xml") };
        Sign(request, uri, body, timeProvider.GetUtcNow().UtcDateTime);
        return CdnHttp.SendAsync(client, request, cancellationToken);
    }

    /// <summary>SigV4: the canonical request is built here, the signature by AWSSDK.Core.</summary>
    private void Sign(HttpRequestMessage request, Uri uri, string body, DateTime signedAt)
    {
        var payloadHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(body)));
        var amzDate = signedAt.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var headers = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["host"] = uri.IsDefaultPort ? uri.Host : uri.Authority,
            ["x-amz-content-sha256"] = payloadHash,
            ["x-amz-date"] = amzDate,
        };
        if (!string.IsNullOrEmpty(options.SessionToken))
        {
            headers["x-amz-security-token"] = options.SessionToken;
        }

        var signedHeaders = string.Join(';', headers.Keys);
        var canonical = new StringBuilder("POST\n").Append(uri.AbsolutePath).Append("\n\n");
        foreach (var (name, value) in headers)
        {
            canonical.Append(name).Append(':').Append(value).Append('\n');
        }

        canonical.Append('\n').Append(signedHeaders).Append('\n').Append(payloadHash);
        var signature = AWS4Signer.ComputeSignature(options.AccessKeyId, options.SecretAccessKey, Region, signedAt, Service, signedHeaders, canonical.ToString());
        foreach (var (name, value) in headers.Where(h => h.Key != "host"))
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        request.Headers.TryAddWithoutValidation("Authorization", signature.ForAuthorizationHeader);
    }
}

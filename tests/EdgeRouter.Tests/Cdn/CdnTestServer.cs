using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using WireMock.Logging;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace EdgeRouter.Tests.Cdn;

/// <summary>
/// One WireMock server playing every CDN's purge API at its documented path (Cloudflare, Fastly, Bunny, CloudFront)
/// and a webhook receiver, with the router's settings that point five targets at it. These APIs cannot run here.
/// </summary>
internal sealed class CdnTestServer : IDisposable
{
    public const string CloudflareZone = "023e105f4ecef8ad9ca31a8372d0c353";
    public const string CloudflareToken = "cf-token-Y2xvdWRmbGFyZQ";
    public const string FastlyService = "SU1Z0isxPaozGVKXdv0eY";
    public const string FastlyToken = "fastly-token-ZmFzdGx5";
    public const string BunnyKey = "bunny-key-YnVubnk";
    public const string Distribution = "EDFDVBD6EXAMPLE";
    public const string AccessKeyId = "AKIAIOSFODNN7EXAMPLE";
    public const string SecretAccessKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    public const string WebhookSecret = "whsec-d2ViaG9vaw";

    /// <summary>The documented success answers' priority: a test's own answer (priority 1) goes first.</summary>
    private const int Fallback = 100;

    public CdnTestServer()
    {
        Server = WireMockServer.Start();
        Server.Given(Request.Create().WithPath($"/client/v4/zones/{CloudflareZone}/purge_cache").UsingPost()).AtPriority(Fallback)
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("""{"success":true,"errors":[],"messages":[],"result":{"id":"9a7806061c88ada191ed06f989cc3dac"}}"""));
        Server.Given(Request.Create().WithPath($"/service/{FastlyService}/purge").UsingPost()).AtPriority(Fallback)
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("""{"er-k-0":"108-1391560174-974124"}"""));
        Server.Given(Request.Create().WithPath("/purge").UsingPost()).AtPriority(Fallback).RespondWith(Response.Create().WithStatusCode(204));
        Server.Given(Request.Create().WithPath(new WireMock.Matchers.WildcardMatcher("/purge/*")).UsingPost()).AtPriority(Fallback)
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("""{"status":"ok","id":"108-1391560174-974124"}"""));
        Server.Given(Request.Create().WithPath($"/2020-05-31/distribution/{Distribution}/invalidation").UsingPost()).AtPriority(Fallback)
            .RespondWith(Response.Create().WithStatusCode(201).WithHeader("Content-Type", "text/xml").WithBody("""<?xml version="1.0"?><Invalidation xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Id>I2J0I21PCUYOIK</Id><Status>InProgress</Status></Invalidation>"""));
        Server.Given(Request.Create().WithPath("/hooks/purge").UsingPost()).AtPriority(Fallback).RespondWith(Response.Create().WithStatusCode(200));
    }

    public WireMockServer Server { get; }

    public string Url => Server.Url!;

    /// <summary>The router's settings for the five targets (and a quick worker), plus <paramref name="extra"/>.</summary>
    public Dictionary<string, string?> Settings(IDictionary<string, string?>? extra = null, params string[] kinds)
    {
        var targets = new (string Kind, Dictionary<string, string?> Fields)[]
        {
            ("cloudflare", new() { ["ZoneId"] = CloudflareZone, ["ApiToken"] = CloudflareToken }),
            ("fastly", new() { ["ServiceId"] = FastlyService, ["ApiToken"] = FastlyToken }),
            ("bunny", new() { ["ApiKey"] = BunnyKey }),
            ("cloudfront", new() { ["DistributionId"] = Distribution, ["AccessKeyId"] = AccessKeyId, ["SecretAccessKey"] = SecretAccessKey }),
            ("webhook", new() { ["Url"] = Url + "/hooks/purge", ["Secret"] = WebhookSecret }),
        };
        var settings = new Dictionary<string, string?>
        {
            ["EdgeRouter:Cdn:PollInterval"] = "00:00:00.100",
            ["EdgeRouter:Cdn:MaxBackoff"] = "00:00:01",
        };
        var i = 0;
        foreach (var (kind, fields) in targets.Where(t => kinds.Length == 0 || kinds.Contains(t.Kind)))
        {
            var at = $"EdgeRouter:Cdn:Targets:{i++}:";
            settings[at + "Name"] = kind;
            settings[at + "Kind"] = kind;
            if (kind != "webhook")
            {
                settings[at + "Endpoint"] = Url;
            }

            foreach (var (name, value) in fields)
            {
                settings[at + name] = value;
            }
        }

        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        return settings;
    }

    public IReadOnlyList<ILogEntry> Requests(string pathStart)
        => [.. Server.LogEntries.Where(e => e.RequestMessage.Path.StartsWith(pathStart, StringComparison.Ordinal)).OrderBy(e => e.RequestMessage.DateTime)];

    public static string Header(ILogEntry entry, string name)
        => entry.RequestMessage.Headers!.Single(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value.Single();

    /// <summary>SigV4 as AWS documents it, computed here from scratch to check the router's signature.</summary>
    public static string ExpectedSigV4(ILogEntry entry)
    {
        var message = entry.RequestMessage;
        var date = Header(entry, "x-amz-date");
        var payload = Header(entry, "x-amz-content-sha256");
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(message.Body!))), payload);
        var canonical = $"POST\n{message.Path}\n\nhost:{new Uri(message.Url).Authority}\nx-amz-content-sha256:{payload}\nx-amz-date:{date}\n\nhost;x-amz-content-sha256;x-amz-date\n{payload}";
        var scope = $"{date[..8]}/us-east-1/cloudfront/aws4_request";
        var toSign = $"AWS4-HMAC-SHA256\n{date}\n{scope}\n{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))}";
        var key = Encoding.UTF8.GetBytes("AWS4" + SecretAccessKey);
        foreach (var part in new[] { date[..8], "us-east-1", "cloudfront", "aws4_request" })
        {
            key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(part));
        }

        var signature = Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(toSign)));
        return $"AWS4-HMAC-SHA256 Credential={AccessKeyId}/{scope}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={signature}";
    }

    /// <summary>Checks a webhook's <c>EdgeRouter-Signature</c> as a receiver would: the HMAC of "{t}.{body}", and a recent t.</summary>
    public static void AssertSigned(ILogEntry entry)
    {
        var parts = Header(entry, "EdgeRouter-Signature").Split(',').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        var t = long.Parse(parts["t"], CultureInfo.InvariantCulture);
        Assert.InRange(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - t, -5, 300);
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(WebhookSecret), Encoding.UTF8.GetBytes(parts["t"] + "." + entry.RequestMessage.Body)));
        Assert.Equal(expected, parts["v1"]);
    }

    public void Dispose()
    {
        Server.Stop();
        Server.Dispose();
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using EdgeRouter.Cdn;
using EdgeRouter.Tests.Jobs;
using EdgeRouter.Tests.TestUtilities;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace EdgeRouter.Tests.Cdn;

/// <summary>
/// Every change that alters what a URL answers (a delete, an overwrite, a migration's switch) is purged once on every
/// target, as each CDN's API documents it; failures are retried and dead-lettered; answers carry cache tags.
/// </summary>
public sealed class CdnPurgeTests : IDisposable
{
    private const string Storages = """
        { "id": "main", "api": "local", "root": "data/main", "read": "stream" },
        { "id": "second", "api": "local", "root": "data/second", "read": "stream", "weight": 0 }
        """;

    private readonly CdnTestServer _cdn = new();

    public void Dispose() => _cdn.Dispose();

    [Fact]
    public async Task ADeleteAnOverwriteAndAMigrationSwitch_EachPurgeOncePerTarget_AsEachApiDocuments()
    {
        using var router = JobsTestRouter.Create(Storages, _cdn.Settings());
        using var uploads = router.CreateAuthorizedClient();
        using var admin = JobsTestRouter.AdminClient(router);
        foreach (var key in new[] { "a/replaced.png", "a/deleted.png", "b/moved.png", "a/untouched.png" })
        {
            Assert.Equal(HttpStatusCode.Created, (await uploads.PutAsync("/api/v1/objects/" + key, TestFiles.Raw(TestFiles.Png(), "image/png"))).StatusCode);
        }

        Assert.Equal(HttpStatusCode.Created, (await uploads.PutAsync("/api/v1/objects/a/replaced.png?overwrite=true", TestFiles.Raw(TestFiles.Png(500), "image/png"))).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await uploads.DeleteAsync("/api/v1/objects/a/deleted.png")).StatusCode);
        var migration = await JobsTestRouter.RunAsync(admin, """{ "kind": "migrate", "from": "main", "to": "second", "prefix": "b/" }""");
        Assert.Equal(1, JobsTestRouter.Count(migration, "moved"));

        var outbox = await WaitForOutboxAsync(admin, sent: 15);

        Assert.Equal(0, (long)outbox["pending"]!);
        Assert.Equal(0, (long)outbox["dead"]!);
        var changed = new Dictionary<string, string> { ["a/replaced.png"] = "replaced", ["a/deleted.png"] = "deleted", ["b/moved.png"] = "moved" };
        var urls = changed.Keys.Select(k => RouterFactory.SiteUrl + k).Order().ToList();
        var keyTags = changed.Keys.Select(CacheTags.ForKey).Order().ToList();

        // Cloudflare: a bearer token, {"files": [...]}, each URL once.
        var cloudflare = _cdn.Requests($"/client/v4/zones/{CdnTestServer.CloudflareZone}/purge_cache");
        Assert.All(cloudflare, r => Assert.Equal("Bearer " + CdnTestServer.CloudflareToken, CdnTestServer.Header(r, "Authorization")));
        Assert.Equal(urls, cloudflare.SelectMany(r => JsonNode.Parse(r.RequestMessage.Body!)!["files"]!.AsArray().Select(f => (string)f!)).Order());

        // Fastly: Fastly-Key, {"surrogate_keys": [...]}, each object's key tag once.
        var fastly = _cdn.Requests($"/service/{CdnTestServer.FastlyService}/purge");
        Assert.All(fastly, r => Assert.Equal(CdnTestServer.FastlyToken, CdnTestServer.Header(r, "Fastly-Key")));
        Assert.Equal(keyTags, fastly.SelectMany(r => JsonNode.Parse(r.RequestMessage.Body!)!["surrogate_keys"]!.AsArray().Select(f => (string)f!)).Order());

        // Bunny: AccessKey, one URL a request in the query.
        var bunny = _cdn.Requests("/purge");
        Assert.All(bunny, r => Assert.Equal(CdnTestServer.BunnyKey, CdnTestServer.Header(r, "AccessKey")));
        Assert.All(bunny, r => Assert.Equal("false", r.RequestMessage.Query!["async"].Single()));
        Assert.Equal(urls, bunny.Select(r => r.RequestMessage.Query!["url"].Single()).Order());

        // CloudFront: SigV4 (checked from scratch), an InvalidationBatch whose paths are the keys' and whose Quantity counts them.
        var cloudfront = _cdn.Requests($"/2020-05-31/distribution/{CdnTestServer.Distribution}/invalidation");
        Assert.All(cloudfront, r => Assert.Equal(CdnTestServer.ExpectedSigV4(r), CdnTestServer.Header(r, "Authorization")));
        var batches = cloudfront.Select(r => System.Xml.Linq.XDocument.Parse(r.RequestMessage.Body!)).ToList();
        System.Xml.Linq.XNamespace ns = "http://cloudfront.amazonaws.com/doc/2020-05-31/";
        Assert.All(batches, b => Assert.Equal(b.Descendants(ns + "Path").Count(), (int)b.Descendants(ns + "Quantity").Single()));
        Assert.Equal(changed.Keys.Select(k => "/" + k).Order(), batches.SelectMany(b => b.Descendants(ns + "Path").Select(p => p.Value)).Order());
        Assert.Equal(batches.Count, batches.Select(b => b.Descendants(ns + "CallerReference").Single().Value).Distinct().Count());

        // The webhook: one signed event per change, naming it.
        var hooks = _cdn.Requests("/hooks/purge");
        Assert.Equal(3, hooks.Count);
        Assert.All(hooks, CdnTestServer.AssertSigned);
        var events = hooks.Select(h => JsonNode.Parse(h.RequestMessage.Body!)!).ToDictionary(e => (string)e["key"]!, e => e);
        foreach (var (key, kind) in changed)
        {
            Assert.Equal(kind, (string?)events[key]["event"]);
            Assert.Equal(RouterFactory.SiteUrl + key, (string?)events[key]["url"]);
            Assert.Equal("main", (string?)events[key]["storage"]);
            Assert.Equal(CacheTags.ForKey(key), (string?)events[key]["tags"]![0]);
        }
    }

    [Fact]
    public async Task A429WithRetryAfter_IsHonoured_ThenThePurgeIsSent()
    {
        _cdn.Server.Given(Request.Create().WithPath($"/client/v4/zones/{CdnTestServer.CloudflareZone}/purge_cache").UsingPost())
            .InScenario("rate").WillSetStateTo("limited")
            .AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(429).WithHeader("Retry-After", "2").WithBody("""{"success":false,"errors":[{"code":971,"message":"Please wait and consider throttling your request speed"}]}"""));
        using var router = JobsTestRouter.Create(Storages, _cdn.Settings(null, "cloudflare"));
        using var uploads = router.CreateAuthorizedClient();
        using var admin = JobsTestRouter.AdminClient(router);
        await UploadAndDeleteAsync(uploads, "gone.png");
        await WaitForOutboxAsync(admin, sent: 1);

        var calls = _cdn.Requests("/client/v4/zones/");
        Assert.Equal([429, 200], calls.Select(c => (int)c.ResponseMessage.StatusCode!));
        Assert.True(calls[1].RequestMessage.DateTime - calls[0].RequestMessage.DateTime >= TimeSpan.FromSeconds(1.9), "The retry came before Retry-After said.");
    }

    [Fact]
    public async Task A5xxStreak_EndsInTheDeadLetters_WithTheCdnsAnswer_AndAnAdminRetrySendsIt()
    {
        var outage = Guid.NewGuid();
        _cdn.Server.Given(Request.Create().WithPath($"/service/{CdnTestServer.FastlyService}/purge").UsingPost())
            .WithGuid(outage).AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(503).WithBody("Service Unavailable: backend overloaded"));
        using var router = JobsTestRouter.Create(Storages, _cdn.Settings(new Dictionary<string, string?> { ["EdgeRouter:Cdn:MaxAttempts"] = "3" }, "fastly"));
        using var uploads = router.CreateAuthorizedClient();
        using var admin = JobsTestRouter.AdminClient(router);
        await UploadAndDeleteAsync(uploads, "x.png");

        var dead = await WaitForOutboxAsync(admin, dead: 1);

        Assert.Equal(3, _cdn.Requests("/service/").Count);
        var purge = (await admin.GetFromJsonAsync<JsonObject>("/admin/api/purges?state=dead"))!["items"]![0]!;
        Assert.Equal("fastly", (string?)purge["target"]);
        Assert.Equal("deleted", (string?)purge["event"]);
        Assert.Equal(3, (int)purge["attempts"]!);
        Assert.Equal("HTTP 503: Service Unavailable: backend overloaded", (string?)purge["lastError"]);
        Assert.Equal(0, (long)dead["pending"]!);

        // The CDN is back; the operator retries.
        _cdn.Server.DeleteMapping(outage);
        using var retry = await admin.PostAsync($"/admin/api/purges/{(long)purge["id"]!}/retry", null);
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        await WaitForOutboxAsync(admin, sent: 1);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsync($"/admin/api/purges/{(long)purge["id"]!}/retry", null)).StatusCode);
    }

    [Fact]
    public async Task ARefusal_IsDeadLetteredAtOnce()
    {
        _cdn.Server.Given(Request.Create().WithPath("/purge").UsingPost()).AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(401).WithBody("""{"Message":"Authorization has been denied for this request."}"""));
        using var router = JobsTestRouter.Create(Storages, _cdn.Settings(null, "bunny"));
        using var uploads = router.CreateAuthorizedClient();
        using var admin = JobsTestRouter.AdminClient(router);
        await UploadAndDeleteAsync(uploads, "x.png");

        await WaitForOutboxAsync(admin, dead: 1);

        Assert.Single(_cdn.Requests("/purge"));
        var purge = (await admin.GetFromJsonAsync<JsonObject>("/admin/api/purges"))!["items"]![0]!;
        Assert.Equal("""HTTP 401: {"Message":"Authorization has been denied for this request."}""", (string?)purge["lastError"]);
        Assert.DoesNotContain(CdnTestServer.BunnyKey, (await admin.GetStringAsync("/admin/api/purges")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnOperator_PurgesAKeyAPrefixOrAStorage_AndBadRequestsGet400()
    {
        using var router = JobsTestRouter.Create(Storages, _cdn.Settings(null, "cloudflare", "webhook"));
        using var uploads = router.CreateAuthorizedClient();
        using var admin = JobsTestRouter.AdminClient(router);
        foreach (var key in new[] { "p/1.png", "p/2.png", "q/3.png" })
        {
            await uploads.PutAsync("/api/v1/objects/" + key, TestFiles.Raw(TestFiles.Png(), "image/png"));
        }

        Assert.Equal(2, await PurgeAsync(admin, """{ "key": "q/3.png" }"""));
        Assert.Equal(4, await PurgeAsync(admin, """{ "prefix": "p/" }"""));
        Assert.Equal(2, await PurgeAsync(admin, """{ "storage": "main" }"""));
        await WaitForOutboxAsync(admin, sent: 8);

        var cloudflare = _cdn.Requests("/client/v4/zones/").Select(r => JsonNode.Parse(r.RequestMessage.Body!)!).ToList();
        Assert.Equal(
            new[] { "http://router.test/p/1.png", "http://router.test/p/2.png", "http://router.test/q/3.png" },
            cloudflare.Where(b => b["files"] is not null).SelectMany(b => b["files"]!.AsArray().Select(f => (string)f!)).Order());
        Assert.Equal(["er-s-main"], cloudflare.Where(b => b["tags"] is not null).SelectMany(b => b["tags"]!.AsArray().Select(f => (string)f!)));
        var storageEvent = _cdn.Requests("/hooks/purge").Select(h => JsonNode.Parse(h.RequestMessage.Body!)!).Single(e => (string?)e["scope"] == "storage");
        Assert.Equal("purge", (string?)storageEvent["event"]);
        Assert.Equal("er-s-main", (string?)storageEvent["tags"]![0]);

        foreach (var (body, message) in new[]
        {
            ("""{ "key": "p/1.png", "storage": "main" }""", "Give exactly one of 'key', 'prefix' or 'storage'."),
            ("""{ "storage": "nope" }""", "'storage': there is no storage 'nope'."),
            ("""{ "prefix": "../" }""", "'prefix': The prefix must not contain a '..' segment."),
            ("""{ "key": "a/../b.png" }""", "'key': 'a/../b.png' is not a valid key."),
        })
        {
            using var refused = await admin.PostAsync("/admin/api/purges", new StringContent(body, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType!.MediaType);
            Assert.Contains(message, await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task CloudflareByTag_AndFastlyByUrl_SendWhatThoseModesDocument()
    {
        using var router = JobsTestRouter.Create(Storages, _cdn.Settings(
            new Dictionary<string, string?> { ["EdgeRouter:Cdn:Targets:0:PurgeBy"] = "tag", ["EdgeRouter:Cdn:Targets:1:PurgeBy"] = "url" },
            "cloudflare",
            "fastly"));
        using var uploads = router.CreateAuthorizedClient();
        using var admin = JobsTestRouter.AdminClient(router);

        await UploadAndDeleteAsync(uploads, "by mode/x.png");
        await WaitForOutboxAsync(admin, sent: 2);

        var cloudflare = Assert.Single(_cdn.Requests("/client/v4/zones/"));
        Assert.Equal($$"""{"tags":["{{CacheTags.ForKey("by mode/x.png")}}"]}""", cloudflare.RequestMessage.Body);
        var fastly = Assert.Single(_cdn.Requests("/purge/"));
        Assert.Equal("/purge/router.test/by mode/x.png", fastly.RequestMessage.Path);
        Assert.Equal(CdnTestServer.FastlyToken, CdnTestServer.Header(fastly, "Fastly-Key"));
    }

    [Theory]
    [InlineData("cloudflare", new[] { 100, 100, 60 })]
    [InlineData("fastly", new[] { 256, 4 })]
    [InlineData("cloudfront", new[] { 100, 100, 60 })]
    public async Task ManyPurges_GoInBatchesWithinTheApisLimit(string kind, int[] batches)
    {
        using var router = JobsTestRouter.Create(Storages, _cdn.Settings(null, kind));
        using var uploads = router.CreateAuthorizedClient();
        using var admin = JobsTestRouter.AdminClient(router);
        var png = TestFiles.Png();
        await Parallel.ForEachAsync(Enumerable.Range(0, 260), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, cancellationToken) =>
            Assert.Equal(HttpStatusCode.Created, (await uploads.PutAsync($"/api/v1/objects/many/{i:D3}.png", TestFiles.Raw(png, "image/png"), cancellationToken)).StatusCode));

        Assert.Equal(260, await PurgeAsync(admin, """{ "prefix": "many/" }"""));
        await WaitForOutboxAsync(admin, sent: 260);

        System.Xml.Linq.XNamespace ns = "http://cloudfront.amazonaws.com/doc/2020-05-31/";
        var sizes = kind switch
        {
            "cloudflare" => _cdn.Requests("/client/v4/zones/").Select(r => JsonNode.Parse(r.RequestMessage.Body!)!["files"]!.AsArray().Count),
            "fastly" => _cdn.Requests("/service/").Select(r => JsonNode.Parse(r.RequestMessage.Body!)!["surrogate_keys"]!.AsArray().Count),
            _ => _cdn.Requests("/2020-05-31/").Select(r => System.Xml.Linq.XDocument.Parse(r.RequestMessage.Body!).Descendants(ns + "Path").Count()),
        };
        Assert.Equal(batches, sizes);
    }

    [Fact]
    public async Task EveryObjectAnswer_CarriesItsTags_AndTheCdnOnlyLifetimeOnlyWhereItBelongs()
    {
        using var router = JobsTestRouter.Create(Storages, new Dictionary<string, string?> { ["EdgeRouter:Cdn:CdnCacheControl"] = "max-age=86400", ["EdgeRouter:Cdn:SurrogateControl"] = "max-age=3600" });
        using var uploads = router.CreateAuthorizedClient();
        using var client = router.CreateAnonymousClient();
        await uploads.PutAsync("/api/v1/objects/tagged/ok.png", TestFiles.Raw(TestFiles.Png(), "image/png"));
        var keyTag = "er-k-" + TestFiles.Sha256(Encoding.UTF8.GetBytes("tagged/ok.png"))[..16];

        using var found = await client.GetAsync("/tagged/ok.png");
        Assert.Equal(HttpStatusCode.OK, found.StatusCode);
        Assert.Equal(keyTag + ",er-s-main", found.Headers.GetValues("Cache-Tag").Single());
        Assert.Equal(keyTag + " er-s-main", found.Headers.GetValues("Surrogate-Key").Single());
        Assert.Equal("max-age=86400", found.Headers.GetValues("CDN-Cache-Control").Single());
        Assert.Equal("max-age=3600", found.Headers.GetValues("Surrogate-Control").Single());

        using var missing = await client.GetAsync("/tagged/missing.png");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("er-k-" + TestFiles.Sha256(Encoding.UTF8.GetBytes("tagged/missing.png"))[..16], missing.Headers.GetValues("Cache-Tag").Single());
        Assert.False(missing.Headers.Contains("CDN-Cache-Control"));
        Assert.False(missing.Headers.Contains("Surrogate-Control"));
    }

    private static async Task UploadAndDeleteAsync(HttpClient uploads, string key)
    {
        Assert.Equal(HttpStatusCode.Created, (await uploads.PutAsync("/api/v1/objects/" + key, TestFiles.Raw(TestFiles.Png(), "image/png"))).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await uploads.DeleteAsync("/api/v1/objects/" + key)).StatusCode);
    }

    private static async Task<int> PurgeAsync(HttpClient admin, string body)
    {
        using var response = await admin.PostAsync("/admin/api/purges", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (int)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["recorded"]!;
    }

    /// <summary>The outbox once it holds at least the given counts (and none pending), within 30 s.</summary>
    internal static async Task<JsonObject> WaitForOutboxAsync(HttpClient admin, long sent = 0, long dead = 0)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var outbox = (await admin.GetFromJsonAsync<JsonObject>("/admin/api/purges"))!;
            if ((long)outbox["sent"]! >= sent && (long)outbox["dead"]! >= dead && (long)outbox["pending"]! == 0)
            {
                return outbox;
            }

            Assert.True(DateTime.UtcNow < deadline, "The outbox did not drain: " + outbox.ToJsonString());
            await Task.Delay(100);
        }
    }
}

using System.Buffers.Text;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.Uploads.Tokens;

/// <summary>
/// Upload tokens: a backend mints one with its API key; a browser uploads with it, within its claims, once (or its
/// count); anything else is refused with a precise problem and nothing is kept.
/// </summary>
public sealed class UploadTokenTests : IDisposable
{
    private const string Secret0 = "k0-secret-that-is-long-enough-0123456789";
    private const string Secret1 = "k1-secret-that-is-long-enough-9876543210";

    private readonly RouterFactory _router = Router(("k1", Secret1));

    public void Dispose() => _router.Dispose();

    [Fact]
    public async Task ATokenForOneKey_UploadsItOnce_EchoesItsMetadata_AndIsRefusedWhenReplayed()
    {
        using var backend = _router.CreateAuthorizedClient();
        var token = await MintAsync(backend, """{ "key": "avatars/u1.png", "maxBytes": 100000, "contentTypes": ["image/png"], "metadata": { "user": 42 } }""");
        using var browser = Browser(_router, token);
        var png = TestFiles.Png(5_000);

        using var created = await browser.PutAsync("/api/v1/objects/avatars/u1.png", TestFiles.Raw(png, "image/png"));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var json = (await created.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal("avatars/u1.png", (string?)json["key"]);
        Assert.Equal(42, (int)json["metadata"]!["user"]!);
        Assert.Equal(png, await _router.CreateAnonymousClient().GetByteArrayAsync("/avatars/u1.png"));

        using var replay = await browser.PutAsync("/api/v1/objects/avatars/u1.png", TestFiles.Raw(png, "image/png"));
        await AssertProblemAsync(replay, HttpStatusCode.Unauthorized, "This upload token was already used.");
    }

    [Fact]
    public async Task ATokenForAPrefix_TakesItsCount_OfChosenOrGeneratedKeysUnderIt()
    {
        using var backend = _router.CreateAuthorizedClient();
        using var browser = Browser(_router, await MintAsync(backend, """{ "keyPrefix": "u/7/", "uses": 2 }"""));

        using var outside = await browser.PutAsync("/api/v1/objects/u/8/x.png", TestFiles.Raw(TestFiles.Png(), "image/png"));
        await AssertProblemAsync(outside, HttpStatusCode.Forbidden, "This upload token is for keys under 'u/7/' only.");
        using var generated = await browser.PostAsync("/api/v1/objects", TestFiles.Raw(TestFiles.Png(), "image/png"));
        Assert.Equal(HttpStatusCode.Created, generated.StatusCode);
        Assert.StartsWith("u/7/", (string?)(await generated.Content.ReadFromJsonAsync<JsonObject>())!["key"], StringComparison.Ordinal);
        using var chosen = await browser.PutAsync("/api/v1/objects/u/7/chosen.png", TestFiles.Raw(TestFiles.Png(), "image/png"));
        Assert.Equal(HttpStatusCode.Created, chosen.StatusCode);

        using var third = await browser.PutAsync("/api/v1/objects/u/7/third.png", TestFiles.Raw(TestFiles.Png(), "image/png"));
        await AssertProblemAsync(third, HttpStatusCode.Unauthorized, "This upload token was already used 2 times.");
    }

    [Fact]
    public async Task EveryClaim_IsEnforced_AndARefusedUploadKeepsNothing()
    {
        using var backend = _router.CreateAuthorizedClient();
        Assert.Equal(HttpStatusCode.Created, (await backend.PutAsync("/api/v1/objects/taken.png", TestFiles.Raw(TestFiles.Png(), "image/png"))).StatusCode);
        var before = _router.FilesUnder("data");

        async Task<HttpResponseMessage> UploadAsync(string claims, string path, byte[] body, string type, HttpMethod? method = null)
        {
            using var browser = Browser(_router, await MintAsync(backend, claims));
            return await browser.SendAsync(new HttpRequestMessage(method ?? HttpMethod.Put, path) { Content = TestFiles.Raw(body, type) });
        }

        await AssertProblemAsync(await UploadAsync("""{ "maxBytes": 1000 }""", "/api/v1/objects", TestFiles.Png(5_000), "image/png", HttpMethod.Post), HttpStatusCode.RequestEntityTooLarge, "1000");
        await AssertProblemAsync(await UploadAsync("""{ "contentTypes": ["image/png"] }""", "/api/v1/objects", TestFiles.Jpeg(), "image/jpeg", HttpMethod.Post), HttpStatusCode.UnsupportedMediaType, "This upload token accepts image/png; the content is image/jpeg.");
        await AssertProblemAsync(await UploadAsync("""{ "key": "mine.png" }""", "/api/v1/objects/yours.png", TestFiles.Png(), "image/png"), HttpStatusCode.Forbidden, "This upload token is for the key 'mine.png' only.");
        await AssertProblemAsync(await UploadAsync("{}", "/api/v1/objects/chosen.png", TestFiles.Png(), "image/png"), HttpStatusCode.Forbidden, "This upload token is for a generated key: POST /api/v1/objects without a key.");
        await AssertProblemAsync(await UploadAsync("""{ "key": "taken.png" }""", "/api/v1/objects/taken.png?overwrite=true", TestFiles.Png(), "image/png"), HttpStatusCode.Forbidden, "An upload token cannot replace an object.");

        // A token only creates: the catalog, deletes and minting need the API key.
        using var holder = Browser(_router, await MintAsync(backend, "{}"));
        await AssertProblemAsync(await holder.GetAsync("/api/v1/objects/taken.png"), HttpStatusCode.Forbidden, "An upload token only creates objects; this call needs an API key.");
        await AssertProblemAsync(await holder.DeleteAsync("/api/v1/objects/taken.png"), HttpStatusCode.Forbidden, "An upload token only creates objects; this call needs an API key.");
        await AssertProblemAsync(await holder.PostAsync("/api/v1/upload-tokens", JsonContent.Create(new { })), HttpStatusCode.Forbidden, "An upload token only creates objects; this call needs an API key.");

        Assert.Equal(before, _router.FilesUnder("data"));
        Assert.Equal(HttpStatusCode.OK, (await backend.GetAsync("/api/v1/objects/taken.png")).StatusCode);
    }

    [Fact]
    public async Task ExpiredTamperedAndForeignTokens_AreRefused_AndTheKeySetRotatesWithoutBreakingLiveTokens()
    {
        using var backend = _router.CreateAuthorizedClient();
        var token = await MintAsync(backend, """{ "maxBytes": 1000 }""");

        // Claims changed after signing: the signature no longer holds.
        var parts = token.Split('.');
        var claims = JsonNode.Parse(Base64Url.DecodeFromChars(parts[1]))!.AsObject();
        claims["max"] = 100_000_000;
        var tampered = $"{parts[0]}.{Base64Url.EncodeToString(Encoding.UTF8.GetBytes(claims.ToJsonString()))}.{parts[2]}";
        await AssertProblemAsync(await Post(_router, tampered), HttpStatusCode.Unauthorized, "The upload token's signature is not valid.");
        await AssertProblemAsync(await Post(_router, "ert1.not-a-token"), HttpStatusCode.Unauthorized, "The upload token is malformed.");

        // In the query string a token is nothing.
        using var anonymous = _router.CreateAnonymousClient();
        await AssertProblemAsync(await anonymous.PostAsync("/api/v1/objects?token=" + token, TestFiles.Raw(TestFiles.Png(), "image/png")), HttpStatusCode.Unauthorized, "An API key is required");

        // Rotation: a router with k0 and k1 signs with k1 and still takes k0's live tokens; one with k1 alone does not.
        using var old = Router(("k0", Secret0));
        var fromK0 = await MintAsync(old.CreateAuthorizedClient(), "{}");
        using var rotated = Router(("k0", Secret0), ("k1", Secret1));
        Assert.Equal(HttpStatusCode.Created, (await Post(rotated, fromK0)).StatusCode);
        var fromRotated = await MintAsync(rotated.CreateAuthorizedClient(), "{}");
        Assert.Equal("k1", (string?)JsonNode.Parse(Base64Url.DecodeFromChars(fromRotated.Split('.')[1]))!["kid"]);
        await AssertProblemAsync(await Post(_router, await MintAsync(old.CreateAuthorizedClient(), "{}")), HttpStatusCode.Unauthorized, "The upload token was signed with key 'k0', which this router does not have (rotated out?).");

        var brief = await MintAsync(backend, """{ "expiresInSeconds": 1 }""");
        await Task.Delay(2_100);
        await AssertProblemAsync(await Post(_router, brief), HttpStatusCode.Unauthorized, "The upload token expired at");
    }

    [Fact]
    public async Task AStoredUpload_IsPostedToItsTokensCallback_SignedAndFromTheOutbox_AndOnlyToAnAllowedOrigin()
    {
        using var app = WireMock.Server.WireMockServer.Start();
        app.Given(WireMock.RequestBuilders.Request.Create().WithPath("/hooks/uploaded").UsingPost())
            .RespondWith(WireMock.ResponseBuilders.Response.Create().WithStatusCode(204));
        const string CallbackSecret = "callback-secret-that-is-long-enough-01234";
        using var router = Router(("k1", Secret1), new Dictionary<string, string?>
        {
            ["EdgeRouter:Uploads:Tokens:CallbackOrigins:0"] = app.Url,
            ["EdgeRouter:Uploads:Tokens:CallbackSecret"] = CallbackSecret,
            ["EdgeRouter:Cdn:PollInterval"] = "00:00:00.100",
        });
        using var backend = router.CreateAuthorizedClient();
        using var refused = await backend.PostAsync("/api/v1/upload-tokens", new StringContent("""{ "callbackUrl": "http://169.254.169.254/latest" }""", Encoding.UTF8, "application/json"));
        await AssertProblemAsync(refused, HttpStatusCode.BadRequest, $"'callbackUrl' must be an absolute URL on one of the callback origins ({app.Url}).");
        var token = await MintAsync(backend, $$"""{ "key": "cb/a.png", "callbackUrl": "{{app.Url}}/hooks/uploaded", "metadata": { "order": 7 } }""");

        using var created = await Browser(router, token).PutAsync("/api/v1/objects/cb/a.png", TestFiles.Raw(TestFiles.Png(), "image/png"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (app.LogEntries.Count == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "No callback came.");
            await Task.Delay(100);
        }

        var callback = Assert.Single(app.LogEntries).RequestMessage;
        var body = callback.Body!;
        var signature = callback.Headers!["EdgeRouter-Signature"].Single().Split(',').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(Encoding.UTF8.GetBytes(CallbackSecret), Encoding.UTF8.GetBytes(signature["t"] + "." + body))), signature["v1"]);
        var json = JsonNode.Parse(body)!;
        Assert.Equal(("cb/a.png", RouterFactory.SiteUrl + "cb/a.png", 7), ((string?)json["key"], (string?)json["url"], (int)json["metadata"]!["order"]!));
        Assert.Equal((await created.Content.ReadFromJsonAsync<JsonObject>())!["sha256"]!.ToString(), (string?)json["sha256"]);
    }

    [Theory]
    [InlineData("""{ "contentTypes": ["text/html"] }""", "'contentTypes' must be a non-empty list of types this site accepts")]
    [InlineData("""{ "key": "a.png", "keyPrefix": "b/" }""", "Give 'key' or 'keyPrefix', not both.")]
    [InlineData("""{ "keyPrefix": "../" }""", "'keyPrefix': The prefix must not contain a '..' segment.")]
    [InlineData("""{ "key": "a/../b.png" }""", "'key': ")]
    [InlineData("""{ "expiresInSeconds": 901 }""", "'expiresInSeconds' must be a whole number from 1 to 900.")]
    [InlineData("""{ "uses": 0 }""", "'uses' must be a whole number from 1 to 1000.")]
    [InlineData("""{ "maxBytes": -1 }""", "'maxBytes' must be a whole number from 1 to 104857600.")]
    [InlineData("""{ "metadata": [1] }""", "'metadata' must be a JSON object of at most 4096 bytes.")]
    public async Task ABadTokenRequest_Gets400NamingTheField(string body, string message)
    {
        using var backend = _router.CreateAuthorizedClient();

        using var response = await backend.PostAsync("/api/v1/upload-tokens", new StringContent(body, Encoding.UTF8, "application/json"));

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, message);
    }

    [Fact]
    public async Task CrossOriginUploads_AnswerPreflightsForAllowedOriginsOnly_AndReadsFollowTheirOwnSetting()
    {
        using var backend = _router.CreateAuthorizedClient();
        using var client = _router.CreateAnonymousClient();

        using var preflight = await client.SendAsync(Preflight("https://app.test"));
        Assert.Equal(HttpStatusCode.NoContent, preflight.StatusCode);
        Assert.Equal("https://app.test", preflight.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("PUT", preflight.Headers.GetValues("Access-Control-Allow-Methods").Single(), StringComparison.Ordinal);
        Assert.Contains("authorization", preflight.Headers.GetValues("Access-Control-Allow-Headers").Single(), StringComparison.OrdinalIgnoreCase);
        using var stranger = await client.SendAsync(Preflight("https://evil.test"));
        Assert.False(stranger.Headers.Contains("Access-Control-Allow-Origin"));

        using var browser = Browser(_router, await MintAsync(backend, """{ "key": "cors.png" }"""));
        using var upload = new HttpRequestMessage(HttpMethod.Put, "/api/v1/objects/cors.png") { Content = TestFiles.Raw(TestFiles.Png(), "image/png"), Headers = { { "Origin", "https://app.test" } } };
        using var created = await browser.SendAsync(upload);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("https://app.test", created.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("Location", created.Headers.GetValues("Access-Control-Expose-Headers").Single(), StringComparison.Ordinal);

        // Reads: no CORS unless Serving:CorsAllowedOrigins says so; with exact origins every answer varies by Origin.
        using var plain = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/cors.png") { Headers = { { "Origin", "https://app.test" } } });
        Assert.False(plain.Headers.Contains("Access-Control-Allow-Origin"));
        using var reading = Router(("k1", Secret1), new Dictionary<string, string?> { ["EdgeRouter:Serving:CorsAllowedOrigins:0"] = "https://app.test" });
        await reading.CreateAuthorizedClient().PutAsync("/api/v1/objects/canvas.png", TestFiles.Raw(TestFiles.Png(), "image/png"));
        using var allowed = await reading.CreateAnonymousClient().SendAsync(new HttpRequestMessage(HttpMethod.Get, "/canvas.png") { Headers = { { "Origin", "https://app.test" } } });
        Assert.Equal("https://app.test", allowed.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("Origin", allowed.Headers.Vary);
        using var other = await reading.CreateAnonymousClient().SendAsync(new HttpRequestMessage(HttpMethod.Get, "/canvas.png") { Headers = { { "Origin", "https://evil.test" } } });
        Assert.False(other.Headers.Contains("Access-Control-Allow-Origin"));
        Assert.Contains("Origin", other.Headers.Vary);
    }

    private static HttpRequestMessage Preflight(string origin) => new(HttpMethod.Options, "/api/v1/objects/cors.png")
    {
        Headers = { { "Origin", origin }, { "Access-Control-Request-Method", "PUT" }, { "Access-Control-Request-Headers", "authorization,content-type" } },
    };

    private static RouterFactory Router(params (string Id, string Secret)[] keys) => Router(keys.Last(), new Dictionary<string, string?>(), keys);

    private static RouterFactory Router((string Id, string Secret) key, Dictionary<string, string?> settings, params (string Id, string Secret)[] keys)
    {
        var all = keys.Length == 0 ? [key] : keys;
        for (var i = 0; i < all.Length; i++)
        {
            settings[$"EdgeRouter:Uploads:Tokens:SigningKeys:{i}:Id"] = all[i].Id;
            settings[$"EdgeRouter:Uploads:Tokens:SigningKeys:{i}:Secret"] = all[i].Secret;
        }

        settings["EdgeRouter:Uploads:Cors:AllowedOrigins:0"] = "https://app.test";
        return new RouterFactory("""{ "storages": [ { "id": "main", "api": "local", "root": "data", "read": "stream" } ] }""", settings: settings);
    }

    private static async Task<string> MintAsync(HttpClient backend, string claims)
    {
        using var response = await backend.PostAsync("/api/v1/upload-tokens", new StringContent(claims, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.True(response.Headers.CacheControl?.NoStore);
        return (string)(await response.Content.ReadFromJsonAsync<JsonObject>())!["token"]!;
    }

    private static HttpClient Browser(RouterFactory router, string token)
    {
        var client = router.CreateAnonymousClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private static async Task<HttpResponseMessage> Post(RouterFactory router, string token)
    {
        using var browser = Browser(router, token);
        return await browser.PostAsync("/api/v1/objects", TestFiles.Raw(TestFiles.Png(), "image/png"));
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string detail)
    {
        using (response)
        {
            Assert.Equal(status, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains(detail, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }
}

/// <summary>The token and CORS settings are checked at start, each problem naming its setting, never echoing a secret.</summary>
public sealed class UploadTokenSettingsTests
{
    [Fact]
    public void ShortSecretsDuplicateIdsBadLifetimesAndOrigins_AreRefused()
    {
        var options = new EdgeRouter.Configuration.EdgeRouterOptions { SiteUrl = "https://img.example.com/", Uploads = { AllowAnonymous = true, Tokens = { MaxLifetime = TimeSpan.FromDays(2) } } };
        options.Uploads.Tokens.SigningKeys.Add(new() { Id = "k1", Secret = "short-secret" });
        options.Uploads.Tokens.SigningKeys.Add(new() { Id = "k1", Secret = new string('x', 40) });
        options.Uploads.Cors.AllowedOrigins.Add("https://app.example.com/upload");
        options.Serving.CorsAllowedOrigins.Add("*");

        var failures = new EdgeRouter.Configuration.EdgeRouterOptionsValidator().Validate(null, options).Failures!.ToList();

        Assert.Equal(
            [
                "EdgeRouter:Uploads:Tokens:SigningKeys:0:Secret: must be at least 32 characters (key 'k1'); set it from the environment, e.g. EdgeRouter__Uploads__Tokens__SigningKeys__0__Secret.",
                "EdgeRouter:Uploads:Tokens:SigningKeys:1:Id: must be 1-64 characters, unique among the signing keys (was 'k1').",
                "EdgeRouter:Uploads:Tokens:MaxLifetime: must be positive and at most a day (was 2.00:00:00).",
                "EdgeRouter:Uploads:Cors:AllowedOrigins: 'https://app.example.com/upload' is not an origin (scheme, host and port, such as https://app.example.com, without a path).",
            ],
            failures);
        Assert.DoesNotContain(failures, f => f.Contains("short-secret", StringComparison.Ordinal));
    }
}

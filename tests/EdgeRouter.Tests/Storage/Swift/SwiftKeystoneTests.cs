using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeRouter.Configuration;
using EdgeRouter.Storage;
using EdgeRouter.Storage.Swift;
using EdgeRouter.Tests.TestUtilities;
using Microsoft.Extensions.Time.Testing;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace EdgeRouter.Tests.Storage.Swift;

/// <summary>
/// Keystone v2.0 and v3 sign-in, played by WireMock.Net with the documented request and response bodies. The
/// catalog's object-store endpoint is the real one-node Swift, and the token Keystone hands out is a real tempauth
/// token, so the object calls that follow really run.
/// </summary>
[Collection(SwiftGroup.Name)]
public sealed class SwiftKeystoneTests(SwiftFixture swift) : IDisposable
{
    private readonly WireMockServer _keystone = WireMockServer.Start();

    [Fact]
    public async Task V2_PostsPasswordCredentialsAndTenant_PicksTheRegionsPublicUrl_AndSignsInOnceForManyCalls()
    {
        var token = await swift.TokenAsync();
        _keystone.Given(Request.Create().WithPath("/v2.0/tokens").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(V2Access(token, DateTimeOffset.UtcNow.AddHours(1))));

        // The seed's RunAbove example: a v2.0 Identity URL, a tenant name and the region SBG-1.
        var store = Create($$"""
            "authUrl": "{{_keystone.Url}}/v2.0", "authVersion": 2, "username": "runabove-user", "password": "s3cret!", "tenantName": "12345678", "region": "SBG-1"
            """);
        await RoundTripAsync(store);

        var signIn = Assert.Single(_keystone.LogEntries).RequestMessage;
        Assert.Equal("application/json; charset=utf-8", signIn.Headers!["Content-Type"].ToString());
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse("""{ "auth": { "passwordCredentials": { "username": "runabove-user", "password": "s3cret!" }, "tenantName": "12345678" } }"""),
            JsonNode.Parse(signIn.Body!)));
    }

    [Fact]
    public async Task V3_PostsPasswordIdentityScopedToTheProject_AndUsesTheSubjectTokenAndTheInterfacesUrl()
    {
        var token = await swift.TokenAsync();
        _keystone.Given(Request.Create().WithPath("/v3/auth/tokens").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(201).WithHeader("X-Subject-Token", token).WithHeader("Content-Type", "application/json")
                .WithBody(V3Token(DateTimeOffset.UtcNow.AddHours(1))));

        var store = Create($$"""
            "authUrl": "{{_keystone.Url}}/v3", "authVersion": 3, "username": "ops", "password": "pw", "projectName": "images", "domain": "Example", "region": "RegionOne", "interface": "internal"
            """);
        await RoundTripAsync(store);

        var signIn = Assert.Single(_keystone.LogEntries).RequestMessage;
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse("""
                { "auth": {
                    "identity": { "methods": ["password"], "password": { "user": { "name": "ops", "domain": { "name": "Example" }, "password": "pw" } } },
                    "scope": { "project": { "name": "images", "domain": { "name": "Example" } } } } }
                """),
            JsonNode.Parse(signIn.Body!)));
    }

    [Fact]
    public async Task ARevokedToken_IsReplacedBySigningInAgainOnce_AndTheCallSucceeds()
    {
        var token = await swift.TokenAsync();
        _keystone.Given(Request.Create().WithPath("/v2.0/tokens").UsingPost()).InScenario("revoked").WillSetStateTo("second")
            .RespondWith(Response.Create().WithStatusCode(200).WithBody(V2Access("AUTH_tk-revoked-token", DateTimeOffset.UtcNow.AddHours(1))));
        _keystone.Given(Request.Create().WithPath("/v2.0/tokens").UsingPost()).InScenario("revoked").WhenStateIs("second")
            .RespondWith(Response.Create().WithStatusCode(200).WithBody(V2Access(token, DateTimeOffset.UtcNow.AddHours(1))));
        var store = Create($$"""
            "authUrl": "{{_keystone.Url}}/v2.0", "authVersion": 2, "username": "u", "password": "p", "tenantId": "t-1", "region": "SBG-1"
            """);

        await RoundTripAsync(store);

        Assert.Equal(2, _keystone.LogEntries.Count);
    }

    [Fact]
    public async Task ATokenInItsLastMinute_IsRenewedBeforeTheNextCall()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var token = await swift.TokenAsync();
        _keystone.Given(Request.Create().WithPath("/v2.0/tokens").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody(V2Access(token, clock.GetUtcNow().AddMinutes(10))));
        var store = Create($$"""
            "authUrl": "{{_keystone.Url}}/v2.0", "authVersion": 2, "username": "u", "password": "p", "tenantName": "t", "region": "SBG-1"
            """, clock);

        Assert.Null(await store.StatAsync("nothing-here.png", CancellationToken.None));
        clock.Advance(TimeSpan.FromMinutes(8));
        Assert.Null(await store.StatAsync("nothing-here.png", CancellationToken.None));
        Assert.Single(_keystone.LogEntries);

        // Within the last minute of its life the token is renewed before it is used again.
        clock.Advance(TimeSpan.FromMinutes(1.5));
        Assert.Null(await store.StatAsync("nothing-here.png", CancellationToken.None));
        Assert.Equal(2, _keystone.LogEntries.Count);
    }

    [Theory]
    [InlineData("\"region\": \"BHS-1\"", "no public endpoint in region 'BHS-1' (it has: GRA-1, SBG-1)")]
    [InlineData("\"region\": null", "endpoints in several regions (GRA-1, SBG-1): set 'region'")]
    public async Task AnUnknownOrMissingRegion_IsAClearErrorNamingTheRegions(string region, string expected)
    {
        _keystone.Given(Request.Create().WithPath("/v2.0/tokens").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody(V2Access("AUTH_tk", DateTimeOffset.UtcNow.AddHours(1))));
        var store = Create($$"""
            "authUrl": "{{_keystone.Url}}/v2.0", "authVersion": 2, "username": "u", "password": "p", "tenantName": "t", {{region}}
            """);

        var error = await Assert.ThrowsAsync<StorageException>(() => store.StatAsync("a.png", CancellationToken.None));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RefusedCredentials_AreAClearError_ThatNeverQuotesThePassword()
    {
        _keystone.Given(Request.Create().WithPath("/v3/auth/tokens").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(401).WithBody("""{ "error": { "code": 401, "message": "The request you have made requires authentication.", "title": "Unauthorized" } }"""));
        var store = Create($$"""
            "authUrl": "{{_keystone.Url}}/v3", "authVersion": 3, "username": "u", "password": "hunter2-secret", "projectId": "p-1"
            """);

        var error = await Assert.ThrowsAsync<StorageException>(() => store.StatAsync("a.png", CancellationToken.None));

        Assert.Equal("Swift storage 'swift' could not sign in: the Identity service refused the credentials (401).", error.Message);
        Assert.DoesNotContain("hunter2-secret", error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"authVersion\": 2", "field 'tenantName': give exactly one of 'tenantName' or 'tenantId' with authVersion 2.")]
    [InlineData("\"authVersion\": 3", "field 'projectName': give exactly one of 'projectName' (with 'domain') or 'projectId' with authVersion 3.")]
    [InlineData("\"authVersion\": 4, \"tenantName\": \"t\"", "field 'authVersion': must be 1 (tempauth), 2 or 3 (Keystone).")]
    [InlineData("\"authVersion\": 1, \"interface\": \"private\"", "field 'interface': must be public, internal or admin.")]
    [InlineData("\"authVersion\": 1, \"segmentSizeBytes\": 1000", "field 'segmentSizeBytes': must be between 1 MiB")]
    public void Validation_NamesTheStorageAndTheField(string fields, string expected)
    {
        var errors = Validate($$"""{ "id": "s", "api": "swift", "read": "stream", "storageUrl": "https://swift.example.com/v1/AUTH_x/c/", "authUrl": "https://auth.example.com/v3", "username": "u", "password": "p", "container": "c", {{fields}} }""");

        Assert.StartsWith($"storages[0] ('s'): {expected}", Assert.Single(errors), StringComparison.Ordinal);
    }

    [Fact]
    public void ThePresignedReadMode_NeedsTheTempUrlKey()
    {
        var errors = Validate("""{ "id": "s", "api": "swift", "read": "presigned", "storageUrl": "https://swift.example.com/v1/AUTH_x/c/", "authUrl": "https://auth.example.com/auth/v1.0", "authVersion": 1, "username": "a:u", "password": "p", "container": "c" }""");

        Assert.Equal("storages[0] ('s'): field 'tempUrlKey': is required with read 'presigned': the account's X-Account-Meta-Temp-URL-Key.", Assert.Single(errors));
    }

    public void Dispose()
    {
        _keystone.Stop();
        _keystone.Dispose();
    }

    private static List<string> Validate(string entry)
    {
        var errors = new List<string>();
        var config = StorageConfigReader.Parse($$"""{ "storages": [ {{entry}} ] }""", "test", errors, _ => null)!.Storages[0];
        new SwiftStorageProvider(TimeProvider.System).Validate(config, new StorageValidationContext(0, config.Id, errors, Path.GetTempPath()));
        return errors;
    }

    private IObjectStore Create(string authFields, TimeProvider? clock = null) => TestStores.Create(new SwiftStorageProvider(clock ?? TimeProvider.System), $$"""
        { "id": "swift", "api": "swift", "read": "stream", "storageUrl": "{{swift.ContainerUrl}}", "container": "{{SwiftFixture.Container}}",
          "prefix": "keystone/", {{authFields}} }
        """, Path.GetTempPath());

    private static async Task RoundTripAsync(IObjectStore store)
    {
        var key = $"{Guid.NewGuid():N}.png";
        await store.PutAsync(key, new MemoryStream(new byte[100]), new ObjectWriteOptions("image/png", "no-cache"), CancellationToken.None);
        Assert.Equal(100, (await store.StatAsync(key, CancellationToken.None))!.Size);
        Assert.True(await store.DeleteAsync(key, CancellationToken.None));
    }

    /// <summary>A v2.0 token answer (https://docs.openstack.org/keystone/pike/api_curl_examples.html), two regions of object-store.</summary>
    private string V2Access(string token, DateTimeOffset expires) => new JsonObject
    {
        ["access"] = new JsonObject
        {
            ["token"] = new JsonObject { ["id"] = token, ["expires"] = expires.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture), ["tenant"] = new JsonObject { ["id"] = "t-1", ["name"] = "12345678" } },
            ["serviceCatalog"] = new JsonArray(
                new JsonObject { ["type"] = "compute", ["name"] = "nova", ["endpoints"] = new JsonArray(new JsonObject { ["region"] = "SBG-1", ["publicURL"] = "https://compute.example.com/" }) },
                new JsonObject
                {
                    ["type"] = "object-store",
                    ["name"] = "swift",
                    ["endpoints"] = new JsonArray(
                        new JsonObject { ["region"] = "GRA-1", ["publicURL"] = "https://storage.gra-1.example.com/v1/AUTH_x", ["internalURL"] = "http://10.0.0.1/v1/AUTH_x" },
                        new JsonObject { ["region"] = "SBG-1", ["publicURL"] = swift.AccountUrl, ["internalURL"] = "http://10.0.0.2/v1/AUTH_x" }),
                }),
            ["user"] = new JsonObject { ["id"] = "u-1", ["name"] = "runabove-user" },
        },
    }.ToJsonString();

    /// <summary>A v3 token body (https://docs.openstack.org/api-ref/identity/v3/#password-authentication-with-scoped-authorization).</summary>
    private string V3Token(DateTimeOffset expires) => new JsonObject
    {
        ["token"] = new JsonObject
        {
            ["methods"] = new JsonArray("password"),
            ["expires_at"] = expires.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture),
            ["project"] = new JsonObject { ["id"] = "p-1", ["name"] = "images", ["domain"] = new JsonObject { ["id"] = "d-1", ["name"] = "Example" } },
            ["catalog"] = new JsonArray(new JsonObject
            {
                ["type"] = "object-store",
                ["name"] = "swift",
                ["endpoints"] = new JsonArray(
                    new JsonObject { ["interface"] = "public", ["region"] = "RegionOne", ["region_id"] = "RegionOne", ["url"] = "https://swift.example.com/v1/AUTH_p-1" },
                    new JsonObject { ["interface"] = "internal", ["region"] = "RegionOne", ["region_id"] = "RegionOne", ["url"] = swift.AccountUrl },
                    new JsonObject { ["interface"] = "internal", ["region"] = "RegionTwo", ["region_id"] = "RegionTwo", ["url"] = "http://10.1.0.1/v1/AUTH_p-1" }),
            }),
        },
    }.ToJsonString();
}

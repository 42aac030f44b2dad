using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.Storage.Swift;

/// <summary>Uploads through the router to a real Swift, reads back in every read mode, and the Swift proxy stopped mid-test.</summary>
[Collection(SwiftGroup.Name)]
public sealed class SwiftRouterTests(SwiftFixture swift)
{
    [Theory]
    [InlineData("redirect")]
    [InlineData("proxy")]
    [InlineData("stream")]
    [InlineData("presigned")]
    public Task Upload_ReadBackInEveryMode_ThenDelete(string read)
        => RoundTripScenarios.AssertEveryReadModeAsync(
            swift.StorageJson(read: read),
            read,
            swift.ContainerUrl,
            "temp_url_sig=",
            async key =>
            {
                using var head = await swift.HeadAsync(key);
                Assert.Equal("image/png", head!.Content.Headers.ContentType?.MediaType);
                Assert.Equal("public, max-age=86400", head.Headers.CacheControl?.ToString());
            },
            async key => Assert.Null(await swift.HeadAsync(key)));

    [Fact]
    public async Task Replacements_GoToLocationsOfTheirOwn_AndTheOldOnesAreRemovedAfterTheGrace()
        => await RoundTripScenarios.AssertReplacementsKeepEveryVersionWholeAsync(swift.StorageJson(), async location =>
        {
            using var head = await swift.HeadAsync(location);
            return head is not null;
        });

    [Fact]
    public async Task ATempUrl_IsVerifiedBySwift_AndATamperedOneIsRefused()
    {
        using var factory = new RouterFactory($$"""{ "storages": [ {{swift.StorageJson(read: "presigned")}} ] }""");
        using var router = factory.CreateAuthorizedClient();
        await router.PutAsync("/api/v1/objects/swift-router/signed one.png?overwrite=true", TestFiles.Raw(TestFiles.Png(), "image/png"));

        var location = (await router.GetAsync("/swift-router/signed%20one.png")).Headers.Location!.AbsoluteUri;
        var tampered = location.Replace("temp_url_expires=", "temp_url_expires=1", StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.OK, (await swift.Direct.GetAsync(location)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await swift.Direct.GetAsync(tampered)).StatusCode);
    }

    [Fact]
    public async Task Proxy_RelaysRangeHeadAnd304_WithSwiftsBareETagQuoted()
    {
        // Swift's own answers are under test here, not the origin cache's (which answers from the catalog's record).
        using var factory = new RouterFactory($$"""{ "storages": [ {{swift.StorageJson(read: "proxy").Replace("\"cacheControl\":", "\"cache\": false, \"cacheControl\":", StringComparison.Ordinal)}} ] }""");
        using var router = factory.CreateAuthorizedClient();
        var body = TestFiles.Png(8_000);

        await ReadScenarios.AssertProxyRelaysRangeHeadAnd304Async(router, "swift-router/ranged.png", body, rangeOffset: 10);

        var etag = (await router.GetAsync("/swift-router/ranged.png")).Headers.ETag;
        Assert.Equal($"\"{Convert.ToHexStringLower(MD5Of(body))}\"", etag?.Tag);
    }

    [Fact]
    public async Task ATwentyMegabyteUpload_GoesUpAsAStaticLargeObject_AndStreamsBackWhole()
    {
        var key = await RoundTripScenarios.AssertTwentyMegabytesRoundTripAsync(swift.StorageJson());

        using var head = await swift.HeadAsync(key);
        Assert.Equal("True", head!.Headers.GetValues("X-Static-Large-Object").Single());
        Assert.Equal(20 * 1024 * 1024 + 7, head.Content.Headers.ContentLength);
    }

    [Fact]
    public Task WithTheSwiftProxyStopped_UploadsFailOver_ReadsAre502NoStore_AndAllRecoversAfterRestart()
        => OutageScenarios.AssertFailoverWhileStoppedAsync(swift.StorageJson(weight: 1000), "swift", "swift-router/kept.png", swift.StopProxyAsync, swift.StartProxyAsync);

#pragma warning disable CA5351 // Swift's ETag is an MD5.
    private static byte[] MD5Of(byte[] body) => MD5.HashData(body);
#pragma warning restore CA5351
}

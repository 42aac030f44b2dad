using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.Storage.Gcs;

/// <summary>Uploads through the router to the fake GCS, reads back in every read mode, and the service down mid-test.</summary>
[Collection(GcsGroup.Name)]
public sealed class GcsRouterTests(GcsFixture gcs)
{
    [Theory]
    [InlineData("redirect")]
    [InlineData("proxy")]
    [InlineData("stream")]
    [InlineData("presigned")]
    public Task Upload_ReadBackInEveryMode_ThenDelete(string read)
        => RoundTripScenarios.AssertEveryReadModeAsync(
            // A presigned storage keeps its objects private: only the signature opens them.
            gcs.StorageJson(read: read, publicRead: read != "presigned"),
            read,
            gcs.BucketUrl,
            "X-Goog-Signature=",
            async key =>
            {
                Assert.True(gcs.Server.TryGet(key, out _, out var contentType, out var cacheControl, out var acl));
                Assert.Equal("image/png", contentType);
                Assert.Equal("public, max-age=86400", cacheControl);
                Assert.Equal(read == "presigned" ? null : "publicRead", acl);
                using var direct = new HttpClient();
                Assert.Equal(read == "presigned" ? HttpStatusCode.Forbidden : HttpStatusCode.OK, (await direct.GetAsync(gcs.BucketUrl + key)).StatusCode);
            },
            key =>
            {
                Assert.False(gcs.Server.TryGet(key, out _, out _, out _, out _));
                return Task.CompletedTask;
            });

    [Fact]
    public Task Replacements_GoToLocationsOfTheirOwn_AndTheOldOnesAreRemovedAfterTheGrace()
        => RoundTripScenarios.AssertReplacementsKeepEveryVersionWholeAsync(gcs.StorageJson(), location => Task.FromResult(gcs.Server.TryGet(location, out _, out _, out _, out _)));

    [Fact]
    public async Task APresignedUrl_WithATamperedSignature_IsRefusedByTheService()
    {
        using var factory = new RouterFactory($$"""{ "storages": [ {{gcs.StorageJson(read: "presigned", publicRead: false)}} ] }""");
        using var router = factory.CreateAuthorizedClient();
        using var direct = new HttpClient();
        await router.PutAsync("/api/v1/objects/gcs-router/signed.png?overwrite=true", TestFiles.Raw(TestFiles.Png(), "image/png"));

        var location = (await router.GetAsync("/gcs-router/signed.png")).Headers.Location!.AbsoluteUri;
        var tampered = location.Replace("X-Goog-Expires=", "X-Goog-Expires=9", StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.OK, (await direct.GetAsync(location)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await direct.GetAsync(tampered)).StatusCode);
    }

    [Fact]
    public async Task Proxy_RelaysRangeHeadAnd304()
    {
        using var factory = new RouterFactory($$"""{ "storages": [ {{gcs.StorageJson(read: "proxy")}} ] }""");
        using var router = factory.CreateAuthorizedClient();

        await ReadScenarios.AssertProxyRelaysRangeHeadAnd304Async(router, "gcs-router/ranged.png", TestFiles.Png(8_000), rangeOffset: 10);
    }

    [Fact]
    public async Task ATwentyMegabyteUpload_GoesUpInResumableChunks_AndStreamsBackWhole()
    {
        var key = await RoundTripScenarios.AssertTwentyMegabytesRoundTripAsync(gcs.StorageJson());

        Assert.True(gcs.Server.TryGet(key, out var stored, out _, out _, out _));
        Assert.Equal(20 * 1024 * 1024 + 7, stored.Length);
        var chunks = gcs.Server.Server.LogEntries.Count(e => e.RequestMessage.Method == "PUT" && e.RequestMessage.Url.Contains("upload_id=", StringComparison.Ordinal)
            && e.RequestMessage.Headers!["Content-Length"].ToString() == "1048576");
        Assert.True(chunks >= 20, $"{chunks} full 1 MiB chunks");
    }

    [Fact]
    public Task WithTheServiceDown_UploadsFailOver_ReadsAre502NoStore_AndAllRecoversAfterwards()
        => OutageScenarios.AssertFailoverWhileStoppedAsync(
            gcs.StorageJson(weight: 1000),
            "gcs",
            "gcs-router/kept.png",
            () => { gcs.Server.Unavailable = true; return Task.CompletedTask; },
            () => { gcs.Server.Unavailable = false; return Task.CompletedTask; });
}

using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.Storage.S3;

/// <summary>Uploads through the router to a real S3 server, and reads back in every read mode.</summary>
[Collection(S3rverGroup.Name)]
public sealed class S3RouterTests(S3rverFixture s3)
{
    private string S3Storage(string read, int weight = 1) => s3.StorageJson(read, weight);

    [Theory]
    [InlineData("redirect")]
    [InlineData("proxy")]
    [InlineData("stream")]
    [InlineData("presigned")]
    public Task Upload_LandsInTheBucket_AndReadsBackInEveryMode_ThenDeletes(string read)
        => RoundTripScenarios.AssertEveryReadModeAsync(
            S3Storage(read),
            read,
            s3.BucketUrl,
            "X-Amz-Expires=120",
            async key =>
            {
                // Seen from outside the router: in the bucket, with its type and the storage's Cache-Control.
                using var sdk = s3.CreateDirectClient();
                var metadata = await sdk.GetObjectMetadataAsync(S3rverFixture.Bucket, key);
                Assert.Equal("image/png", metadata.Headers.ContentType);
                Assert.Equal("public, max-age=86400", metadata.Headers.CacheControl);
            },
            async key =>
            {
                using var direct = new HttpClient();
                Assert.Equal(HttpStatusCode.NotFound, (await direct.GetAsync(s3.BucketUrl + key)).StatusCode);
            });

    [Fact]
    public Task Replacements_GoToLocationsOfTheirOwn_AndTheOldOnesAreRemovedAfterTheGrace()
        => RoundTripScenarios.AssertReplacementsKeepEveryVersionWholeAsync(S3Storage("stream"), s3.ExistsAsync);

    [Fact]
    public async Task Proxy_RelaysRangeHeadAndConditionalRequests()
    {
        using var factory = new RouterFactory($$"""{ "storages": [ {{S3Storage("proxy")}} ] }""");
        using var router = factory.CreateAuthorizedClient();

        await ReadScenarios.AssertProxyRelaysRangeHeadAnd304Async(router, "s3/ranged.png", TestFiles.Png(10_000), rangeOffset: 100);
    }

    [Fact]
    public async Task ATwentyMegabyteUpload_GoesUpAsMultipart_AndStreamsBackWhole()
    {
        var key = await RoundTripScenarios.AssertTwentyMegabytesRoundTripAsync(S3Storage("stream"));

        using var sdk = s3.CreateDirectClient();
        Assert.Equal(20 * 1024 * 1024 + 7, (await sdk.GetObjectMetadataAsync(S3rverFixture.Bucket, key)).ContentLength);
    }

    [Fact]
    public Task WithTheServerStopped_UploadsFailOver_ReadsAre502NoStore_AndAllRecoversAfterRestart()
        => OutageScenarios.AssertFailoverWhileStoppedAsync(S3Storage("stream", weight: 1000), "s3", "on-s3.png", s3.StopAsync, s3.StartAsync);
}

using System.Net;
using Azure.Storage.Blobs.Specialized;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.Storage.Azure;

/// <summary>Uploads through the router to Azurite, reads back in every read mode, and Azurite stopped mid-test.</summary>
[Collection(AzuriteGroup.Name)]
public sealed class AzureRouterTests(AzuriteFixture azurite)
{
    [Theory]
    [InlineData("redirect")]
    [InlineData("proxy")]
    [InlineData("stream")]
    [InlineData("presigned")]
    public Task Upload_ReadBackInEveryMode_ThenDelete(string read)
        => RoundTripScenarios.AssertEveryReadModeAsync(
            azurite.StorageJson(read: read),
            read,
            azurite.ContainerUrl,
            "sig=",
            async key =>
            {
                var properties = (await azurite.DirectContainer().GetBlobClient(key).GetPropertiesAsync()).Value;
                Assert.Equal("image/png", properties.ContentType);
                Assert.Equal("public, max-age=86400", properties.CacheControl);
            },
            async key => Assert.False((await azurite.DirectContainer().GetBlobClient(key).ExistsAsync()).Value));

    [Fact]
    public Task Replacements_GoToLocationsOfTheirOwn_AndTheOldOnesAreRemovedAfterTheGrace()
        => RoundTripScenarios.AssertReplacementsKeepEveryVersionWholeAsync(azurite.StorageJson(), async location => (await azurite.DirectContainer().GetBlobClient(location).ExistsAsync()).Value);

    [Fact]
    public async Task Proxy_RelaysRangeHeadAnd304()
    {
        using var factory = new RouterFactory($$"""{ "storages": [ {{azurite.StorageJson(read: "proxy")}} ] }""");
        using var router = factory.CreateAuthorizedClient();

        await ReadScenarios.AssertProxyRelaysRangeHeadAnd304Async(router, "azure-router/ranged.png", TestFiles.Png(8_000), rangeOffset: 10);
    }

    [Fact]
    public async Task ATwentyMegabyteUpload_GoesUpInBlocks_AndStreamsBackWhole()
    {
        var key = await RoundTripScenarios.AssertTwentyMegabytesRoundTripAsync(azurite.StorageJson());

        // 4 MiB blocks: five full ones and one of 7 bytes.
        var blocks = (await azurite.DirectContainer().GetBlockBlobClient(key).GetBlockListAsync()).Value.CommittedBlocks.Count();
        Assert.Equal(6, blocks);
    }

    [Fact]
    public Task WithAzuriteStopped_UploadsFailOver_ReadsAre502NoStore_AndAllRecoversAfterRestart()
        => OutageScenarios.AssertFailoverWhileStoppedAsync(azurite.StorageJson(weight: 1000), "azure", "azure-router/kept.png", azurite.StopAsync, azurite.StartAsync);
}

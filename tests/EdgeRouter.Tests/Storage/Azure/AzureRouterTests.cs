using System.Net;
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
    public async Task Upload_ReadBackInEveryMode_ThenDelete(string read)
    {
        using var factory = new RouterFactory($$"""{ "storages": [ {{azurite.StorageJson(read: read)}} ] }""");
        using var router = factory.CreateAuthorizedClient();
        using var direct = new HttpClient();
        var png = TestFiles.Png(30_000);

        var created = await (await router.PostAsync("/api/v1/objects", TestFiles.Raw(png, "image/png"))).Content.ReadFromJsonAsync<JsonElement>();
        var key = created.GetProperty("key").GetString()!;
        Assert.Equal(azurite.ContainerUrl + key, created.GetProperty("storageUrl").GetString());
        var properties = (await azurite.DirectContainer().GetBlobClient(key).GetPropertiesAsync()).Value;
        Assert.Equal("image/png", properties.ContentType);
        Assert.Equal("public, max-age=86400", properties.CacheControl);

        var response = await router.GetAsync("/" + key);
        if (read is "redirect" or "presigned")
        {
            Assert.Equal(HttpStatusCode.Found, response.StatusCode);
            if (read == "presigned")
            {
                Assert.Contains("sig=", response.Headers.Location!.Query, StringComparison.Ordinal);
                Assert.True(response.Headers.CacheControl?.NoStore);
            }

            Assert.Equal(png, await direct.GetByteArrayAsync(response.Headers.Location));
        }
        else
        {
            Assert.Equal(png, await response.Content.ReadAsByteArrayAsync());
        }

        Assert.Equal(HttpStatusCode.NoContent, (await router.DeleteAsync("/api/v1/objects/" + key)).StatusCode);
        Assert.False((await azurite.DirectContainer().GetBlobClient(key).ExistsAsync()).Value);
    }

    [Fact]
    public async Task Proxy_RelaysRangeHeadAnd304()
    {
        using var factory = new RouterFactory($$"""{ "storages": [ {{azurite.StorageJson(read: "proxy")}} ] }""");
        using var router = factory.CreateAuthorizedClient();

        await ReadScenarios.AssertProxyRelaysRangeHeadAnd304Async(router, "azure-router/ranged.png", TestFiles.Png(8_000), rangeOffset: 10);
    }

    [Fact]
    public async Task ATwentyMegabyteUpload_GoesUpInParallelBlocks_AndStreamsBackWhole()
    {
        using var factory = new RouterFactory($$"""{ "storages": [ {{azurite.StorageJson()}} ] }""", settings: new Dictionary<string, string?> { ["EdgeRouter:Uploads:MaxUploadBytes"] = "67108864" });
        using var router = factory.CreateAuthorizedClient();
        var big = TestFiles.Png(20 * 1024 * 1024 + 7);

        var created = await (await router.PostAsync("/api/v1/objects", TestFiles.Raw(big, "image/png"))).Content.ReadFromJsonAsync<JsonElement>();
        var back = await router.GetByteArrayAsync("/" + created.GetProperty("key").GetString());

        Assert.Equal(SHA256.HashData(big), SHA256.HashData(back));
    }

    [Fact]
    public async Task WithAzuriteStopped_UploadsFailOver_ReadsAre502NoStore_AndAllRecoversAfterRestart()
    {
        var json = OutageScenarios.WithLocalFallback(azurite.StorageJson(weight: 1000));
        using var factory = new RouterFactory(json);
        using var router = factory.CreateAuthorizedClient();
        await router.PutAsync("/api/v1/objects/azure-router/kept.png?overwrite=true", TestFiles.Raw(TestFiles.Png(), "image/png"));

        await OutageScenarios.AssertFailoverWhileStoppedAsync(factory, router, "azure", "azure-router/kept.png", azurite.StopAsync, azurite.StartAsync);
    }
}

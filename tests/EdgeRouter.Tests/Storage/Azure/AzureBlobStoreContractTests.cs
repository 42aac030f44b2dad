using EdgeRouter.Storage;

namespace EdgeRouter.Tests.Storage.Azure;

/// <summary>The storage contract on Azurite, through the <c>azure</c> API (block blobs, 4 MiB blocks in parallel).</summary>
[Collection(AzuriteGroup.Name)]
public sealed class AzureBlobStoreContractTests(AzuriteFixture azurite) : StorageContractTests
{
    private readonly IObjectStore _store = azurite.CreateStore(prefix: "tenant/");

    protected override IObjectStore Store => _store;

    [Fact]
    public async Task Put_SetsContentTypeAndCacheControl_OnTheBlob()
    {
        var key = NewKey();

        await Store.PutAsync(key, new NonSeekableStream(new byte[5000]), new ObjectWriteOptions("image/png", "public, max-age=77"), CancellationToken.None);

        var properties = (await azurite.DirectContainer().GetBlobClient("tenant/" + key).GetPropertiesAsync()).Value;
        Assert.Equal("image/png", properties.ContentType);
        Assert.Equal("public, max-age=77", properties.CacheControl);
    }

    protected override async Task<IReadOnlyCollection<string>?> BackendNamesAsync()
    {
        var names = new List<string>();
        await foreach (var blob in azurite.DirectContainer().GetBlobsAsync())
        {
            names.Add(blob.Name);
        }

        return names;
    }
}

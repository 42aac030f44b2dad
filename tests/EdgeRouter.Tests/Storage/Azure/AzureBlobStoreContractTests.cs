using EdgeRouter.Storage;
using EdgeRouter.Storage.Azure;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.Storage.Azure;

/// <summary>The storage contract on Azurite, through the <c>azure</c> API (block blobs, 4 MiB blocks in parallel).</summary>
[Collection(AzuriteGroup.Name)]
public sealed class AzureBlobStoreContractTests(AzuriteFixture azurite) : ObjectStoreContractTests
{
    private readonly IObjectStore _store = azurite.CreateStore(prefix: "tenant/");

    protected override IObjectStore Store => _store;

    [Fact]
    public Task TwoWritersOfOneKey_LeaveOneOfTheirObjectsWhole() => AssertTwoWritersOfOneKeyLeaveOneWholeAsync();

    protected override IObjectStore CreateRefusedStore()
        => TestStores.Create(new AzureBlobStorageProvider(TimeProvider.System), azurite.StorageJson().Replace(AzuriteFixture.Key, Convert.ToBase64String(new byte[64]), StringComparison.Ordinal), Path.GetTempPath());

    protected override async Task<(string? ContentType, string? CacheControl)> StoredHeadersAsync(string key)
    {
        var properties = (await azurite.DirectContainer().GetBlobClient("tenant/" + key).GetPropertiesAsync()).Value;
        return (properties.ContentType, properties.CacheControl);
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

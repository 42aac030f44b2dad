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

    [Fact]
    public async Task AWriteThatMustBeVerified_IsVouchedForByTheServicesMd5_WhenPutInOneRequest()
    {
        var small = System.Security.Cryptography.RandomNumberGenerator.GetBytes(300);
        var large = System.Security.Cryptography.RandomNumberGenerator.GetBytes((4 * 1024 * 1024) + 1000);
        var verify = Png with { VerifyStored = true };

        var whole = await Store.PutAsync(NewKey(), new NonSeekableStream(small), verify with { Length = small.Length }, CancellationToken.None);
        var unasked = await Store.PutAsync(NewKey(), new NonSeekableStream(small), Png with { Length = small.Length }, CancellationToken.None);
        var lengthUnknown = await Store.PutAsync(NewKey(), new NonSeekableStream(small), verify, CancellationToken.None);
        var key = NewKey();
        var blocks = await Store.PutAsync(key, new NonSeekableStream(large), verify with { Length = large.Length }, CancellationToken.None);

        Assert.Equal(new StoredObject(small.Length, Verified: true), whole);
        Assert.Equal(new StoredObject(small.Length, Verified: false), unasked);
        Assert.Equal(new StoredObject(small.Length, Verified: false), lengthUnknown);
        Assert.Equal(new StoredObject(large.Length, Verified: false), blocks);
        Assert.Equal(large, await ReadAllAsync(key, null));
    }

    [Fact]
    public async Task AWriteWhoseMd5TheServiceAnswersOtherwise_IsNotVerified()
    {
        // What Azurite stored, answered with another Content-MD5 on the way back: a digest that does not match.
        using var http = new HttpClient(new ContentMd5Flipper(new SocketsHttpHandler()));
        var container = new global::Azure.Storage.Blobs.BlobContainerClient(azurite.ConnectionString, AzuriteFixture.Container, new global::Azure.Storage.Blobs.BlobClientOptions { Transport = new global::Azure.Core.Pipeline.HttpClientTransport(http) });
        var store = new AzureBlobObjectStore("azure", container, "tenant/", new global::Azure.Storage.StorageTransferOptions { InitialTransferSize = 4 * 1024 * 1024, MaximumTransferSize = 4 * 1024 * 1024 }, TimeSpan.FromMinutes(1), TimeProvider.System);
        var bytes = System.Security.Cryptography.RandomNumberGenerator.GetBytes(300);

        var stored = await store.PutAsync(NewKey(), new NonSeekableStream(bytes), Png with { VerifyStored = true, Length = bytes.Length }, CancellationToken.None);

        Assert.Equal(new StoredObject(bytes.Length, Verified: false), stored);
    }

    private sealed class ContentMd5Flipper(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (response.Content.Headers.ContentMD5 is { } md5)
            {
                md5[0] ^= 0xFF;
                response.Content.Headers.ContentMD5 = md5;
            }

            return response;
        }
    }

    [Fact]
    public async Task AWriteThatMustBeVerified_LongerThanItsStatedLength_IsRefused_AndLeavesNothing()
    {
        var key = NewKey();

        var error = await Assert.ThrowsAsync<StorageException>(() => Store.PutAsync(key, new NonSeekableStream(new byte[301]), Png with { VerifyStored = true, Length = 300 }, CancellationToken.None));

        Assert.Contains("is longer than the 300 bytes stated", error.Message, StringComparison.Ordinal);
        Assert.Null(await Store.StatAsync(key, CancellationToken.None));
    }

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

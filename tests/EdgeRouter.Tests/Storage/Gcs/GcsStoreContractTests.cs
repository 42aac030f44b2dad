using EdgeRouter.Storage;
using EdgeRouter.Storage.Gcs;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.Storage.Gcs;

/// <summary>The storage contract through the <c>gcs</c> API, on the fake GCS JSON API (1 MiB resumable chunks).</summary>
[Collection(GcsGroup.Name)]
public sealed class GcsStoreContractTests(GcsFixture gcs) : ObjectStoreContractTests
{
    private readonly IObjectStore _store = gcs.CreateStore(prefix: "tenant/");

    protected override IObjectStore Store => _store;

    // Port 9 (discard) is closed on loopback: nothing answers.
    [Fact]
    public Task TwoWritersOfOneKey_LeaveOneOfTheirObjectsWhole() => AssertTwoWritersOfOneKeyLeaveOneWholeAsync();

    protected override IObjectStore CreateRefusedStore()
        => TestStores.Create(new GcsStorageProvider(), gcs.StorageJson().Replace(gcs.Server.Url, "http://127.0.0.1:9", StringComparison.Ordinal), Path.GetTempPath());

    protected override Task<(string? ContentType, string? CacheControl)> StoredHeadersAsync(string key)
    {
        Assert.True(gcs.Server.TryGet("tenant/" + key, out _, out var contentType, out var cacheControl, out _));
        return Task.FromResult((contentType, cacheControl));
    }

    protected override Task<IReadOnlyCollection<string>?> BackendNamesAsync() => Task.FromResult<IReadOnlyCollection<string>?>([.. gcs.Server.Names]);
}

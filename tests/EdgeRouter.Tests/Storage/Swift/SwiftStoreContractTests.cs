using System.Security.Cryptography;
using EdgeRouter.Storage;
using EdgeRouter.Storage.Swift;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.Storage.Swift;

/// <summary>The storage contract on a real one-node Swift, through the <c>swift</c> API (1 MiB segments, so 20 MB is a static large object).</summary>
[Collection(SwiftGroup.Name)]
public sealed class SwiftStoreContractTests(SwiftFixture swift) : ObjectStoreContractTests
{
    private readonly IObjectStore _store = swift.CreateStore(prefix: "tenant/");

    protected override IObjectStore Store => _store;

    [Fact]
    public Task TwoWritersOfOneKey_LeaveOneOfTheirObjectsWhole() => AssertTwoWritersOfOneKeyLeaveOneWholeAsync();

    protected override IObjectStore CreateRefusedStore()
        => TestStores.Create(new SwiftStorageProvider(TimeProvider.System), swift.StorageJson().Replace($"\"password\": \"{SwiftFixture.Key}\"", "\"password\": \"not-the-key\"", StringComparison.Ordinal), Path.GetTempPath());

    protected override async Task<(string? ContentType, string? CacheControl)> StoredHeadersAsync(string key)
    {
        using var head = await swift.HeadAsync("tenant/" + key);
        Assert.NotNull(head);
        return (head.Content.Headers.ContentType?.ToString(), head.Headers.CacheControl?.ToString() ?? (head.Content.Headers.TryGetValues("Cache-Control", out var values) ? string.Join(",", values) : null));
    }

    [Fact]
    public async Task Put_SetsContentTypeAndCacheControl_OnTheObject()
    {
        var key = NewKey();

        await Store.PutAsync(key, new NonSeekableStream(new byte[5000]), new ObjectWriteOptions("image/png", "public, max-age=77"), CancellationToken.None);

        using var head = await swift.HeadAsync("tenant/" + key);
        Assert.Equal("image/png", head!.Content.Headers.ContentType?.MediaType);
        Assert.Equal("public, max-age=77", head.Headers.CacheControl?.ToString());
    }

    [Fact]
    public async Task ALargeObject_IsAManifestOfSegments_AndDeletingIt_LeavesNoSegmentBehind()
    {
        var key = NewKey();
        var bytes = RandomNumberGenerator.GetBytes((3 * 1024 * 1024) + 17);

        await Store.PutAsync(key, new NonSeekableStream(bytes), new ObjectWriteOptions("image/png", "public, max-age=77"), CancellationToken.None);

        using (var head = await swift.HeadAsync("tenant/" + key))
        {
            Assert.Equal("True", head!.Headers.GetValues("X-Static-Large-Object").Single());
            Assert.Equal("image/png", head.Content.Headers.ContentType?.MediaType);
            Assert.Equal(bytes.Length, head.Content.Headers.ContentLength);
        }

        var segments = (await swift.ListAsync()).Where(n => n.StartsWith("tenant/.edgerouter/segments/", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(segments);

        Assert.True(await Store.DeleteAsync(key, CancellationToken.None));
        var left = await swift.ListAsync();
        Assert.DoesNotContain(left, segments.Contains);
    }

    [Fact]
    public async Task OverwritingALargeObject_DeletesTheSegmentsItReplaced()
    {
        var key = NewKey();
        var existing = (await swift.ListAsync()).ToHashSet();
        await Store.PutAsync(key, new NonSeekableStream(new byte[(2 * 1024 * 1024) + 1]), new ObjectWriteOptions("image/png", "no-cache"), CancellationToken.None);
        var mine = (await swift.ListAsync()).Where(n => !existing.Contains(n) && n.Contains("/segments/", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, mine.Count);

        await Store.PutAsync(key, new MemoryStream(new byte[10]), new ObjectWriteOptions("image/png", "no-cache", Overwrite: true), CancellationToken.None);

        Assert.Empty((await swift.ListAsync()).Intersect(mine));
        Assert.Equal(10, (await Store.StatAsync(key, CancellationToken.None))!.Size);
    }

    protected override async Task<IReadOnlyCollection<string>?> BackendNamesAsync() => [.. await swift.ListAsync()];
}

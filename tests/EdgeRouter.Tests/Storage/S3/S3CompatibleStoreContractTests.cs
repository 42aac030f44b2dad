using Amazon.S3.Model;
using EdgeRouter.Storage;
using EdgeRouter.Tests.Storage.S3;

namespace EdgeRouter.Tests.Storage.S3;

/// <summary>The storage contract on a real S3 server, through the <c>s3compatible</c> API (path style, 5 MiB parts).</summary>
[Collection(S3rverGroup.Name)]
public sealed class S3CompatibleStoreContractTests(S3rverFixture s3) : ObjectStoreContractTests
{
    protected override bool ListsInOrder => false;

    private readonly IObjectStore _store = S3TestStores.Create("s3compatible", $$"""
        { "id": "s3", "api": "s3compatible", "read": "stream", "endpoint": "{{s3.Endpoint}}", "pathStyle": true,
          "bucket": "{{S3rverFixture.Bucket}}", "accessKey": "{{S3rverFixture.AccessKey}}", "secretKey": "{{S3rverFixture.SecretKey}}",
          "prefix": "tenant/", "partSizeBytes": 5242880 }
        """);

    protected override IObjectStore Store => _store;

    protected override IObjectStore CreateRefusedStore() => S3TestStores.Create("s3compatible", $$"""
        { "id": "s3", "api": "s3compatible", "read": "stream", "endpoint": "{{s3.Endpoint}}", "pathStyle": true,
          "bucket": "{{S3rverFixture.Bucket}}", "accessKey": "NOT-A-KEY", "secretKey": "x" }
        """);

    protected override Task<(string? ContentType, string? CacheControl)> StoredHeadersAsync(string key) => s3.StoredHeadersAsync(S3rverFixture.Bucket, "tenant/" + key);

    [Fact]
    public async Task Put_LandsInTheBucketUnderThePrefix_WithContentTypeAndCacheControl()
    {
        var key = NewKey();

        await Store.PutAsync(key, new MemoryStream(new byte[300]), new ObjectWriteOptions("image/png", "public, max-age=123"), CancellationToken.None);

        using var direct = s3.CreateDirectClient();
        var metadata = await direct.GetObjectMetadataAsync(S3rverFixture.Bucket, "tenant/" + key);
        Assert.Equal("image/png", metadata.Headers.ContentType);
        Assert.Equal("public, max-age=123", metadata.Headers.CacheControl);
        Assert.Equal(300, metadata.ContentLength);
    }

    [Theory]
    [InlineData(300)]
    [InlineData((5 * 1024 * 1024) + 1000)]
    public async Task AWriteThatMustBeVerified_IsVouchedForByTheServersETags_InOnePartOrMany(int size)
    {
        var bytes = System.Security.Cryptography.RandomNumberGenerator.GetBytes(size);

        var stored = await Store.PutAsync(NewKey(), new NonSeekableStream(bytes), Png with { VerifyStored = true }, CancellationToken.None);

        Assert.Equal(new StoredObject(size, Verified: true), stored);
    }

    [Fact]
    public async Task AWrongAccessKey_IsRefusedByTheServer_AsAStorageFailure()
    {
        var store = S3TestStores.Create("s3compatible", $$"""
            { "id": "s3", "api": "s3compatible", "read": "stream", "endpoint": "{{s3.Endpoint}}", "pathStyle": true,
              "bucket": "{{S3rverFixture.Bucket}}", "accessKey": "NOT-A-KEY", "secretKey": "x" }
            """);

        var error = await Assert.ThrowsAsync<StorageException>(() => store.ProbeAsync(CancellationToken.None));
        Assert.Contains("InvalidAccessKeyId", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("\"x\"", error.Message, StringComparison.Ordinal);
    }

    protected override async Task AssertNothingEscapedAsync()
    {
        using var direct = s3.CreateDirectClient();
        var listing = await direct.ListObjectsV2Async(new ListObjectsV2Request { BucketName = S3rverFixture.Bucket });
        Assert.All(listing.S3Objects ?? [], o => Assert.True(o.Key.StartsWith("tenant/", StringComparison.Ordinal) || !o.Key.Contains("tenant", StringComparison.Ordinal), o.Key));
        Assert.DoesNotContain(listing.S3Objects ?? [], o => o.Key.Contains("escape", StringComparison.Ordinal) || o.Key.Contains("passwd", StringComparison.Ordinal));
    }
}

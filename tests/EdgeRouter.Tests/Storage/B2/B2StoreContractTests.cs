using Amazon.S3.Model;
using EdgeRouter.Storage;
using EdgeRouter.Tests.Storage.S3;

namespace EdgeRouter.Tests.Storage.B2;

/// <summary>
/// The storage contract through the <c>b2</c> API's own settings (virtual-hosted
/// <c>bucket.s3.us-west-002.backblazeb2.com</c>, no ACL header, checksums only when required) against the real S3 server.
/// </summary>
[Collection(S3rverGroup.Name)]
public sealed class B2StoreContractTests(S3rverFixture s3) : ObjectStoreContractTests
{
    protected override bool ListsInOrder => false;

    private readonly IObjectStore _store = S3TestStores.Create("b2", $$"""
        { "id": "b2", "api": "b2", "read": "stream", "bucket": "{{S3rverFixture.B2Bucket}}", "region": "{{S3rverFixture.B2Region}}",
          "endpoint": "http://s3.{{S3rverFixture.B2Region}}.backblazeb2.com:{{s3.Port}}",
          "keyId": "{{S3rverFixture.AccessKey}}", "applicationKey": "{{S3rverFixture.SecretKey}}", "partSizeBytes": 5242880 }
        """, routeAllConnectionsToPort: s3.Port);

    protected override IObjectStore Store => _store;

    protected override IObjectStore CreateRefusedStore() => S3TestStores.Create("b2", $$"""
        { "id": "b2", "api": "b2", "read": "stream", "bucket": "{{S3rverFixture.B2Bucket}}", "region": "{{S3rverFixture.B2Region}}",
          "endpoint": "http://s3.{{S3rverFixture.B2Region}}.backblazeb2.com:{{s3.Port}}", "keyId": "0020000000000", "applicationKey": "K002wrong" }
        """, routeAllConnectionsToPort: s3.Port);

    protected override Task<(string? ContentType, string? CacheControl)> StoredHeadersAsync(string key) => s3.StoredHeadersAsync(S3rverFixture.B2Bucket, key);

    protected override async Task AssertNothingEscapedAsync()
    {
        using var direct = s3.CreateDirectClient();
        var listing = await direct.ListObjectsV2Async(new ListObjectsV2Request { BucketName = S3rverFixture.B2Bucket });
        Assert.All(listing.S3Objects ?? [], o => Assert.StartsWith("contract/", o.Key, StringComparison.Ordinal));
    }
}

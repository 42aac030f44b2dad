using Amazon.S3.Model;
using EdgeRouter.Storage;
using EdgeRouter.Tests.Storage.S3;

namespace EdgeRouter.Tests.Storage.Oss;

/// <summary>
/// The storage contract through the <c>oss</c> API's own settings (virtual-hosted <c>bucket.oss-cn-hangzhou.aliyuncs.com</c>,
/// region from the endpoint, no aws-chunked bodies, no ACL or checksum headers) against the real S3 server.
/// </summary>
[Collection(S3rverGroup.Name)]
public sealed class OssStoreContractTests(S3rverFixture s3) : ObjectStoreContractTests
{
    protected override bool ListsInOrder => false;

    private readonly IObjectStore _store = S3TestStores.Create("oss", $$"""
        { "id": "oss", "api": "oss", "read": "stream", "bucket": "{{S3rverFixture.OssBucket}}",
          "endpoint": "http://{{S3rverFixture.OssHost}}:{{s3.Port}}",
          "accessKey": "{{S3rverFixture.AccessKey}}", "secretKey": "{{S3rverFixture.SecretKey}}", "partSizeBytes": 5242880 }
        """, routeAllConnectionsToPort: s3.Port);

    protected override IObjectStore Store => _store;

    protected override IObjectStore CreateRefusedStore() => S3TestStores.Create("oss", $$"""
        { "id": "oss", "api": "oss", "read": "stream", "bucket": "{{S3rverFixture.OssBucket}}",
          "endpoint": "http://{{S3rverFixture.OssHost}}:{{s3.Port}}", "accessKey": "LTAIwrong", "secretKey": "wrong" }
        """, routeAllConnectionsToPort: s3.Port);

    protected override Task<(string? ContentType, string? CacheControl)> StoredHeadersAsync(string key) => s3.StoredHeadersAsync(S3rverFixture.OssVirtualHost, key);

    protected override async Task AssertNothingEscapedAsync()
    {
        using var direct = s3.CreateDirectClient();
        var listing = await direct.ListObjectsV2Async(new ListObjectsV2Request { BucketName = S3rverFixture.OssVirtualHost });
        Assert.All(listing.S3Objects ?? [], o => Assert.StartsWith("contract/", o.Key, StringComparison.Ordinal));
    }
}

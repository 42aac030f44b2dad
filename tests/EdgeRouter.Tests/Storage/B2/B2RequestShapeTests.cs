using EdgeRouter.Tests.Storage.S3;

namespace EdgeRouter.Tests.Storage.B2;

public sealed class B2RequestShapeTests : S3RequestShapeTests
{
    [Fact]
    public async Task B2_IsVirtualHostedOnItsRegionalEndpoint_WithoutAclOrChecksumHeaders()
    {
        // The region alone gives the endpoint https://s3.us-west-002.backblazeb2.com; only the port is the test's.
        var store = S3TestStores.Create("b2", $$"""
            { "id": "b2", "api": "b2", "read": "stream", "bucket": "photos", "region": "us-west-002",
              "endpoint": "https://s3.us-west-002.backblazeb2.com:{{Port}}", "keyId": "0021234567890", "applicationKey": "K002secret" }
            """, routeAllConnectionsToPort: Port);

        var (path, headers, body) = await PutAsync(store);

        Assert.Equal("/2026/11/25/photo one.png", path);
        Assert.Equal($"photos.s3.us-west-002.backblazeb2.com:{Port}", headers["Host"]);
        Assert.False(headers.ContainsKey("X-Amz-Acl"));
        AssertPlainSignedBody(headers, body, "us-west-002", "0021234567890");
    }
}

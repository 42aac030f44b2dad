using EdgeRouter.Tests.Storage.S3;

namespace EdgeRouter.Tests.Storage.Oss;

public sealed class OssRequestShapeTests : S3RequestShapeTests
{
    [Fact]
    public async Task Oss_IsVirtualHosted_SignedForTheEndpointsRegion_WithoutAclOrChecksumHeaders()
    {
        var store = S3TestStores.Create("oss", $$"""
            { "id": "oss", "api": "oss", "read": "stream", "bucket": "photos", "endpoint": "https://oss-cn-hangzhou.aliyuncs.com:{{Port}}",
              "accessKey": "LTAIEXAMPLE", "secretKey": "s3cr3t" }
            """, routeAllConnectionsToPort: Port);

        var (path, headers, body) = await PutAsync(store);

        Assert.Equal("/2026/11/25/photo one.png", path);
        // OSS's documented S3-compatible endpoint for AWS SDKs is s3.oss-<region>.aliyuncs.com.
        Assert.Equal($"photos.s3.oss-cn-hangzhou.aliyuncs.com:{Port}", headers["Host"]);
        Assert.False(headers.ContainsKey("X-Amz-Acl"));
        AssertPlainSignedBody(headers, body, "cn-hangzhou", "LTAIEXAMPLE");
    }
}

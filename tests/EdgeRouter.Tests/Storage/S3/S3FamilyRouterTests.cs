using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using EdgeRouter.Storage.S3;
using EdgeRouter.Tests.TestUtilities;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeRouter.Tests.Storage.S3;

/// <summary>
/// The router's flows for <c>oss</c> and <c>b2</c> with their own provider settings (virtual-hosted hosts, no ACL
/// or checksum headers) against the real S3 server; every connection goes to its port, the Host stays the provider's.
/// </summary>
[Collection(S3rverGroup.Name)]
public sealed class S3FamilyRouterTests(S3rverFixture s3)
{
    [Theory]
    [InlineData("oss", "stream")]
    [InlineData("oss", "presigned")]
    [InlineData("b2", "stream")]
    [InlineData("b2", "presigned")]
    public async Task Upload_ReadBack_Delete_WithTheProvidersSettings(string api, string read)
    {
        var (entry, bucket) = api == "oss"
            ? ($$"""{ "id": "p", "api": "oss", "read": "{{read}}", "bucket": "{{S3rverFixture.OssBucket}}", "endpoint": "http://{{S3rverFixture.OssHost}}:{{s3.Port}}", "accessKey": "{{S3rverFixture.AccessKey}}", "secretKey": "{{S3rverFixture.SecretKey}}" }""",
               S3rverFixture.OssVirtualHost)
            : ($$"""{ "id": "p", "api": "b2", "read": "{{read}}", "bucket": "{{S3rverFixture.B2Bucket}}", "region": "{{S3rverFixture.B2Region}}", "endpoint": "http://s3.{{S3rverFixture.B2Region}}.backblazeb2.com:{{s3.Port}}", "keyId": "{{S3rverFixture.AccessKey}}", "applicationKey": "{{S3rverFixture.SecretKey}}" }""",
               S3rverFixture.B2Bucket);
        using var factory = new RouterFactory($$"""{ "storages": [ {{entry}} ] }""", services =>
            services.Configure<S3ClientOptions>(o => o.ConfigureClient = S3TestStores.Routing(s3.Port)));
        using var router = factory.CreateAuthorizedClient();
        var png = TestFiles.Png(20_000);

        var created = await (await router.PostAsync("/api/v1/objects", TestFiles.Raw(png, "image/png"))).Content.ReadFromJsonAsync<JsonElement>();
        var key = created.GetProperty("key").GetString()!;
        using var sdk = s3.CreateDirectClient();
        Assert.Equal("image/png", (await sdk.GetObjectMetadataAsync(bucket, key)).Headers.ContentType);

        var response = await router.GetAsync("/" + key);
        if (read == "presigned")
        {
            Assert.Equal(HttpStatusCode.Found, response.StatusCode);
            Assert.StartsWith(api == "oss" ? $"http://{S3rverFixture.OssVirtualHost}:" : $"http://{S3rverFixture.B2Bucket}.s3.{S3rverFixture.B2Region}.backblazeb2.com:", response.Headers.Location!.AbsoluteUri, StringComparison.Ordinal);
            using var provider = RoutedClient(s3.Port);
            Assert.Equal(png, await provider.GetByteArrayAsync(response.Headers.Location));
        }
        else
        {
            Assert.Equal(png, await response.Content.ReadAsByteArrayAsync());
        }

        Assert.Equal(HttpStatusCode.NoContent, (await router.DeleteAsync("/api/v1/objects/" + key + "?immediate=true")).StatusCode);
        await Assert.ThrowsAsync<Amazon.S3.AmazonS3Exception>(() => sdk.GetObjectMetadataAsync(bucket, key));
    }

    /// <summary>A client that reaches the provider's host names on the test server's port, as DNS would in production.</summary>
    private static HttpClient RoutedClient(int port) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (_, cancellationToken) =>
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        },
    });
}

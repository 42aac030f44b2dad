using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using EdgeRouter.Storage;
using EdgeRouter.Tests.TestUtilities;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Settings;

namespace EdgeRouter.Tests.Storage.S3;

/// <summary>
/// The exact requests each S3-family API sends, captured by a TLS WireMock server that plays the provider's host.
/// OSS and B2 document that their S3-compatible APIs take virtual-hosted requests signed with SigV4 for their
/// region, and refuse aws-chunked bodies, the SDK's flexible-checksum headers and per-object ACL headers.
/// </summary>
public abstract class S3RequestShapeTests : IDisposable
{
    private const string CertificatePassword = "test";
    protected static readonly byte[] Body = RandomNumberGenerator.GetBytes(1500);

    /// <summary>A throwaway certificate, so the fake provider answers over TLS as the real one does.</summary>
    private static readonly Lazy<string> Certificate = new(() =>
    {
        using var certificate = TestCertificates.SelfSigned();
        var path = Path.Combine(Path.GetTempPath(), $"edgerouter-wiremock-{Environment.ProcessId}.pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx, CertificatePassword));
        return path;
    });

    protected S3RequestShapeTests()
    {
        Server = WireMockServer.Start(new WireMockServerSettings
        {
            Port = 0,
            UseSSL = true,
            CertificateSettings = new WireMockCertificateSettings { X509CertificateFilePath = Certificate.Value, X509CertificatePassword = CertificatePassword },
        });
        Server.Given(Request.Create().UsingPut()).RespondWith(Response.Create().WithStatusCode(200).WithHeader("ETag", "\"etag\""));
        Server.Given(Request.Create().UsingHead()).RespondWith(Response.Create().WithStatusCode(404));
    }

    protected WireMockServer Server { get; }

    protected int Port => Server.Ports[0];

    public void Dispose()
    {
        Server.Stop();
        Server.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Puts a 1,500-byte object through <paramref name="store"/> and returns the PUT as the server saw it (path decoded).</summary>
    protected async Task<(string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body)> PutAsync(IObjectStore store)
    {
        await store.PutAsync("2026/11/25/photo one.png", new MemoryStream(Body), new ObjectWriteOptions("image/png", "public, max-age=60", Body.Length, Overwrite: true), CancellationToken.None);
        var put = Assert.Single(Server.LogEntries, e => e.RequestMessage.Method == "PUT").RequestMessage;
        var headers = put.Headers!.ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase);
        return (put.Path, headers, put.BodyAsBytes ?? []);
    }

    protected static void AssertPlainSignedBody(IReadOnlyDictionary<string, string> headers, byte[] body, string region, string accessKey)
    {
        Assert.StartsWith($"AWS4-HMAC-SHA256 Credential={accessKey}/", headers["Authorization"], StringComparison.Ordinal);
        Assert.Contains($"/{region}/s3/aws4_request", headers["Authorization"], StringComparison.Ordinal);
        Assert.Contains("SignedHeaders=", headers["Authorization"], StringComparison.Ordinal);
        Assert.Contains("host", headers["Authorization"], StringComparison.Ordinal);
        Assert.True(headers.ContainsKey("X-Amz-Date"));
        Assert.DoesNotContain("STREAMING", headers["X-Amz-Content-SHA256"], StringComparison.Ordinal);
        Assert.DoesNotContain("aws-chunked", headers.GetValueOrDefault("Content-Encoding") ?? string.Empty, StringComparison.Ordinal);
        Assert.False(headers.ContainsKey("X-Amz-Decoded-Content-Length"));
        Assert.False(headers.ContainsKey("X-Amz-Trailer"));
        Assert.False(headers.ContainsKey("X-Amz-Sdk-Checksum-Algorithm"));
        Assert.DoesNotContain(headers.Keys, k => k.StartsWith("X-Amz-Checksum-", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), headers["Content-Length"]);
        Assert.Equal("image/png", headers["Content-Type"]);
        Assert.Equal("public, max-age=60", headers["Cache-Control"]);
        Assert.Equal(Body, body);
    }
}

public sealed class S3CompatibleRequestShapeTests : S3RequestShapeTests
{
    [Fact]
    public async Task S3Compatible_PathStyle_SendsPublicReadAcl_AndPlainBody()
    {
        var store = S3TestStores.Create("s3compatible", $$"""
            { "id": "m", "api": "s3compatible", "read": "stream", "endpoint": "https://minio.example.com:{{Port}}", "pathStyle": true,
              "region": "eu-central-1", "bucket": "media", "accessKey": "AKIDEXAMPLE", "secretKey": "s3cr3t" }
            """, routeAllConnectionsToPort: Port);

        var (path, headers, body) = await PutAsync(store);

        Assert.Equal("/media/2026/11/25/photo one.png", path);
        Assert.Equal($"minio.example.com:{Port}", headers["Host"]);
        Assert.Equal("public-read", headers["X-Amz-Acl"]);
        AssertPlainSignedBody(headers, body, "eu-central-1", "AKIDEXAMPLE");
    }

    [Theory]
    [InlineData("list")]
    [InlineData("write")]
    public async Task TheProbe_ListsOneKey_OrWritesAndDeletesATinyObject_AsConfigured(string probe)
    {
        Server.Given(Request.Create().UsingGet()).RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/xml")
            .WithBody("<ListBucketResult><Name>media</Name><KeyCount>0</KeyCount><MaxKeys>1</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>"));
        Server.Given(Request.Create().UsingDelete()).RespondWith(Response.Create().WithStatusCode(204));
        var store = S3TestStores.Create("s3compatible", $$"""
            { "id": "m", "api": "s3compatible", "read": "stream", "endpoint": "https://minio.example.com:{{Port}}", "pathStyle": true,
              "bucket": "media", "prefix": "site/", "accessKey": "AKIDEXAMPLE", "secretKey": "s3cr3t", "probe": "{{probe}}" }
            """, routeAllConnectionsToPort: Port);

        await store.ProbeAsync(CancellationToken.None);

        var requests = Server.LogEntries.Select(e => e.RequestMessage).ToList();
        if (probe == "list")
        {
            var list = Assert.Single(requests);
            Assert.Equal("GET", list.Method);
            Assert.Equal("/media/", list.Path);
            Assert.Equal("2", list.Query!["list-type"].Single());
            Assert.Equal("1", list.Query["max-keys"].Single());
            Assert.Equal("site/", list.Query["prefix"].Single());
        }
        else
        {
            Assert.Equal(["PUT", "DELETE"], requests.Select(r => r.Method));
            Assert.StartsWith("/media/site/.edgerouter/", requests[0].Path, StringComparison.Ordinal);
            Assert.Equal(requests[0].Path, requests[1].Path);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AWriteThatMustBeVerified_IsVerified_OnlyWhenTheETagIsTheMd5OfTheBytesSent(bool matching)
    {
#pragma warning disable CA5351 // S3's ETag of a PUT is the MD5 of its bytes.
        var md5 = Convert.ToHexStringLower(MD5.HashData(matching ? Body : [.. Body.Reverse()]));
#pragma warning restore CA5351
        Server.Given(Request.Create().UsingPut()).AtPriority(-1).RespondWith(Response.Create().WithStatusCode(200).WithHeader("ETag", $"\"{md5}\""));
        var store = S3TestStores.Create("s3compatible", $$"""
            { "id": "m", "api": "s3compatible", "read": "stream", "endpoint": "https://minio.example.com:{{Port}}", "pathStyle": true,
              "bucket": "media", "accessKey": "AKIDEXAMPLE", "secretKey": "s3cr3t" }
            """, routeAllConnectionsToPort: Port);

        var verified = await store.PutAsync("v.png", new MemoryStream(Body), new ObjectWriteOptions("image/png", "public, max-age=60", Body.Length, Overwrite: true, VerifyStored: true), CancellationToken.None);
        var unasked = await store.PutAsync("u.png", new MemoryStream(Body), new ObjectWriteOptions("image/png", "public, max-age=60", Body.Length, Overwrite: true), CancellationToken.None);

        Assert.Equal(new StoredObject(Body.Length, Verified: matching), verified);
        Assert.Equal(new StoredObject(Body.Length, Verified: false), unasked);
    }

    [Fact]
    public async Task S3Compatible_PrivateBucket_SendsNoAcl()
    {
        var store = S3TestStores.Create("s3compatible", $$"""
            { "id": "m", "api": "s3compatible", "read": "presigned", "endpoint": "https://minio.example.com:{{Port}}", "pathStyle": true,
              "bucket": "media", "accessKey": "AKIDEXAMPLE", "secretKey": "s3cr3t", "publicRead": false }
            """, routeAllConnectionsToPort: Port);

        var (_, headers, _) = await PutAsync(store);

        Assert.False(headers.ContainsKey("X-Amz-Acl"));
    }
}

/// <summary>
/// <c>s3</c> as AWS documents a streaming upload with a trailing checksum
/// (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html): virtual-hosted on the region's
/// endpoint, SigV4 scoped to the region, <c>Content-Encoding: aws-chunked</c>, <c>x-amz-content-sha256:
/// STREAMING-…-TRAILER</c>, the decoded length, and the checksum the trailer names after the last chunk.
/// </summary>
public sealed class AmazonS3RequestShapeTests : S3RequestShapeTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task S3_IsVirtualHosted_WithAwsChunkedBody_AndTrailingChecksum(bool publicRead)
    {
        var store = S3TestStores.Create("s3", $$"""
            { "id": "aws", "api": "s3", "read": "stream", "bucket": "photos", "region": "eu-west-1",
              "accessKey": "AKIDEXAMPLE", "secretKey": "s3cr3t", "publicRead": {{(publicRead ? "true" : "false")}} }
            """, routeAllConnectionsToPort: Port);

        var (path, headers, body) = await PutAsync(store);

        Assert.Equal("/2026/11/25/photo one.png", path);
        Assert.Equal("photos.s3.eu-west-1.amazonaws.com", headers["Host"]);
        Assert.StartsWith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/", headers["Authorization"], StringComparison.Ordinal);
        Assert.Contains("/eu-west-1/s3/aws4_request", headers["Authorization"], StringComparison.Ordinal);
        Assert.Equal(publicRead ? "public-read" : null, headers.GetValueOrDefault("X-Amz-Acl"));
        Assert.Matches("^STREAMING-(UNSIGNED-PAYLOAD|AWS4-HMAC-SHA256-PAYLOAD)-TRAILER$", headers["X-Amz-Content-SHA256"]);
        Assert.Contains("aws-chunked", headers["Content-Encoding"], StringComparison.Ordinal);
        Assert.Equal("1500", headers["X-Amz-Decoded-Content-Length"]);
        Assert.Equal("image/png", headers["Content-Type"]);
        Assert.Equal("public, max-age=60", headers["Cache-Control"]);

        Assert.False(headers.ContainsKey("If-None-Match"));
        var (payload, trailers) = DecodeAwsChunked(body);
        Assert.Equal(Body, payload);
        // CRC32 is the SDK's default algorithm; S3 sends it back big-endian, base64.
        Assert.Equal("x-amz-checksum-crc32", headers["X-Amz-Trailer"], ignoreCase: true);
        Assert.True(trailers.TryGetValue("x-amz-checksum-crc32", out var crc), $"the body's trailers ({string.Join(", ", trailers.Keys)}) lack the checksum");
        Assert.Equal(Convert.ToBase64String(System.IO.Hashing.Crc32.Hash(Body).Reverse().ToArray()), crc);
    }

    [Fact]
    public async Task S3_ACreateOnlyWrite_SendsIfNoneMatchStar_AndA412MeansTheKeyIsTaken()
    {
        // As AWS documents conditional writes: the loser of two create-only writers gets 412 Precondition Failed.
        Server.Given(Request.Create().UsingPut().WithPath("/taken.png")).AtPriority(-1).RespondWith(Response.Create().WithStatusCode(412)
            .WithHeader("Content-Type", "application/xml").WithBody("<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>"));
        var store = S3TestStores.Create("s3", """{ "id": "aws", "api": "s3", "read": "stream", "bucket": "photos", "region": "eu-west-1", "accessKey": "AKIDEXAMPLE", "secretKey": "s3cr3t" }""", routeAllConnectionsToPort: Port);
        var createOnly = new ObjectWriteOptions("image/png", "public, max-age=60", Body.Length);

        await store.PutAsync("fresh.png", new MemoryStream(Body), createOnly, CancellationToken.None);
        var taken = await Assert.ThrowsAsync<ObjectAlreadyExistsException>(() => store.PutAsync("taken.png", new MemoryStream(Body), createOnly, CancellationToken.None));

        var put = Assert.Single(Server.LogEntries, e => e.RequestMessage.Method == "PUT" && e.RequestMessage.Path == "/fresh.png").RequestMessage;
        Assert.Equal("*", string.Join(",", put.Headers!["If-None-Match"]));
        Assert.Equal("taken.png", taken.Key);
    }

    /// <summary>Reads aws-chunked framing: hex size (with optional <c>;chunk-signature=</c>) CRLF, bytes CRLF, …, 0, trailers.</summary>
    private static (byte[] Payload, Dictionary<string, string> Trailers) DecodeAwsChunked(byte[] body)
    {
        var payload = new MemoryStream();
        var position = 0;
        string ReadLine()
        {
            var end = body.AsSpan(position).IndexOf("\r\n"u8);
            Assert.True(end >= 0, "a chunk line lacks its CRLF");
            var line = System.Text.Encoding.ASCII.GetString(body, position, end);
            position += end + 2;
            return line;
        }

        while (true)
        {
            var size = Convert.ToInt32(ReadLine().Split(';')[0], 16);
            if (size == 0)
            {
                break;
            }

            payload.Write(body, position, size);
            position += size;
            Assert.Equal(string.Empty, ReadLine());
        }

        var trailers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        while (position < body.Length && ReadLine() is { Length: > 0 } line)
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            trailers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }

        return (payload.ToArray(), trailers);
    }
}

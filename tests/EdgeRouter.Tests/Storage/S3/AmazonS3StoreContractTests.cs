using Amazon.S3.Model;
using EdgeRouter.Storage;

namespace EdgeRouter.Tests.Storage.S3;

/// <summary>
/// The storage contract through the <c>s3</c> (Amazon S3) API's own settings: virtual-hosted on
/// <c>photos.s3.eu-west-1.amazonaws.com</c> over HTTPS, SigV4 for the region, aws-chunked bodies with a trailing
/// checksum, <c>x-amz-acl: public-read</c>, against a server that decodes them (see <see cref="FauxqsFixture"/>).
/// </summary>
[Collection(FauxqsGroup.Name)]
public sealed class AmazonS3StoreContractTests(FauxqsFixture s3) : ObjectStoreContractTests
{
    private const string Prefix = "tenant/";

    // The SDK signs each chunk over HTTP and HTTPS alike (AWS documents both, and the unsigned form over HTTPS).
    private const string StreamingWithTrailer = "^STREAMING-(UNSIGNED-PAYLOAD|AWS4-HMAC-SHA256-PAYLOAD)-TRAILER$";

    private readonly IObjectStore _store = S3TestStores.Create("s3", FauxqsFixture.StorageJson(Prefix), routeAllConnectionsToPort: s3.TlsPort);

    protected override IObjectStore Store => _store;

    // fauxqs takes any credentials: the storage it refuses is one whose bucket does not exist.
    protected override IObjectStore CreateRefusedStore() => S3TestStores.Create("s3", FauxqsFixture.StorageJson(Prefix, bucket: "no-such-bucket"), routeAllConnectionsToPort: s3.TlsPort);

    // fauxqs keeps an object's Content-Type but drops its Cache-Control, which S3 keeps as sent: that one is read
    // off the PUT as it reached the server.
    protected override async Task<(string? ContentType, string? CacheControl)> StoredHeadersAsync(string key)
    {
        using var direct = s3.CreateDirectClient();
        var metadata = await direct.GetObjectMetadataAsync(FauxqsFixture.Bucket, Prefix + key);
        var put = Assert.Single(s3.Requests, r => r.Method == "PUT" && r.Path == $"/{Prefix}{key}");
        return (metadata.Headers.ContentType, put.Headers.GetValueOrDefault("Cache-Control"));
    }

    protected override async Task<IReadOnlyCollection<string>?> BackendNamesAsync()
    {
        using var direct = s3.CreateDirectClient();
        var names = new List<string>();
        var request = new ListObjectsV2Request { BucketName = FauxqsFixture.Bucket };
        ListObjectsV2Response page;
        do
        {
            page = await direct.ListObjectsV2Async(request);
            names.AddRange((page.S3Objects ?? []).Select(o => o.Key));
            request.ContinuationToken = page.NextContinuationToken;
        }
        while (page.IsTruncated == true);

        return names;
    }

    // fauxqs replaces an object whole, but ignores If-None-Match, so here both writers may win: the loser's 412 is
    // asserted in AmazonS3RequestShapeTests.
    [Fact]
    public Task TwoWritersOfOneKey_LeaveOneOfTheirObjectsWhole() => AssertTwoWritersOfOneKeyLeaveOneWholeAsync();

    [Fact]
    public async Task APut_GoesUpVirtualHosted_AwsChunked_WithATrailingChecksum_AndLandsDecoded()
    {
        var key = NewKey();
        var bytes = System.Security.Cryptography.RandomNumberGenerator.GetBytes(70_000);

        await Store.PutAsync(key, new NonSeekableStream(bytes), Png, CancellationToken.None);

        var put = Assert.Single(s3.Requests, r => r.Method == "PUT" && r.Path == $"/{Prefix}{key}");
        Assert.Equal(FauxqsFixture.VirtualHost, put.Headers["Host"]);
        Assert.Contains($"/{FauxqsFixture.Region}/s3/aws4_request", put.Headers["Authorization"], StringComparison.Ordinal);
        Assert.Matches(StreamingWithTrailer, put.Headers["X-Amz-Content-SHA256"]);
        Assert.Contains("aws-chunked", put.Headers["Content-Encoding"], StringComparison.Ordinal);
        Assert.Equal("70000", put.Headers["X-Amz-Decoded-Content-Length"]);
        Assert.Equal("x-amz-checksum-crc32", put.Headers["X-Amz-Trailer"], ignoreCase: true);
        Assert.Equal("public-read", put.Headers["X-Amz-Acl"]);

        using var direct = s3.CreateDirectClient();
        using var stored = await direct.GetObjectAsync(FauxqsFixture.Bucket, Prefix + key);
        using var landed = new MemoryStream();
        await stored.ResponseStream.CopyToAsync(landed);
        Assert.Equal(bytes, landed.ToArray());
    }

    [Fact]
    public async Task AMultipartPut_SendsEachPartAwsChunked_AndTheObjectIsWhole()
    {
        var key = NewKey();
        var bytes = System.Security.Cryptography.RandomNumberGenerator.GetBytes((5 * 1024 * 1024) + 1000);

        await Store.PutAsync(key, new NonSeekableStream(bytes), Png, CancellationToken.None);

        var parts = s3.Requests.Where(r => r.Method == "PUT" && r.Path == $"/{Prefix}{key}").ToList();
        Assert.Equal(2, parts.Count);
        Assert.All(parts, p => Assert.Matches(StreamingWithTrailer, p.Headers["X-Amz-Content-SHA256"]));
        Assert.All(parts, p => Assert.Equal("x-amz-checksum-crc32", p.Headers["X-Amz-Trailer"], ignoreCase: true));
        Assert.Equal(bytes, await ReadAllAsync(key, null));
    }
}

/// <summary><c>s3compatible</c> with <c>"chunkedEncoding": true</c>: the operator's opt-in to aws-chunked bodies, on a server that takes them.</summary>
[Collection(FauxqsGroup.Name)]
public sealed class S3CompatibleChunkedEncodingTests(FauxqsFixture s3)
{
    [Fact]
    public async Task WithTheOptIn_PutsGoUpAwsChunked_WithATrailingChecksum_AndRoundTrip()
    {
        var store = S3TestStores.Create("s3compatible", $$"""
            { "id": "m", "api": "s3compatible", "read": "stream", "endpoint": "https://localhost:{{s3.TlsPort}}", "pathStyle": true,
              "bucket": "{{FauxqsFixture.Bucket}}", "prefix": "optin/", "accessKey": "AKIDEXAMPLE", "secretKey": "s3cr3t",
              "chunkedEncoding": true, "partSizeBytes": 5242880 }
            """, routeAllConnectionsToPort: s3.TlsPort);
        var key = $"{Guid.NewGuid():N}.png";
        var bytes = System.Security.Cryptography.RandomNumberGenerator.GetBytes(70_000);

        await store.PutAsync(key, new MemoryStream(bytes), new ObjectWriteOptions("image/png", "public, max-age=60"), CancellationToken.None);

        var put = Assert.Single(s3.Requests, r => r.Method == "PUT" && r.Path == $"/{FauxqsFixture.Bucket}/optin/{key}");
        Assert.Contains("aws-chunked", put.Headers["Content-Encoding"], StringComparison.Ordinal);
        Assert.Equal("70000", put.Headers["X-Amz-Decoded-Content-Length"]);
        Assert.True(put.Headers.ContainsKey("X-Amz-Trailer"));
        await using var content = await store.OpenReadAsync(key, null, CancellationToken.None);
        Assert.NotNull(content);
        using var read = new MemoryStream();
        await content.Content.CopyToAsync(read);
        Assert.Equal(bytes, read.ToArray());
    }
}

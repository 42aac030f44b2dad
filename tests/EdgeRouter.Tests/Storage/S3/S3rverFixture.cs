using Amazon.Runtime;
using Amazon.S3;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.Storage.S3;

/// <summary>
/// A real S3 server (npm s3rver) on loopback, started once for every S3-family test. Path-style requests to
/// 127.0.0.1 reach buckets by path; virtual-hosted B2 hosts (<c>bucket.s3.&lt;region&gt;.backblazeb2.com</c>) are
/// understood through <c>--service-endpoint</c>; OSS hosts fall back to the whole host name as the bucket.
/// </summary>
public sealed class S3rverFixture : IAsyncLifetime
{
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";
    public const string Bucket = "edgerouter-test";
    public const string OssBucket = "photos";
    public const string OssHost = "oss-cn-hangzhou.aliyuncs.com";
    public const string B2Bucket = "b2-photos";

    /// <summary>The host an <c>oss</c> storage sends to (bucket + S3-compatible endpoint); s3rver treats the whole host as the bucket.</summary>
    public const string OssVirtualHost = $"{OssBucket}.s3.{OssHost}";
    public const string B2Region = "us-west-002";

    private readonly string _data = Directory.CreateTempSubdirectory("edgerouter-s3rver-").FullName;
    private ServerProcess? _server;

    public int Port { get; } = ServerProcess.FreePort();

    public string Endpoint => $"http://127.0.0.1:{Port}";

    /// <summary>The public URL of <see cref="Bucket"/>: its Storage URL for redirect and proxy reads.</summary>
    public string BucketUrl => $"{Endpoint}/{Bucket}/";

    /// <summary>An <c>s3compatible</c> storages.json entry for <see cref="Bucket"/>.</summary>
    public string StorageJson(string read = "stream", int weight = 1) => $$"""
        { "id": "s3", "api": "s3compatible", "read": "{{read}}", "weight": {{weight}}, "storageUrl": "{{BucketUrl}}",
          "endpoint": "{{Endpoint}}", "pathStyle": true, "bucket": "{{Bucket}}",
          "accessKey": "{{AccessKey}}", "secretKey": "{{SecretKey}}",
          "cacheControl": "public, max-age=86400", "partSizeBytes": 5242880, "presignedExpirySeconds": 120 }
        """;

    /// <summary>Whether <paramref name="key"/> is in <see cref="Bucket"/>, seen from outside the router.</summary>
    public async Task<bool> ExistsAsync(string key)
    {
        using var sdk = CreateDirectClient();
        try
        {
            await sdk.GetObjectMetadataAsync(Bucket, key);
            return true;
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    public async Task InitializeAsync() => await StartAsync();

    /// <summary>Starts (or restarts, on the same port and data) the server.</summary>
    public async Task StartAsync()
    {
        var bin = Path.Combine(Repository.Root, "tests", "servers", "node_modules", ".bin", "s3rver");
        _server = new ServerProcess("s3rver", bin,
        [
            "-d", _data, "-a", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--silent",
            "--service-endpoint", "backblazeb2.com",
            "--configure-bucket", Bucket,
            "--configure-bucket", B2Bucket,
            "--configure-bucket", OssVirtualHost,
        ],
        Port,
        environment: new Dictionary<string, string>
        {
            // s3rver signs its continuation tokens with DES, which OpenSSL 3 keeps in its legacy provider: without it,
            // every truncated listing (more keys than a page) fails with 500.
            ["NODE_OPTIONS"] = "--openssl-legacy-provider",
        });
        await _server.StartAsync();
    }

    public Task StopAsync() => _server?.StopAsync() ?? Task.CompletedTask;

    /// <summary>The Content-Type and Cache-Control the server keeps for an object.</summary>
    public async Task<(string? ContentType, string? CacheControl)> StoredHeadersAsync(string bucket, string key)
    {
        using var sdk = CreateDirectClient();
        var metadata = await sdk.GetObjectMetadataAsync(bucket, key);
        return (metadata.Headers.ContentType, metadata.Headers.CacheControl);
    }

    /// <summary>A client that reads the bucket straight from the server, to check what landed there.</summary>
    public AmazonS3Client CreateDirectClient() => new(
        new BasicAWSCredentials(AccessKey, SecretKey),
        new AmazonS3Config
        {
            ServiceURL = Endpoint,
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",

            // s3rver takes neither aws-chunked bodies nor the checksum trailers SDK v4 sends by default.
            RequestChecksumCalculation = Amazon.Runtime.RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = Amazon.Runtime.ResponseChecksumValidation.WHEN_REQUIRED,
        });

    public async Task DisposeAsync()
    {
        await StopAsync();
        Directory.Delete(_data, recursive: true);
    }
}

[CollectionDefinition(Name)]
public sealed class S3rverGroup : ICollectionFixture<S3rverFixture>
{
    public const string Name = "s3rver";
}

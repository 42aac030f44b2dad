namespace EdgeRouter.Storage.S3;

/// <summary>Fields every S3-family API shares in storages.json.</summary>
public abstract class S3FamilySettings
{
    public string? Bucket { get; set; }

    /// <summary>Prepended to every key inside the bucket, e.g. <c>images/</c>.</summary>
    public string? Prefix { get; set; }

    /// <summary>Lifetime of the signed URLs handed out in <c>presigned</c> read mode.</summary>
    public int PresignedExpirySeconds { get; set; } = 300;

    /// <summary><c>write</c> (put and delete a tiny object: proves writes work) or <c>list</c> (list one key: cheaper).</summary>
    public string Probe { get; set; } = "write";

    /// <summary>Bodies larger than this go up as multipart, in parts of this size (S3 allows 5 MiB to 5 GiB).</summary>
    public long PartSizeBytes { get; set; } = 8 * 1024 * 1024;
}

/// <summary>The <c>s3</c> API: Amazon S3.</summary>
public class AmazonS3StorageSettings : S3FamilySettings
{
    public string? Region { get; set; }

    /// <summary>With <see cref="SecretKey"/>; when both are absent the SDK's default credential chain is used.</summary>
    public string? AccessKey { get; set; }

    public string? SecretKey { get; set; }

    /// <summary>Send <c>x-amz-acl: public-read</c> with uploads (the seed's public buckets). False for private buckets.</summary>
    public bool PublicRead { get; set; } = true;
}

/// <summary>The <c>s3compatible</c> API: MinIO, Ceph RGW, Wasabi, DigitalOcean Spaces, Scaleway, IBM COS, Tencent COS…</summary>
public sealed class S3CompatibleStorageSettings : AmazonS3StorageSettings
{
    /// <summary>The service's endpoint, e.g. <c>https://nyc3.digitaloceanspaces.com</c>.</summary>
    public string? Endpoint { get; set; }

    /// <summary>Address buckets as <c>endpoint/bucket/key</c> instead of <c>bucket.endpoint/key</c>.</summary>
    public bool PathStyle { get; set; }

    /// <summary>Frame bodies as aws-chunked with trailing checksums. Off: most S3-compatible services do not accept it.</summary>
    public bool ChunkedEncoding { get; set; }
}

/// <summary>The <c>oss</c> API: Alibaba Cloud OSS through its S3-compatible interface.</summary>
public sealed class OssStorageSettings : S3FamilySettings
{
    /// <summary>
    /// E.g. <c>oss-cn-hangzhou.aliyuncs.com</c> (https is assumed): requests go to its S3-compatible form
    /// <c>s3.oss-cn-hangzhou.aliyuncs.com</c>, as OSS documents for AWS SDKs. A custom domain (CNAME) is used as given.
    /// </summary>
    public string? Endpoint { get; set; }

    /// <summary>The region ID, e.g. <c>cn-hangzhou</c>; needed only when it cannot be read from an OSS endpoint (a CNAME).</summary>
    public string? Region { get; set; }

    public string? AccessKey { get; set; }

    public string? SecretKey { get; set; }
}

/// <summary>The <c>b2</c> API: Backblaze B2 through its S3-compatible interface.</summary>
public sealed class B2StorageSettings : S3FamilySettings
{
    /// <summary>E.g. <c>us-west-002</c>; the endpoint is <c>https://s3.&lt;region&gt;.backblazeb2.com</c>.</summary>
    public string? Region { get; set; }

    public string? KeyId { get; set; }

    public string? ApplicationKey { get; set; }

    /// <summary>Overrides the endpoint derived from the region (a test server, a proxy).</summary>
    public string? Endpoint { get; set; }
}

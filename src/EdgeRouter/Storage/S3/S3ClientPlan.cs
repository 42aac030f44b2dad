using Amazon;
using Amazon.Runtime;
using Amazon.S3;

namespace EdgeRouter.Storage.S3;

/// <summary>
/// How one storage talks to its service. Providers differ in exactly these choices, so they are made in one
/// place per provider and the store itself is the same for all four APIs.
/// </summary>
/// <param name="ServiceUrl">Endpoint for non-AWS services; null means the AWS endpoint of <paramref name="Region"/>.</param>
/// <param name="ChunkedEncoding">aws-chunked framing with trailing checksums: real S3 accepts it, OSS, B2 and most others do not.</param>
/// <param name="ChecksumsWhenRequired">Send and check flexible checksums only where the operation requires them.</param>
/// <param name="PublicReadAcl">Send <c>x-amz-acl: public-read</c>; B2 and OSS refuse per-object ACL headers.</param>
/// <param name="ConditionalCreate">
/// Send <c>If-None-Match: *</c> with a create-only write (the PUT, or the multipart completion): Amazon S3 then
/// refuses the loser of two writers of one key (412), which the HEAD before the write cannot. Services that do not
/// know the condition may ignore it or refuse the write, so only <c>s3</c> sends it.
/// </param>
public sealed record S3ClientPlan(
    string Api,
    string Bucket,
    string Prefix,
    string Region,
    string? ServiceUrl,
    bool ForcePathStyle,
    string? AccessKey,
    string? SecretKey,
    bool ChunkedEncoding,
    bool ChecksumsWhenRequired,
    bool PublicReadAcl,
    bool ConditionalCreate,
    long PartSizeBytes,
    TimeSpan PresignedExpiry,
    bool ProbeByWriting)
{
    public AmazonS3Client CreateClient(Action<AmazonS3Config>? customize)
    {
        var config = new AmazonS3Config
        {
            ForcePathStyle = ForcePathStyle,
            AuthenticationRegion = Region,
            MaxErrorRetry = 2,
            Timeout = TimeSpan.FromSeconds(100),
            RequestChecksumCalculation = ChecksumsWhenRequired ? RequestChecksumCalculation.WHEN_REQUIRED : RequestChecksumCalculation.WHEN_SUPPORTED,
            ResponseChecksumValidation = ChecksumsWhenRequired ? ResponseChecksumValidation.WHEN_REQUIRED : ResponseChecksumValidation.WHEN_SUPPORTED,
        };
        if (ServiceUrl is null)
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(Region);
        }
        else
        {
            config.ServiceURL = ServiceUrl;
        }

        customize?.Invoke(config);
        return AccessKey is null
            ? new AmazonS3Client(config)
            : new AmazonS3Client(new BasicAWSCredentials(AccessKey, SecretKey), config);
    }
}

/// <summary>An escape hatch for hosts and tests: adjust every S3 client's config (HTTP handler, proxy, timeouts).</summary>
public sealed class S3ClientOptions
{
    public Action<string, AmazonS3Config>? ConfigureClient { get; set; }
}

using System.Text.RegularExpressions;
using EdgeRouter.Configuration;
using Microsoft.Extensions.Options;

namespace EdgeRouter.Storage.S3;

/// <summary>
/// What the four S3-family APIs share: binding, common checks and store creation. Each API only says how its
/// fields become an <see cref="S3ClientPlan"/>.
/// </summary>
internal abstract partial class S3FamilyStorageProvider<TSettings>(IOptions<S3ClientOptions> clientOptions, TimeProvider timeProvider) : IStorageProvider
    where TSettings : S3FamilySettings, new()
{
    public abstract string Api { get; }

    public bool SupportsPresignedReads => true;

    public void Validate(StorageConfig config, StorageValidationContext context)
    {
        if (StorageSettings.Bind<TSettings>(config, context) is not { } settings)
        {
            return;
        }

        if (string.IsNullOrWhiteSpace(settings.Bucket))
        {
            context.AddError("bucket", "is required.");
        }
        else if (!BucketName().IsMatch(settings.Bucket))
        {
            context.AddError("bucket", $"'{settings.Bucket}' is not a valid bucket name (3-63 of a-z, 0-9, '.', '-').");
        }

        context.ValidatePrefix(settings.Prefix);

        if (settings.PartSizeBytes is < 5 * 1024 * 1024 or > 512 * 1024 * 1024)
        {
            context.AddError("partSizeBytes", "must be between 5 MiB (the S3 minimum) and 512 MiB.");
        }

        if (settings.PresignedExpirySeconds is < 1 or > 7 * 24 * 3600)
        {
            context.AddError("presignedExpirySeconds", "must be between 1 and 604800 (7 days, the SigV4 maximum).");
        }

        if (settings.Probe is not ("write" or "list"))
        {
            context.AddError("probe", "must be 'write' or 'list'.");
        }

        ValidateApi(settings, context);
    }

    public IObjectStore Create(StorageConfig config, StorageProviderContext context)
    {
        var plan = Plan(StorageSettings.Bind<TSettings>(config, null)!);
        var client = plan.CreateClient(s3Config => clientOptions.Value.ConfigureClient?.Invoke(config.Id!, s3Config));
        return new S3ObjectStore(plan, client, timeProvider);
    }

    protected abstract void ValidateApi(TSettings settings, StorageValidationContext context);

    protected abstract S3ClientPlan Plan(TSettings settings);

    protected S3ClientPlan Common(TSettings s, string region, string? serviceUrl, bool pathStyle, string? accessKey, string? secretKey, bool chunked, bool checksumsWhenRequired, bool acl, bool conditionalCreate = false)
        => new(Api, s.Bucket!, s.Prefix ?? string.Empty, region, serviceUrl, pathStyle, accessKey, secretKey, chunked, checksumsWhenRequired, acl, conditionalCreate,
               s.PartSizeBytes, TimeSpan.FromSeconds(s.PresignedExpirySeconds), s.Probe == "write");

    protected static void RequireBoth(StorageValidationContext context, string? a, string aName, string? b, string bName, bool bothMayBeAbsent)
    {
        if (string.IsNullOrEmpty(a) != string.IsNullOrEmpty(b))
        {
            context.AddError(string.IsNullOrEmpty(a) ? aName : bName, $"is required with '{(string.IsNullOrEmpty(a) ? bName : aName)}'.");
        }
        else if (string.IsNullOrEmpty(a) && !bothMayBeAbsent)
        {
            context.AddError(aName, $"and '{bName}' are required.");
        }
    }

    protected static void ValidateEndpoint(StorageValidationContext context, string? endpoint, bool required)
    {
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            if (required)
            {
                context.AddError("endpoint", "is required: the service's URL, e.g. https://nyc3.digitaloceanspaces.com.");
            }

            return;
        }

        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || uri.PathAndQuery != "/")
        {
            context.AddError("endpoint", StorageValidationContext.HasUserInfo(endpoint) ? "must be an http(s) URL with no path, e.g. https://s3.example.com." : $"'{endpoint}' must be an http(s) URL with no path, e.g. https://s3.example.com.");
        }

        context.RefuseUserInfo(endpoint, "endpoint");
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]
    private static partial Regex BucketName();
}

/// <summary><c>s3</c>: Amazon S3. aws-chunked framing and flexible checksums, as AWS supports them.</summary>
internal sealed class AmazonS3StorageProvider(IOptions<S3ClientOptions> clientOptions, TimeProvider timeProvider)
    : S3FamilyStorageProvider<AmazonS3StorageSettings>(clientOptions, timeProvider)
{
    public override string Api => StorageProviders.S3;

    protected override void ValidateApi(AmazonS3StorageSettings s, StorageValidationContext context)
    {
        if (string.IsNullOrWhiteSpace(s.Region))
        {
            context.AddError("region", "is required, e.g. 'us-east-1'.");
        }

        RequireBoth(context, s.AccessKey, "accessKey", s.SecretKey, "secretKey", bothMayBeAbsent: true);
    }

    protected override S3ClientPlan Plan(AmazonS3StorageSettings s)
        => Common(s, s.Region!, null, pathStyle: false, NullIfEmpty(s.AccessKey), NullIfEmpty(s.SecretKey), chunked: true, checksumsWhenRequired: false, acl: s.PublicRead, conditionalCreate: true);

    internal static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}

/// <summary><c>s3compatible</c>: any S3 endpoint. Plain bodies and checksums only when required, unless the operator opts in.</summary>
internal sealed class S3CompatibleStorageProvider(IOptions<S3ClientOptions> clientOptions, TimeProvider timeProvider)
    : S3FamilyStorageProvider<S3CompatibleStorageSettings>(clientOptions, timeProvider)
{
    public override string Api => StorageProviders.S3Compatible;

    protected override void ValidateApi(S3CompatibleStorageSettings s, StorageValidationContext context)
    {
        ValidateEndpoint(context, s.Endpoint, required: true);
        RequireBoth(context, s.AccessKey, "accessKey", s.SecretKey, "secretKey", bothMayBeAbsent: true);
    }

    protected override S3ClientPlan Plan(S3CompatibleStorageSettings s)
        => Common(s, string.IsNullOrWhiteSpace(s.Region) ? "us-east-1" : s.Region, s.Endpoint, s.PathStyle,
                  AmazonS3StorageProvider.NullIfEmpty(s.AccessKey), AmazonS3StorageProvider.NullIfEmpty(s.SecretKey),
                  chunked: s.ChunkedEncoding, checksumsWhenRequired: !s.ChunkedEncoding, acl: s.PublicRead);
}

/// <summary>
/// <c>oss</c>: Alibaba Cloud OSS through its S3-compatible API. As OSS documents for AWS SDKs: the endpoint
/// <c>s3.oss-&lt;region&gt;.aliyuncs.com</c>, virtual-hosted addressing, SigV4 with the region ID without <c>oss-</c>
/// (<c>cn-hangzhou</c>). OSS refuses aws-chunked bodies and the SDK's flexible-checksum headers, and sets object ACLs by
/// bucket policy, so none of those are sent.
/// </summary>
internal sealed partial class OssStorageProvider(IOptions<S3ClientOptions> clientOptions, TimeProvider timeProvider)
    : S3FamilyStorageProvider<OssStorageSettings>(clientOptions, timeProvider)
{
    public override string Api => StorageProviders.Oss;

    protected override void ValidateApi(OssStorageSettings s, StorageValidationContext context)
    {
        if (string.IsNullOrWhiteSpace(s.Endpoint))
        {
            context.AddError("endpoint", "is required, e.g. 'oss-cn-hangzhou.aliyuncs.com'.");
        }
        else
        {
            ValidateEndpoint(context, ToUrl(s.Endpoint), required: true);
            if (Uri.TryCreate(ToUrl(s.Endpoint), UriKind.Absolute, out var uri) && RegionOf(uri.Host) is null && string.IsNullOrWhiteSpace(s.Region))
            {
                context.AddError("region", "is required when the endpoint is not an OSS endpoint (a custom domain), e.g. 'cn-hangzhou'.");
            }
        }

        RequireBoth(context, s.AccessKey, "accessKey", s.SecretKey, "secretKey", bothMayBeAbsent: false);
    }

    protected override S3ClientPlan Plan(OssStorageSettings s)
    {
        var uri = new UriBuilder(ToUrl(s.Endpoint!));
        var region = s.Region is { Length: > 0 } given ? given : RegionOf(uri.Host)!;
        if (OssHost().IsMatch(uri.Host) && !uri.Host.StartsWith("s3.", StringComparison.Ordinal))
        {
            uri.Host = "s3." + uri.Host;
        }

        return Common(s, region, uri.Uri.GetLeftPart(UriPartial.Authority), pathStyle: false, s.AccessKey, s.SecretKey, chunked: false, checksumsWhenRequired: true, acl: false);
    }

    private static string ToUrl(string endpoint) => endpoint.Contains("://", StringComparison.Ordinal) ? endpoint : "https://" + endpoint;

    /// <summary><c>(s3.)oss-cn-hangzhou(-internal).aliyuncs.com</c> signs as <c>cn-hangzhou</c>; other hosts have no region to read.</summary>
    private static string? RegionOf(string host) => OssHost().Match(host) is { Success: true } m ? m.Groups["region"].Value : null;

    [GeneratedRegex(@"^(s3\.)?oss-(?<region>[a-z0-9-]+?)(-internal)?\.aliyuncs\.com$")]
    private static partial Regex OssHost();
}

/// <summary><c>b2</c>: Backblaze B2 through its S3-compatible API, which refuses ACL headers and the SDK's flexible checksums.</summary>
internal sealed class B2StorageProvider(IOptions<S3ClientOptions> clientOptions, TimeProvider timeProvider)
    : S3FamilyStorageProvider<B2StorageSettings>(clientOptions, timeProvider)
{
    public override string Api => StorageProviders.B2;

    protected override void ValidateApi(B2StorageSettings s, StorageValidationContext context)
    {
        if (string.IsNullOrWhiteSpace(s.Region))
        {
            context.AddError("region", "is required, e.g. 'us-west-002'.");
        }

        ValidateEndpoint(context, s.Endpoint, required: false);
        RequireBoth(context, s.KeyId, "keyId", s.ApplicationKey, "applicationKey", bothMayBeAbsent: false);
    }

    protected override S3ClientPlan Plan(B2StorageSettings s)
        => Common(s, s.Region!, s.Endpoint ?? $"https://s3.{s.Region}.backblazeb2.com", pathStyle: false, s.KeyId, s.ApplicationKey, chunked: false, checksumsWhenRequired: true, acl: false);
}

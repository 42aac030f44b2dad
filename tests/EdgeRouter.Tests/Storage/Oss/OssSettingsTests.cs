using EdgeRouter.Configuration;
using EdgeRouter.Storage;
using EdgeRouter.Storage.S3;
using Microsoft.Extensions.Options;

namespace EdgeRouter.Tests.Storage.Oss;

public sealed class OssSettingsTests
{
    private static List<string> Problems(string entry)
    {
        var errors = new List<string>();
        var config = StorageConfigReader.Parse($$"""{ "storages": [ {{entry}} ] }""", "test", errors, _ => null)!.Storages[0];
        new OssStorageProvider(Options.Create(new S3ClientOptions()), TimeProvider.System).Validate(config, new StorageValidationContext(0, config.Id, errors, Path.GetTempPath()));
        return errors;
    }

    [Theory]
    [InlineData("oss-cn-hangzhou.aliyuncs.com")]
    [InlineData("s3.oss-eu-central-1.aliyuncs.com")]
    [InlineData("https://oss-cn-shanghai-internal.aliyuncs.com")]
    public void AnOssEndpoint_GivesTheRegion(string endpoint)
        => Assert.Empty(Problems($$"""{ "id": "oss", "api": "oss", "read": "stream", "bucket": "photos", "endpoint": "{{endpoint}}", "accessKey": "a", "secretKey": "b" }"""));

    [Fact]
    public void ACustomDomain_NeedsTheRegion()
    {
        const string Entry = """{ "id": "oss", "api": "oss", "read": "stream", "bucket": "photos", "endpoint": "https://img.example.com", "accessKey": "a", "secretKey": "b" REGION }""";

        Assert.Equal(
            ["storages[0] ('oss'): field 'region': is required when the endpoint is not an OSS endpoint (a custom domain), e.g. 'cn-hangzhou'."],
            Problems(Entry.Replace(" REGION", string.Empty, StringComparison.Ordinal)));
        Assert.Empty(Problems(Entry.Replace(" REGION", ", \"region\": \"cn-hangzhou\"", StringComparison.Ordinal)));
    }

    [Fact]
    public void MissingCredentials_AreReported()
        => Assert.Contains(
            "storages[0] ('oss'): field 'accessKey': and 'secretKey' are required.",
            Problems("""{ "id": "oss", "api": "oss", "read": "stream", "bucket": "photos", "endpoint": "oss-cn-hangzhou.aliyuncs.com" }"""));
}

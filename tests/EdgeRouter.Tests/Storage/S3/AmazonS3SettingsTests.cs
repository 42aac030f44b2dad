using EdgeRouter.Configuration;
using EdgeRouter.Storage;
using EdgeRouter.Storage.S3;
using Microsoft.Extensions.Options;

namespace EdgeRouter.Tests.Storage.S3;

public sealed class AmazonS3SettingsTests
{
    private static List<string> Problems(string entry)
    {
        var errors = new List<string>();
        var config = StorageConfigReader.Parse($$"""{ "storages": [ {{entry}} ] }""", "test", errors, _ => null)!.Storages[0];
        new AmazonS3StorageProvider(Options.Create(new S3ClientOptions()), TimeProvider.System).Validate(config, new StorageValidationContext(0, config.Id, errors, Path.GetTempPath()));
        return errors;
    }

    [Fact]
    public void TheRegion_IsRequired_ForItNamesTheEndpointAndTheSignature()
    {
        const string Entry = """{ "id": "aws", "api": "s3", "read": "stream", "bucket": "photos" REGION }""";

        Assert.Equal(["storages[0] ('aws'): field 'region': is required, e.g. 'us-east-1'."], Problems(Entry.Replace(" REGION", string.Empty, StringComparison.Ordinal)));
        Assert.Empty(Problems(Entry.Replace(" REGION", ", \"region\": \"eu-west-1\"", StringComparison.Ordinal)));
    }

    [Fact]
    public void AKeyWithoutItsSecret_IsReported_WhileNeither_LeavesTheSdksDefaultCredentialChain()
    {
        Assert.Equal(
            ["storages[0] ('aws'): field 'secretKey': is required with 'accessKey'."],
            Problems("""{ "id": "aws", "api": "s3", "read": "stream", "bucket": "photos", "region": "eu-west-1", "accessKey": "AKIDEXAMPLE" }"""));
        Assert.Empty(Problems("""{ "id": "aws", "api": "s3", "read": "stream", "bucket": "photos", "region": "eu-west-1" }"""));
    }
}

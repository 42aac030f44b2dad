using EdgeRouter.Configuration;
using EdgeRouter.Storage;
using EdgeRouter.Storage.Local;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Options;

namespace EdgeRouter.Tests.Configuration;

public sealed class StorageConfigValidationTests
{
    private static readonly Dictionary<string, string?> NoEnvironment = [];

    private static List<string> Problems(string json, IDictionary<string, string?>? environment = null)
    {
        var errors = new List<string>();
        IDictionary<string, string?> env = environment ?? NoEnvironment;
        var document = StorageConfigReader.Parse(json, "storages.json", errors, name => env.TryGetValue(name, out var value) ? value : null);
        if (document is not null && errors.Count == 0)
        {
            var validator = new StorageConfigValidator(
                [new LocalStorageProvider(TimeProvider.System, Options.Create(new EdgeRouterOptions()))],
                Options.Create(new EdgeRouterOptions { SiteUrl = "https://img.example.com/" }),
                new HostingEnvironment { ContentRootPath = Path.GetTempPath() });
            var result = validator.Validate(null, document);
            errors.AddRange(result.Failures ?? []);
        }

        return errors;
    }

    [Fact]
    public void Accepts_TheShippedDefaultConfiguration()
    {
        var shipped = File.ReadAllText(Path.Combine(TestUtilities.Repository.Root, "config", "storages.json"));
        Assert.Empty(Problems(shipped));
    }

    [Fact]
    public void Reports_EveryProblem_NamingStorageAndField()
    {
        var problems = Problems("""
        { "storages": [
            { "id": "a", "api": "local", "root": "x", "read": "stream", "weight": -1 },
            { "id": "a", "api": "local", "root": "y", "read": "stream" },
            { "id": "Bad Id!", "api": "nope", "read": "stream" },
            { "id": "c", "api": "local", "read": "redirect" },
            { "id": "d", "api": "local", "root": "z", "read": "stream", "capacity": "lots" },
            { "id": "e", "api": "local", "read": "stream", "roott": "typo" }
        ] }
        """);

        Assert.Contains(problems, p => p.StartsWith("storages[0] ('a'): field 'weight':", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("storages[1] ('a'): field 'id': is used by another storage", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("storages[2] ('Bad Id!'): field 'id':", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("storages[2] ('Bad Id!'): field 'api': 'nope' is not available (known: local)", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("storages[3] ('c'): field 'storageUrl': is required when read is 'redirect'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("storages[3] ('c'): field 'root': is required", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("storages[4] ('d'): field 'capacity':", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("storages[5] ('e'): field 'roott': is not a known field", StringComparison.Ordinal));
        Assert.Equal(8, problems.Count);
    }

    [Theory]
    [InlineData("redirect", "https://img.example.com/")]
    [InlineData("proxy", "https://IMG.example.com:443/files/")]
    public void Rejects_RedirectOrProxyStorageUrlPointingBackAtTheRouter(string read, string storageUrl)
    {
        var problems = Problems($$"""{ "storages": [ { "id": "loop", "api": "local", "root": "x", "read": "{{read}}", "storageUrl": "{{storageUrl}}" } ] }""");

        var problem = Assert.Single(problems);
        Assert.StartsWith("storages[0] ('loop'): field 'storageUrl': points back at this router", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("redirect")]
    [InlineData("presigned")]
    public void Rejects_TheOriginCacheOnAStorageThatRedirects(string read)
    {
        var problems = Problems($$"""{ "storages": [ { "id": "r", "api": "local", "root": "x", "read": "{{read}}", "storageUrl": "https://files.example.com/", "cache": true } ] }""");

        Assert.Contains($"storages[0] ('r'): field 'cache': applies to 'proxy' and 'stream' reads; read is '{read}'.", problems);
    }

    [Fact]
    public void Accepts_StreamStorageAtTheSiteUrl()
    {
        Assert.Empty(Problems("""{ "storages": [ { "id": "s", "api": "local", "root": "x", "read": "stream", "storageUrl": "https://img.example.com/" } ] }"""));
    }

    [Theory]
    [InlineData("ftp://files.example.com/", "is not an absolute http(s) URL")]
    [InlineData("https://user:secret@cdn.example.com/", "must not carry credentials")]
    [InlineData("https://cdn.example.com/?sig=1", "must not have a query")]
    public void Rejects_BadStorageUrls(string url, string expected)
    {
        var problem = Assert.Single(Problems($$"""{ "storages": [ { "id": "u", "api": "local", "root": "x", "storageUrl": "{{url}}" } ] }"""));
        Assert.Contains(expected, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Rejects_InvalidJson_WithItsPosition()
    {
        var problem = Assert.Single(Problems("{ \"storages\": [ { \"id\": \"a\", } ] "));
        Assert.StartsWith("storages.json: is not valid JSON (line 1", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Rejects_AValueOfTheWrongType_NamingTheField()
    {
        var problem = Assert.Single(Problems("""{ "storages": [ { "id": "a", "api": "local", "root": "x", "read": "stream", "weight": "heavy" } ] }"""));
        Assert.StartsWith("storages[0] ('a'): field 'weight': has a value of the wrong type", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Rejects_AnEmptyStorageList()
    {
        Assert.Equal(["storages: at least one storage is required."], Problems("""{ "storages": [] }"""));
    }

    [Fact]
    public void Expands_EnvironmentReferences_AndNamesAMissingVariable()
    {
        var env = new Dictionary<string, string?> { ["MEDIA_ROOT"] = "/srv/media" };
        var errors = new List<string>();

        var document = StorageConfigReader.Parse(
            """{ "storages": [ { "id": "a", "api": "local", "root": "${MEDIA_ROOT}/a", "read": "stream" }, { "id": "b", "api": "local", "root": "${NOT_SET}", "read": "stream" } ] }""",
            "storages.json",
            errors,
            name => env.GetValueOrDefault(name));

        Assert.Equal(["storages[1] ('b'): field 'root': refers to environment variable 'NOT_SET', which is not set."], errors);
        Assert.Equal("/srv/media/a", StorageSettings.Bind<LocalStorageSettings>(document!.Storages[0], null)!.Root);
    }

    [Theory]
    [InlineData("1024", 1024L)]
    [InlineData("20 GB", 20_000_000_000L)]
    [InlineData("512MiB", 536_870_912L)]
    [InlineData("1.5 TB", 1_500_000_000_000L)]
    [InlineData("10k", 10_240L)]
    public void ByteSize_ParsesNumbersAndUnits(string text, long expected)
    {
        Assert.True(ByteSize.TryParse(text, out var bytes));
        Assert.Equal(expected, bytes);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-5 GB")]
    [InlineData("lots")]
    [InlineData("99999999999 PB")]
    public void ByteSize_RejectsNonsense(string text) => Assert.False(ByteSize.TryParse(text, out _));

    [Theory]
    [InlineData("""{ "id": "s", "api": "s3compatible", "read": "stream", "endpoint": "http://AKIA:s3cret@s3.example.com", "bucket": "b", "accessKey": "k", "secretKey": "s" }""", "endpoint")]
    [InlineData("""{ "id": "s", "api": "oss", "read": "stream", "endpoint": "AKIA:s3cret@oss-cn-hangzhou.aliyuncs.com", "bucket": "b", "accessKey": "k", "secretKey": "s" }""", "endpoint")]
    [InlineData("""{ "id": "s", "api": "azure", "read": "stream", "endpoint": "https://acct:s3cret@blob.example.com/acct", "accountName": "acct", "accountKey": "a2V5", "container": "c" }""", "endpoint")]
    [InlineData("""{ "id": "s", "api": "swift", "read": "stream", "authUrl": "https://admin:s3cret@auth.example.com/v3", "username": "u", "password": "p", "container": "c" }""", "authUrl")]
    [InlineData("""{ "id": "s", "api": "local", "root": "x", "read": "redirect", "storageUrl": "https://user:s3cret@cdn.example.com/" }""", "storageUrl")]
    public void AUrlCarryingCredentials_IsRefused_WithoutEchoingThem(string entry, string field)
    {
        using var factory = new TestUtilities.RouterFactory("""{ "storages": [ { "id": "local", "api": "local", "root": "files", "read": "stream" } ] }""");
        var validator = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<StorageConfigValidator>(factory.Services);
        var errors = new List<string>();
        var document = StorageConfigReader.Parse($$"""{ "storages": [ {{entry}} ] }""", "storages.json", errors, _ => null);

        var problems = validator.Validate(null, document!).Failures ?? [];

        Assert.Contains(problems, p => p.StartsWith($"storages[0] ('s'): field '{field}': must not carry credentials (user:password@)", StringComparison.Ordinal));
        Assert.DoesNotContain(problems, p => p.Contains("s3cret", StringComparison.Ordinal));
    }
}

using System.Reflection;
using System.Text.Json;
using EdgeRouter.Storage;

namespace EdgeRouter.Tests.Configuration;

/// <summary>README is a contract: what the code accepts, it documents.</summary>
public sealed class ReadmeContractTests
{
    private static readonly string Readme = File.ReadAllText(Path.Combine(TestUtilities.Repository.Root, "README.md"));

    public static IEnumerable<object[]> ProviderFields()
        => typeof(StorageDefinition).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && t.Name.EndsWith("StorageSettings", StringComparison.Ordinal) && t.Namespace?.StartsWith("EdgeRouter.Storage", StringComparison.Ordinal) == true)
            .SelectMany(t => t.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).Select(p => new object[] { t.Name, JsonNamingPolicy.CamelCase.ConvertName(p.Name) }));

    [Theory]
    [MemberData(nameof(ProviderFields))]
    public void EveryFieldAStorageApiAccepts_IsInReadme(string settings, string field)
        => Assert.True(Readme.Contains($"`{field}`", StringComparison.Ordinal), $"README does not document '{field}' ({settings}).");

    public static IEnumerable<object[]> CdnTargetFields()
        => typeof(EdgeRouter.Cdn.CdnTargetOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => new object[] { JsonNamingPolicy.CamelCase.ConvertName(p.Name) });

    [Theory]
    [MemberData(nameof(CdnTargetFields))]
    public void EveryFieldAPurgeTargetAccepts_IsInReadme(string field)
        => Assert.True(Readme.Contains($"`{field}`", StringComparison.Ordinal), $"README does not document the purge target field '{field}'.");

    /// <summary>Every setting of the <c>EdgeRouter</c> section, as <c>Section:Name</c> (top-level ones by name alone).</summary>
    public static IEnumerable<object[]> SiteSettings()
    {
        foreach (var property in typeof(EdgeRouter.Configuration.EdgeRouterOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var type = property.PropertyType;
            if (type.IsClass && type != typeof(string) && type.Namespace?.StartsWith("EdgeRouter", StringComparison.Ordinal) == true)
            {
                foreach (var inner in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite || p.PropertyType.IsAssignableTo(typeof(System.Collections.IEnumerable))))
                {
                    yield return [$"{property.Name}:{inner.Name}", inner.Name];
                }
            }
            else
            {
                yield return [property.Name, property.Name];
            }
        }
    }

    // A row may name several settings of one section: "`Serving:ProxyActivityTimeout` / `ProxyConnectTimeout`".
    [Theory]
    [MemberData(nameof(SiteSettings))]
    public void EverySiteSetting_IsInReadme(string setting, string name)
        => Assert.True(Readme.Contains($"`{setting}`", StringComparison.Ordinal) || Readme.Split('\n').Any(l => l.StartsWith("| `" + setting.Split(':')[0] + ":", StringComparison.Ordinal) && l.Contains($"`{name}`", StringComparison.Ordinal)), $"README does not document the setting '{setting}'.");

    [Fact]
    public void EveryStorageApi_IsNamedInReadmesApiRow()
    {
        var apiRow = Readme.Split('\n').Single(l => l.StartsWith("| `api` | yes |", StringComparison.Ordinal));
        foreach (var api in new[] { "local", "s3", "s3compatible", "oss", "b2", "gcs", "azure", "swift", "sftp", "ftp" })
        {
            Assert.Contains($"`{api}`", apiRow, StringComparison.Ordinal);
        }
    }
}

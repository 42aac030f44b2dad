using EdgeRouter.Configuration;
using EdgeRouter.Storage;

namespace EdgeRouter.Tests.TestUtilities;

public static class TestStores
{
    /// <summary>Builds a store from one storages.json entry through <paramref name="provider"/>, as a production config does; the entry must validate.</summary>
    public static IObjectStore Create(IStorageProvider provider, string entryJson, string contentRoot)
    {
        var errors = new List<string>();
        var config = StorageConfigReader.Parse($$"""{ "storages": [ {{entryJson}} ] }""", "test", errors, _ => null)!.Storages[0];
        provider.Validate(config, new StorageValidationContext(0, config.Id, errors, contentRoot));
        Assert.Empty(errors);
        return provider.Create(config, new StorageProviderContext(contentRoot, null!));
    }
}

using EdgeRouter.Configuration;
using Microsoft.Extensions.Options;

namespace EdgeRouter.Storage.Local;

/// <summary>The <c>local</c> API: objects are files under a folder of this machine.</summary>
internal sealed class LocalStorageProvider(TimeProvider timeProvider, IOptions<EdgeRouterOptions> options) : IStorageProvider
{
    public string Api => StorageProviders.Local;

    public void Validate(StorageConfig config, StorageValidationContext context)
    {
        var settings = StorageSettings.Bind<LocalStorageSettings>(config, context);
        if (settings is not null && string.IsNullOrWhiteSpace(settings.Root))
        {
            context.AddError("root", "is required: the folder that holds this storage's objects.");
        }
    }

    public IObjectStore Create(StorageConfig config, StorageProviderContext context)
    {
        var settings = StorageSettings.Bind<LocalStorageSettings>(config, null)!;
        var root = Path.GetFullPath(settings.Root!, context.ContentRoot);
        return new LocalObjectStore(root, timeProvider, options.Value.Uploads.SyncToDisk);
    }
}

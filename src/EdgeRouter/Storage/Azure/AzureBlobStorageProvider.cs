using Azure.Storage;
using Azure.Storage.Blobs;
using EdgeRouter.Configuration;

namespace EdgeRouter.Storage.Azure;

/// <summary>The <c>azure</c> API: Microsoft Azure Blob Storage (Azure.Storage.Blobs), block blobs, SAS for presigned reads.</summary>
internal sealed class AzureBlobStorageProvider(TimeProvider timeProvider) : IStorageProvider
{
    public string Api => StorageProviders.Azure;

    public bool SupportsPresignedReads => true;

    public void Validate(StorageConfig config, StorageValidationContext context)
    {
        if (StorageSettings.Bind<AzureBlobStorageSettings>(config, context) is not { } s)
        {
            return;
        }

        var ways = new[] { !string.IsNullOrEmpty(s.ConnectionString), !string.IsNullOrEmpty(s.SasUrl), !string.IsNullOrEmpty(s.AccountName) }.Count(x => x);
        if (ways != 1)
        {
            context.AddError("accountName", "give exactly one of: 'accountName' + 'accountKey', 'connectionString', or 'sasUrl'.");
        }
        else if (!string.IsNullOrEmpty(s.AccountName) && string.IsNullOrEmpty(s.AccountKey))
        {
            context.AddError("accountKey", "is required with 'accountName'.");
        }

        if (string.IsNullOrEmpty(s.SasUrl) && string.IsNullOrWhiteSpace(s.Container))
        {
            context.AddError("container", "is required.");
        }

        context.ValidateHttpUrl(s.Endpoint, "endpoint");
        context.ValidateHttpUrl(s.SasUrl, "sasUrl", holdsSecret: true);
        context.ValidatePrefix(s.Prefix);

        if (s.BlockSizeBytes is < 256 * 1024 or > 100 * 1024 * 1024)
        {
            context.AddError("blockSizeBytes", "must be between 256 KiB and 100 MiB.");
        }

        if (s.MaxConcurrency is < 1 or > 32)
        {
            context.AddError("maxConcurrency", "must be between 1 and 32.");
        }
    }

    public IObjectStore Create(StorageConfig config, StorageProviderContext context)
    {
        var s = StorageSettings.Bind<AzureBlobStorageSettings>(config, null)!;
        var options = new BlobClientOptions();
        options.Retry.MaxRetries = 2;
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(s.TimeoutSeconds);
        var container = !string.IsNullOrEmpty(s.ConnectionString) ? new BlobContainerClient(s.ConnectionString, s.Container, options)
            : !string.IsNullOrEmpty(s.SasUrl) ? new BlobContainerClient(new Uri(s.SasUrl), options)
            : new BlobContainerClient(
                new Uri($"{(s.Endpoint ?? $"https://{s.AccountName}.blob.core.windows.net").TrimEnd('/')}/{s.Container}"),
                new StorageSharedKeyCredential(s.AccountName, s.AccountKey),
                options);
        var transfer = new StorageTransferOptions
        {
            InitialTransferSize = s.BlockSizeBytes,
            MaximumTransferSize = s.BlockSizeBytes,
            MaximumConcurrency = s.MaxConcurrency,
        };
        return new AzureBlobObjectStore(config.Id!, container, s.Prefix ?? string.Empty, transfer, TimeSpan.FromSeconds(s.PresignedExpirySeconds), timeProvider);
    }
}

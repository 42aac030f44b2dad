namespace EdgeRouter.Storage.Azure;

/// <summary>The <c>azure</c> API's fields in storages.json. Give an account name and key, a connection string, or a container SAS URL.</summary>
public sealed class AzureBlobStorageSettings
{
    public string? AccountName { get; set; }

    public string? AccountKey { get; set; }

    public string? Container { get; set; }

    /// <summary>The blob endpoint (Azurite, a sovereign cloud, a CNAME); default <c>https://&lt;account&gt;.blob.core.windows.net</c>.</summary>
    public string? Endpoint { get; set; }

    public string? ConnectionString { get; set; }

    /// <summary>A SAS URL of the container, with write, read and delete permissions.</summary>
    public string? SasUrl { get; set; }

    public string? Prefix { get; set; }

    /// <summary>Block size of uploads; larger bodies go up as several blocks in parallel.</summary>
    public long BlockSizeBytes { get; set; } = 8 * 1024 * 1024;

    public int MaxConcurrency { get; set; } = 4;

    public int PresignedExpirySeconds { get; set; } = 300;

    public int TimeoutSeconds { get; set; } = 60;
}

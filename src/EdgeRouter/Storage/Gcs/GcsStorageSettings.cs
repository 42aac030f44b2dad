namespace EdgeRouter.Storage.Gcs;

/// <summary>The <c>gcs</c> API's fields in storages.json.</summary>
public sealed class GcsStorageSettings
{
    public string? Bucket { get; set; }

    /// <summary>The service account's key JSON, inline (starting with <c>{</c>) or the path of its file.</summary>
    public string? CredentialsJson { get; set; }

    /// <summary>The service's root URL (an emulator, a private endpoint); default <c>https://storage.googleapis.com</c>.</summary>
    public string? Endpoint { get; set; }

    /// <summary>Gives each object the <c>publicRead</c> ACL; only for buckets without uniform bucket-level access.</summary>
    public bool PublicRead { get; set; }

    public string? Prefix { get; set; }

    /// <summary>Size of each request of a resumable upload; a multiple of 256 KiB.</summary>
    public int ChunkSizeBytes { get; set; } = 8 * 1024 * 1024;

    public int PresignedExpirySeconds { get; set; } = 300;

    public int TimeoutSeconds { get; set; } = 60;
}

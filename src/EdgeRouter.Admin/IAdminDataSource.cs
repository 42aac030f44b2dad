using System.Text.Json;

namespace EdgeRouter.Admin;

/// <summary>
/// What the admin shows and does, provided by the host: the admin library knows nothing of the router's
/// internals, only this contract (as YARP's admin-free core exposes <c>IProxyConfigProvider</c>).
/// </summary>
public interface IAdminDataSource
{
    /// <summary>Every configured storage, with its usage and health. Settings are raw: the admin masks secrets itself.</summary>
    Task<IReadOnlyList<AdminStorage>> GetStoragesAsync(CancellationToken cancellationToken);

    /// <summary>Objects in key order from <paramref name="after"/>, whose keys start with <paramref name="prefix"/>.</summary>
    Task<IReadOnlyList<AdminObject>> ListObjectsAsync(string prefix, string? after, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Puts a small probe object on the storage, reads it back through its API and through its Storage URL, and deletes
    /// it; null when there is no such storage. Nothing is left behind, whatever step fails.
    /// </summary>
    Task<AdminConnectionTest?> TestStorageAsync(string storageId, CancellationToken cancellationToken);

    /// <summary>
    /// Changes a storage's weight or active flag where the configuration lives, validated as a hand edit is; null
    /// when there is no such storage, otherwise the problems (none when the change is in force).
    /// </summary>
    Task<IReadOnlyList<string>?> UpdateStorageAsync(string storageId, AdminStorageChange change, CancellationToken cancellationToken);

    /// <summary>Why the storage configuration cannot be edited here (a read-only file or mount), or null when it can.</summary>
    string? GetReadOnlyReason();

    /// <summary>Deletes an object as the public API's DELETE does (catalog first, then the storage); null when there is no such object.</summary>
    Task<AdminObject?> DeleteObjectAsync(string key, CancellationToken cancellationToken);
}

public sealed record AdminStorageChange(double? Weight, bool? Active);

public sealed record AdminStorage(
    string Id,
    string Api,
    string Read,
    double Weight,
    bool Active,
    string StorageUrl,
    long? CapacityBytes,
    long UsedBytes,
    long Objects,
    AdminHealth Health,
    IReadOnlyDictionary<string, JsonElement> Settings);

public sealed record AdminHealth(bool Healthy, DateTimeOffset? LastChecked, double? LatencyMs, string? LastError);

public sealed record AdminObject(string Key, string Storage, long Size, string ContentType, string Sha256, DateTimeOffset CreatedAt, string SiteUrl, string StorageUrl);

public sealed record AdminConnectionTest(string Storage, bool Succeeded, IReadOnlyList<AdminTestStep> Steps);

public sealed record AdminTestStep(string Name, bool Succeeded, double Milliseconds, string? Error);

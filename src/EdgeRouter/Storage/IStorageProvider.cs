using EdgeRouter.Configuration;

namespace EdgeRouter.Storage;

/// <summary>
/// Turns a storages.json entry of one <c>api</c> into an <see cref="IObjectStore"/>. One per API, registered with
/// <c>TryAddEnumerable</c> and looked up by <see cref="Api"/>; adding a backend means adding one of these.
/// </summary>
public interface IStorageProvider
{
    /// <summary>The value of <c>api</c> in storages.json this provider serves, e.g. <c>local</c>.</summary>
    string Api { get; }

    /// <summary>Whether its stores implement <see cref="IPresignedUrlStore"/>, so <c>read: presigned</c> is allowed.</summary>
    bool SupportsPresignedReads => false;

    /// <summary>Checks the API-specific fields, reporting every problem through <paramref name="context"/>.</summary>
    void Validate(StorageConfig config, StorageValidationContext context);

    /// <summary>Creates the store for a config that passed <see cref="Validate"/>.</summary>
    IObjectStore Create(StorageConfig config, StorageProviderContext context);
}

/// <summary>Collects the problems found in one storage entry; each names the storage and the field.</summary>
public sealed class StorageValidationContext(int index, string? id, ICollection<string> errors)
{
    public void AddError(string field, string message)
        => errors.Add($"storages[{index}] ('{id ?? "?"}'): field '{field}': {message}");
}

/// <summary>What a provider may need to build a store.</summary>
public sealed class StorageProviderContext(string contentRoot, IServiceProvider services)
{
    /// <summary>Relative paths in storages.json are resolved against this folder.</summary>
    public string ContentRoot { get; } = contentRoot;

    public IServiceProvider Services { get; } = services;
}

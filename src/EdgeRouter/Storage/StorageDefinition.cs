using System.Collections.Frozen;
using EdgeRouter.Configuration;

namespace EdgeRouter.Storage;

/// <summary>A validated storage with its store, as the router uses it. Immutable; a reload builds new ones.</summary>
public sealed class StorageDefinition
{
    public required StorageConfig Config { get; init; }

    public required IObjectStore Store { get; init; }

    public string Id => Config.Id!;

    public string Api => Config.Api!;

    public ReadMode Read => Config.Read;

    /// <summary>Base URL with a trailing '/'; the mapped URL of an object is this plus its URL-encoded key.</summary>
    public required string StorageUrl { get; init; }

    public long? Capacity { get; init; }

    public required string CacheControl { get; init; }

    /// <summary>Reads of this storage's objects go through the origin cache.</summary>
    public bool Cached { get; init; }

    public double Weight => Config.Weight;

    public bool Active => Config.Active;

    /// <summary>The mapped URL of <paramref name="key"/> on this storage (the seed's "Storage URL + stored key").</summary>
    public string MapUrl(string key) => string.Concat(StorageUrl, ObjectKeys.ToUrlPath(key));
}

/// <summary>The storages in force at one moment.</summary>
public sealed class StorageSnapshot
{
    public StorageSnapshot(IReadOnlyList<StorageDefinition> storages, long version)
    {
        Storages = storages;
        Version = version;
        ById = storages.ToFrozenDictionary(s => s.Id, StringComparer.Ordinal);
    }

    public IReadOnlyList<StorageDefinition> Storages { get; }

    public FrozenDictionary<string, StorageDefinition> ById { get; }

    public long Version { get; }
}

/// <summary>Gives the storages currently in force; they change when storages.json is reloaded.</summary>
public interface IStorageRegistry
{
    StorageSnapshot Current { get; }

    /// <summary>Re-reads storages.json now; returns the problems that made it keep the previous configuration.</summary>
    IReadOnlyList<string> Reload();
}

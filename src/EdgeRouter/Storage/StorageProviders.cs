using System.Collections.Frozen;

namespace EdgeRouter.Storage;

/// <summary>Names of the built-in storage APIs, and the lookup of providers by name.</summary>
public static class StorageProviders
{
    public const string Local = "local";
    public const string S3 = "s3";
    public const string S3Compatible = "s3compatible";
    public const string Oss = "oss";
    public const string B2 = "b2";
    public const string Sftp = "sftp";
    public const string Ftp = "ftp";
    public const string Azure = "azure";
    public const string Gcs = "gcs";
    public const string Swift = "swift";

    /// <summary>A case-insensitive lookup by <see cref="IStorageProvider.Api"/>; two providers with one name are a bug.</summary>
    internal static FrozenDictionary<string, IStorageProvider> ToLookup(IEnumerable<IStorageProvider> providers)
    {
        var lookup = new Dictionary<string, IStorageProvider>(StringComparer.OrdinalIgnoreCase);
        foreach (var provider in providers)
        {
            if (!lookup.TryAdd(provider.Api, provider))
            {
                throw new InvalidOperationException($"Two storage providers are registered for api '{provider.Api}'.");
            }
        }

        return lookup.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }
}

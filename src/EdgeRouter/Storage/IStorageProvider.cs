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
public sealed class StorageValidationContext(int index, string? id, ICollection<string> errors, string contentRoot)
{
    /// <summary>Relative paths in storages.json are resolved against this folder.</summary>
    public string ContentRoot { get; } = contentRoot;

    public void AddError(string field, string message)
        => errors.Add($"storages[{index}] ('{id ?? "?"}'): field '{field}': {message}");

    /// <summary>An optional key prefix must itself be a valid key, ending with '/'.</summary>
    public void ValidatePrefix(string? prefix, string field = "prefix")
    {
        if (prefix is { Length: > 0 } && (!prefix.EndsWith('/') || ObjectKeys.Validate(prefix.TrimEnd('/')) is not null))
        {
            AddError(field, "must be a valid key ending with '/', e.g. 'images/'.");
        }
    }

    /// <summary>An optional URL field must be absolute http(s). A URL that holds a secret (a SAS) is not echoed.</summary>
    public void ValidateHttpUrl(string? url, string field, bool holdsSecret = false)
    {
        if (url is not null && (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)))
        {
            AddError(field, holdsSecret || HasUserInfo(url) ? "is not an absolute http(s) URL." : $"'{url}' is not an absolute http(s) URL.");
        }
        else
        {
            RefuseUserInfo(url, field);
        }
    }

    /// <summary>
    /// Credentials in a URL (user:password@) would be shown wherever the URL is (the admin, the audit log, errors):
    /// they belong in the storage's own secret fields.
    /// </summary>
    public void RefuseUserInfo(string? url, string field)
    {
        if (HasUserInfo(url))
        {
            AddError(field, "must not carry credentials (user:password@): put them in the storage's key fields, which are kept secret.");
        }
    }

    /// <summary>Whether the URL (with or without its scheme) carries user:password@.</summary>
    internal static bool HasUserInfo(string? url)
        => url is not null && Uri.TryCreate(url.Contains("://", StringComparison.Ordinal) ? url : "https://" + url, UriKind.Absolute, out var uri) && !string.IsNullOrEmpty(uri.UserInfo);
}

/// <summary>What a provider may need to build a store.</summary>
public sealed class StorageProviderContext(string contentRoot, IServiceProvider services)
{
    /// <summary>Relative paths in storages.json are resolved against this folder.</summary>
    public string ContentRoot { get; } = contentRoot;

    public IServiceProvider Services { get; } = services;
}

using System.Collections.Frozen;
using System.Text.RegularExpressions;
using EdgeRouter.Storage;
using Microsoft.Extensions.Options;

namespace EdgeRouter.Configuration;

/// <summary>
/// Checks a whole storages.json: the common fields here, the API-specific ones through each API's
/// <see cref="IStorageProvider"/>. Every problem is collected, each naming the storage and the field.
/// The admin UI runs exactly this validator before it writes the file.
/// </summary>
internal sealed partial class StorageConfigValidator(IEnumerable<IStorageProvider> providers, IOptions<EdgeRouterOptions> siteOptions, IHostEnvironment environment)
    : IValidateOptions<StoragesDocument>
{
    private static readonly FrozenSet<int> RedirectStatuses = FrozenSet.Create(301, 302, 307, 308);

    private readonly FrozenDictionary<string, IStorageProvider> _providers = StorageProviders.ToLookup(providers);

    public ValidateOptionsResult Validate(string? name, StoragesDocument options)
    {
        var errors = new List<string>();
        if (options.Storages.Count == 0)
        {
            errors.Add("storages: at least one storage is required.");
        }

        Uri.TryCreate(siteOptions.Value.SiteUrl, UriKind.Absolute, out var site);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Storages.Count; i++)
        {
            var storage = options.Storages[i];
            var context = new StorageValidationContext(i, storage.Id, errors, environment.ContentRootPath);
            ValidateCommon(storage, context, seen, site);

            if (storage.Api is { } api && _providers.TryGetValue(api, out var provider))
            {
                if (storage.Read == ReadMode.Presigned && !provider.SupportsPresignedReads)
                {
                    context.AddError("read", $"'presigned' is not supported by api '{api}' (use redirect, proxy or stream).");
                }

                provider.Validate(storage, context);
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private void ValidateCommon(StorageConfig storage, StorageValidationContext context, HashSet<string> seen, Uri? site)
    {
        if (string.IsNullOrEmpty(storage.Id))
        {
            context.AddError("id", "is required.");
        }
        else if (!IdPattern().IsMatch(storage.Id))
        {
            context.AddError("id", "must be 1-64 characters of a-z, 0-9, '-' or '_', starting with a letter or digit.");
        }
        else if (!seen.Add(storage.Id))
        {
            context.AddError("id", "is used by another storage.");
        }

        if (string.IsNullOrEmpty(storage.Api))
        {
            context.AddError("api", $"is required (one of: {string.Join(", ", _providers.Keys.Order(StringComparer.Ordinal))}).");
        }
        else if (!_providers.ContainsKey(storage.Api))
        {
            context.AddError("api", $"'{storage.Api}' is not available (known: {string.Join(", ", _providers.Keys.Order(StringComparer.Ordinal))}).");
        }

        if (!double.IsFinite(storage.Weight) || storage.Weight < 0)
        {
            context.AddError("weight", "must be a number ≥ 0.");
        }

        if (storage.Capacity is { } capacity && !ByteSize.TryParse(capacity, out _))
        {
            context.AddError("capacity", "must be a number of bytes or a size such as \"20 GB\".");
        }

        if (!RedirectStatuses.Contains(storage.RedirectStatus))
        {
            context.AddError("redirectStatus", "must be 301, 302, 307 or 308.");
        }

        if (storage.CacheControl is { } cc && (cc.Length == 0 || cc.AsSpan().IndexOfAny('\r', '\n') >= 0))
        {
            context.AddError("cacheControl", "must be a non-empty single-line header value.");
        }

        if (storage.Cache == true && storage.Read is not (ReadMode.Proxy or ReadMode.Stream))
        {
            context.AddError("cache", $"applies to 'proxy' and 'stream' reads; read is '{storage.Read.ToString().ToLowerInvariant()}'.");
        }

        ValidateStorageUrl(storage, context, site);
    }

    private static void ValidateStorageUrl(StorageConfig storage, StorageValidationContext context, Uri? site)
    {
        if (string.IsNullOrEmpty(storage.StorageUrl))
        {
            if (storage.Read is ReadMode.Redirect or ReadMode.Proxy)
            {
                context.AddError("storageUrl", $"is required when read is '{storage.Read.ToString().ToLowerInvariant()}'.");
            }

            return;
        }

        if (!Uri.TryCreate(storage.StorageUrl, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            context.AddError("storageUrl", $"'{storage.StorageUrl}' is not an absolute http(s) URL.");
            return;
        }

        if (!string.IsNullOrEmpty(url.UserInfo))
        {
            context.AddError("storageUrl", "must not carry credentials (user:password@); they would be sent to every client.");
        }

        if (!string.IsNullOrEmpty(url.Query) || !string.IsNullOrEmpty(url.Fragment))
        {
            context.AddError("storageUrl", "must not have a query or fragment: keys are appended to it.");
        }

        if (storage.Read is ReadMode.Redirect or ReadMode.Proxy && site is not null && PointsAt(url, site))
        {
            context.AddError("storageUrl", $"points back at this router ({site.GetLeftPart(UriPartial.Authority)}); with read '{storage.Read.ToString().ToLowerInvariant()}' every read would loop. Use read 'stream' or the backend's own URL.");
        }
    }

    private static bool PointsAt(Uri url, Uri site)
    {
        if (url.Port != site.Port)
        {
            return false;
        }

        return string.Equals(url.IdnHost, site.IdnHost, StringComparison.OrdinalIgnoreCase) || (url.IsLoopback && site.IsLoopback);
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,63}$", RegexOptions.IgnoreCase)]
    private static partial Regex IdPattern();
}

using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using EdgeRouter.Configuration;
using EdgeRouter.Storage;
using Microsoft.Extensions.Options;

namespace EdgeRouter.Cdn;

/// <summary>
/// What a CDN knows an object by: its site URL, and the cache tags every object answer carries (<c>Cache-Tag</c> for
/// Cloudflare, <c>Surrogate-Key</c> for Fastly), one naming the object and one its storage, so one purge call clears
/// one object or a whole storage.
/// </summary>
public sealed class CacheTags(IOptions<EdgeRouterOptions> options)
{
    private const string KeyTagPrefix = "er-k-";
    private const string StorageTagPrefix = "er-s-";
    private readonly EdgeRouterOptions _options = options.Value;
    private readonly string _site = options.Value.SiteUrl.TrimEnd('/') + options.Value.ObjectPathPrefix;

    /// <summary>The object's URL under the site, as readers (and so the CDN) ask for it.</summary>
    public string Url(string key) => _site + ObjectKeys.ToUrlPath(key);

    /// <summary>The object's tag: a short hash of its key (keys may hold characters no tag may).</summary>
    public static string ForKey(string key)
    {
        var length = Encoding.UTF8.GetMaxByteCount(key.Length);
        var rented = length <= 512 ? null : ArrayPool<byte>.Shared.Rent(length);
        Span<byte> utf8 = rented ?? stackalloc byte[512];
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(utf8[..Encoding.UTF8.GetBytes(key, utf8)], hash);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        return string.Concat(KeyTagPrefix, Convert.ToHexStringLower(hash[..8]));
    }

    /// <summary>The storage's tag: every object it serves carries it.</summary>
    public static string ForStorage(string storageId) => StorageTagPrefix + storageId.ToLowerInvariant();

    /// <summary>Adds the tags to an answer about the key: its own, and its storage's when it has one (a 404 has none).</summary>
    public void Apply(IHeaderDictionary headers, string key, string? storageId)
    {
        if (!_options.Cdn.CacheTags)
        {
            return;
        }

        var keyTag = ForKey(key);
        if (storageId is null)
        {
            headers["Cache-Tag"] = keyTag;
            headers["Surrogate-Key"] = keyTag;
            return;
        }

        var storageTag = ForStorage(storageId);
        headers["Cache-Tag"] = string.Concat(keyTag, ",", storageTag);
        headers["Surrogate-Key"] = string.Concat(keyTag, " ", storageTag);
    }

    /// <summary>
    /// Adds the CDN-only cache lifetimes, when set, to an object's 200, 206 or 304 (never to a redirect, a 404 or an
    /// error, which keep their own short lifetimes).
    /// </summary>
    public void ApplyLifetimes(IHeaderDictionary headers)
    {
        if (_options.Cdn.SurrogateControl is { Length: > 0 } surrogate)
        {
            headers["Surrogate-Control"] = surrogate;
        }

        if (_options.Cdn.CdnCacheControl is { Length: > 0 } cdnCacheControl)
        {
            headers["CDN-Cache-Control"] = cdnCacheControl;
        }
    }
}

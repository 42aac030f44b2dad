using System.Text.Json;
using System.Text.Json.Serialization;

namespace EdgeRouter.Configuration;

/// <summary>How a read of an object on a storage is answered.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ReadMode>))]
public enum ReadMode
{
    /// <summary>Redirect the client to the mapped Storage URL.</summary>
    Redirect,

    /// <summary>Forward the request to the mapped Storage URL and relay the answer.</summary>
    Proxy,

    /// <summary>Read the object through the storage's own API and stream it.</summary>
    Stream,

    /// <summary>Redirect to a short-lived signed URL of the backend (private buckets).</summary>
    Presigned,
}

/// <summary>How generated keys are laid out.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<KeyLayout>))]
public enum KeyLayout
{
    /// <summary><c>{id}{.ext}</c>.</summary>
    Direct,

    /// <summary><c>yyyy/MM/dd/{id}{.ext}</c>, the seed's folder-based storage.</summary>
    Dated,
}

/// <summary>One entry of <c>config/storages.json</c>, as written by the operator.</summary>
/// <remarks>
/// Fields common to every API are typed here; API-specific fields (for <c>local</c>: <c>root</c>) stay in
/// <see cref="Settings"/> and are read by the API's <see cref="Storage.IStorageProvider"/>.
/// </remarks>
public sealed record StorageConfig
{
    public string? Id { get; init; }

    public string? Name { get; init; }

    public string? Api { get; init; }

    /// <summary>Base URL that locates the storage's files. Defaults to the site URL for <c>stream</c> storages.</summary>
    public string? StorageUrl { get; init; }

    public double Weight { get; init; } = 1;

    /// <summary>Bytes as a number, or a size such as <c>"20 GB"</c>; absent means unlimited.</summary>
    public JsonElement? Capacity { get; init; }

    public bool Active { get; init; } = true;

    public ReadMode Read { get; init; } = ReadMode.Redirect;

    public KeyLayout KeyLayout { get; init; } = KeyLayout.Dated;

    public string? CacheControl { get; init; }

    /// <summary>Whether the origin cache keeps this storage's objects; absent means on for <c>proxy</c> and <c>stream</c>.</summary>
    public bool? Cache { get; init; }

    /// <summary>
    /// Lazy adoption: on a catalog miss the storage is asked for the key (one stat), and an object found there is
    /// recorded on the fly, so a site can point its CDN at the router before an import of the storage finishes.
    /// </summary>
    public bool Adopt { get; init; }

    /// <summary>Status of the redirect in <c>redirect</c> mode: 301, 302, 307 or 308.</summary>
    public int RedirectStatus { get; init; } = StatusCodes.Status302Found;

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Settings { get; init; }
}

/// <summary>The whole of <c>config/storages.json</c>.</summary>
public sealed record StoragesDocument
{
    public IReadOnlyList<StorageConfig> Storages { get; init; } = [];
}

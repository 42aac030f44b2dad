using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace EdgeRouter.LoadTests.Deployment;

/// <summary>Loads the keys of a run from a file or the admin API, or seeds them through the upload API (and removes them).</summary>
public static class TargetKeys
{
    public const string AdminKeyVariable = "EDGEROUTER_ADMIN_KEY";
    private const int AdminPage = 1000;

    /// <summary><paramref name="url"/> with a trailing slash, so a key resolves under its path.</summary>
    public static Uri Base(Uri url) => url.AbsoluteUri.EndsWith('/') ? url : new Uri(url.AbsoluteUri + "/");

    /// <summary>The URL of <paramref name="key"/> under <paramref name="url"/>, each path segment escaped.</summary>
    public static Uri UrlOf(Uri url, string key)
        => new(Base(url), string.Join('/', key.TrimStart('/').Split('/').Select(Uri.EscapeDataString)));

    public static async Task<IReadOnlyList<TargetKey>> FromFileAsync(Uri url, string path, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            throw new ArgumentException($"--keys: '{path}' does not exist.");
        }

        var keys = (await File.ReadAllLinesAsync(path, cancellationToken))
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(key => new TargetKey(key.TrimStart('/'), UrlOf(url, key), null, null))
            .ToList();
        return keys.Count > 0 ? keys : throw new ArgumentException($"--keys: '{path}' holds no key (one a line).");
    }

    /// <summary>Pages through <c>GET {admin}/api/objects</c>; each object's size and SHA-256 (its ETag) come with it.</summary>
    public static async Task<IReadOnlyList<TargetKey>> FromAdminAsync(Uri url, Uri admin, string prefix, HttpMessageHandler handler, Action<int> progress, CancellationToken cancellationToken)
    {
        var key = Environment.GetEnvironmentVariable(AdminKeyVariable);
        if (string.IsNullOrWhiteSpace(key))
        {
            throw new ArgumentException($"--keys-from-admin needs the admin key in the environment variable {AdminKeyVariable}.");
        }

        using var http = new HttpClient(handler, disposeHandler: false) { DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", key) } };
        var list = new Uri(Base(admin), "api/objects");
        var keys = new List<TargetKey>();
        string? after = null;
        do
        {
            var query = $"?limit={AdminPage.ToString(CultureInfo.InvariantCulture)}&prefix={Uri.EscapeDataString(prefix)}" + (after is null ? string.Empty : "&after=" + Uri.EscapeDataString(after));
            using var response = await http.GetAsync(new Uri(list, query), cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"GET {list} answered {(int)response.StatusCode} {response.ReasonPhrase}: {Truncate(await response.Content.ReadAsStringAsync(cancellationToken))}");
            }

            using var page = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(cancellationToken));
            foreach (var item in page.RootElement.GetProperty("items").EnumerateArray())
            {
                var name = item.GetProperty("key").GetString()!;
                var sha = item.TryGetProperty("sha256", out var hash) && hash.ValueKind == JsonValueKind.String ? hash.GetString() : null;
                keys.Add(new TargetKey(name, UrlOf(url, name), item.GetProperty("size").GetInt64(), sha is null ? null : $"\"{sha}\""));
            }

            after = page.RootElement.TryGetProperty("next", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : null;
            progress(keys.Count);
        }
        while (after is not null);

        return keys.Count > 0 ? keys : throw new ArgumentException($"--keys-from-admin: the admin lists no object{(prefix.Length > 0 ? $" under '{prefix}'" : string.Empty)}.");
    }

    /// <summary>Uploads <paramref name="seed"/>'s objects (PNG-signed, each its own bytes) under a prefix of their own.</summary>
    public static async Task<IReadOnlyList<TargetKey>> SeedAsync(Uri url, KeySource.Seed seed, HttpMessageHandler handler, Action<int> progress, CancellationToken cancellationToken)
    {
        using var http = Uploader(handler, seed.UploadKey);
        var prefix = string.Create(CultureInfo.InvariantCulture, $"loadtest/{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Random.Shared.Next(0x10000):x4}/");
        var keys = new TargetKey[seed.Count];
        var done = 0;
        try
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, seed.Count), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (i, token) =>
        {
            var body = RandomPng.Create(seed.Size);
            var name = string.Create(CultureInfo.InvariantCulture, $"{prefix}{i:D6}.png");
            using var content = new ByteArrayContent(body) { Headers = { ContentType = new MediaTypeHeaderValue("image/png") } };
            using var response = await http.PutAsync(new Uri(Base(url), "api/v1/objects/" + name), content, token);
            if (response.StatusCode != HttpStatusCode.Created)
            {
                throw new InvalidOperationException($"Seeding {name} failed: PUT answered {(int)response.StatusCode} {response.ReasonPhrase}: {Truncate(await response.Content.ReadAsStringAsync(token))}");
            }

            keys[i] = new TargetKey(name, UrlOf(url, name), seed.Size, response.Headers.ETag?.ToString());
            progress(Interlocked.Increment(ref done));
        });
        }
        catch
        {
            // Nothing seeded is left behind when seeding fails or is cancelled.
            await RemoveAsync(url, keys.Where(k => k is not null), seed.UploadKey, handler);
            throw;
        }

        return keys;
    }

    /// <summary>Deletes seeded objects at once (<c>?immediate=true</c>); returns how many are gone.</summary>
    public static async Task<int> RemoveAsync(Uri url, IEnumerable<TargetKey> keys, string uploadKey, HttpMessageHandler handler)
    {
        using var http = Uploader(handler, uploadKey);
        var removed = 0;
        await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (key, token) =>
        {
            using var response = await http.DeleteAsync(new Uri(Base(url), "api/v1/objects/" + key.Key + "?immediate=true"), token);
            if (response.StatusCode is HttpStatusCode.NoContent or HttpStatusCode.NotFound)
            {
                Interlocked.Increment(ref removed);
            }
        });
        return removed;
    }

    private static HttpClient Uploader(HttpMessageHandler handler, string uploadKey)
        => new(handler, disposeHandler: false) { DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", uploadKey) }, Timeout = TimeSpan.FromMinutes(2) };

    private static string Truncate(string text) => text.Length <= 300 ? text : text[..300] + "…";
}

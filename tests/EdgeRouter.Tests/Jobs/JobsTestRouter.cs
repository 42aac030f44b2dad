using Microsoft.Extensions.DependencyInjection;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using EdgeRouter.Storage;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.Jobs;

/// <summary>A router with the admin on and the given storages, and the calls the jobs tests make through the admin API.</summary>
internal static class JobsTestRouter
{
    public const string AdminKey = "jobs-admin-key-3c9d21a7";

    /// <summary><see cref="AdminKey"/> as <c>Admin:KeyHashes</c> takes it.</summary>
    public static string AdminKeyHash { get; } = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(AdminKey)));

    public static RouterFactory Create(string storages, IDictionary<string, string?>? settings = null, Action<IServiceCollection>? configureServices = null)
    {
        var all = new Dictionary<string, string?>
        {
            ["Admin:KeyHashes:0"] = AdminKeyHash,
            ["EdgeRouter:Jobs:PollInterval"] = "00:00:00.200",
            ["EdgeRouter:Catalog:DeleteGrace"] = "01:00:00",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        return new RouterFactory($$"""{ "storages": [ {{storages}} ] }""", configureServices, all);
    }

    /// <summary>
    /// A router whose storage <c>old</c> (Local) holds <paramref name="count"/> uploaded PNGs under <paramref name="prefix"/>
    /// and whose storage <c>new</c> is a <see cref="FlakyStorageProvider.FlakyStore"/> (weight 0), the migration target.
    /// </summary>
    public static async Task<(RouterFactory Router, FlakyStorageProvider.FlakyStore Target, Dictionary<string, byte[]> Objects)> CreateWithFlakyTargetAsync(string prefix, int count, int size)
    {
        var router = Create(
            """
            { "id": "old", "api": "local", "root": "data/old", "read": "stream" },
            { "id": "new", "api": "flaky", "root": "data/new", "read": "stream", "weight": 0 }
            """,
            configureServices: FlakyStorageProvider.Register);
        var objects = Enumerable.Range(0, count).ToDictionary(i => $"{prefix}{i}.png", i => TestFiles.Png(size + i));
        await UploadAsync(router, objects);
        return (router, router.Services.GetRequiredService<IStorageRegistry>().Current.ById["new"].Store.As<FlakyStorageProvider.FlakyStore>()!, objects);
    }

    /// <summary>Uploads each key's bytes as a PNG through the upload API, asserting each is created.</summary>
    public static async Task UploadAsync(RouterFactory router, IReadOnlyDictionary<string, byte[]> objects)
    {
        using var api = router.CreateAuthorizedClient();
        foreach (var (key, bytes) in objects)
        {
            Assert.Equal(HttpStatusCode.Created, (await api.PutAsync("/api/v1/objects/" + key, TestFiles.Raw(bytes, "image/png"))).StatusCode);
        }
    }

    /// <summary>Asserts that the router serves each key's bytes, as an anonymous reader sees them.</summary>
    public static async Task AssertServedAsync(RouterFactory router, IReadOnlyDictionary<string, byte[]> objects)
    {
        using var reader = router.CreateAnonymousClient();
        foreach (var (key, bytes) in objects)
        {
            Assert.Equal(bytes, await reader.GetByteArrayAsync("/" + key));
        }
    }

    public static HttpClient AdminClient(RouterFactory router)
    {
        var client = router.CreateAnonymousClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        return client;
    }

    /// <summary>Starts a job and returns its id (asserting the 202 and its Location).</summary>
    public static async Task<string> StartAsync(HttpClient admin, string spec)
    {
        using var response = await admin.PostAsync("/admin/api/jobs", new StringContent(spec, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = (string)(await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
        Assert.EndsWith("/admin/api/jobs/" + id, response.Headers.Location!.ToString(), StringComparison.Ordinal);
        return id;
    }

    /// <summary>Waits until the job has finished, and returns it as the admin API shows it.</summary>
    public static async Task<JsonObject> WaitAsync(HttpClient admin, string id, TimeSpan? timeout = null)
    {
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(120));
        while (true)
        {
            var job = (await admin.GetFromJsonAsync<JsonObject>($"/admin/api/jobs/{id}"))!;
            if ((string?)job["state"] is "succeeded" or "failed" or "cancelled")
            {
                return job;
            }

            Assert.True(DateTime.UtcNow < until, $"Job {id} did not finish: {job.ToJsonString()}");
            await Task.Delay(100);
        }
    }

    /// <summary>Runs a job to its end and returns it; asserts it succeeded.</summary>
    public static async Task<JsonObject> RunAsync(HttpClient admin, string spec)
    {
        var job = await WaitAsync(admin, await StartAsync(admin, spec));
        Assert.True((string?)job["state"] == "succeeded", job.ToJsonString());
        return job;
    }

    public static long Count(JsonObject job, string name) => (long?)job["report"]?[name] ?? 0;

    public static IEnumerable<string> Listed(JsonObject job, string list, string field)
        => ((job["report"]?[list] as JsonArray) ?? []).Select(item => (string)item![field]!);
}

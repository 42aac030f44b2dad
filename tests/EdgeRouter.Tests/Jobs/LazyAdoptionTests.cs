using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using EdgeRouter.Configuration;
using EdgeRouter.Storage;
using EdgeRouter.Storage.Local;
using EdgeRouter.Tests.TestUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace EdgeRouter.Tests.Jobs;

/// <summary>A storage with <c>"adopt": true</c>: objects another tool put there are served before any import.</summary>
public sealed class LazyAdoptionTests : IDisposable
{
    private readonly RouterFactory _router = new(
        """
        { "storages": [
          { "id": "main", "api": "local", "root": "data/main", "read": "stream" },
          { "id": "legacy", "api": "counting-local", "root": "data/legacy", "read": "stream", "weight": 0, "adopt": true }
        ] }
        """,
        services => services.TryAddEnumerable(ServiceDescriptor.Singleton<IStorageProvider, CountingLocalProvider>()),
        new Dictionary<string, string?> { ["EdgeRouter:Catalog:NegativeCacheTtl"] = "00:01:00" });

    public void Dispose() => _router.Dispose();

    [Fact]
    public async Task AnObjectPutThereByAnotherTool_IsServedAtOnce_AndRecorded()
    {
        var png = TestFiles.Png(4_321);
        Write("2018/05/legacy photo.png", png);
        using var client = _router.CreateAnonymousClient();

        using var response = await client.GetAsync("/2018/05/legacy%20photo.png");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(png, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal($"\"{TestFiles.Sha256(png)}\"", response.Headers.ETag!.Tag);
        using var api = _router.CreateAuthorizedClient();
        var record = await api.GetFromJsonAsync<JsonObject>("/api/v1/objects/2018/05/legacy%20photo.png");
        Assert.Equal("legacy", (string?)record!["storage"]);
        Assert.Equal("image/png", (string?)record["contentType"]);
    }

    [Fact]
    public async Task ContentAnUploadWouldBeRefused_IsNotAdopted()
    {
        Write("2018/page.html", Encoding.UTF8.GetBytes("<html><script>alert(1)</script></html>"));
        using var client = _router.CreateAnonymousClient();

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/2018/page.html")).StatusCode);
    }

    [Fact]
    public async Task AStormOfRequestsForAnUnknownKey_CostsTheStorageOneStat()
    {
        using var client = _router.CreateAnonymousClient();
        var store = CountingLocalProvider.Stores.Single(s => s.Root.StartsWith(_router.Root, StringComparison.Ordinal));
        var before = store.Stats;

        var answers = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => client.GetAsync("/nowhere/missing.png")));

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.NotFound, a.StatusCode));
        Assert.Equal(1, store.Stats - before);
    }

    private void Write(string key, byte[] bytes)
    {
        var path = Path.Combine(_router.Root, "data", "legacy", key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
    }

    /// <summary>Local storage that counts its stats (<c>api: "counting-local"</c>).</summary>
    private sealed class CountingLocalProvider : IStorageProvider
    {
        public static readonly System.Collections.Concurrent.ConcurrentBag<CountingStore> Stores = [];

        public string Api => "counting-local";

        public void Validate(StorageConfig config, StorageValidationContext context)
        {
        }

        public IObjectStore Create(StorageConfig config, StorageProviderContext context)
        {
            var store = new CountingStore(new LocalObjectStore(Path.Combine(context.ContentRoot, config.Settings!["root"].GetString()!), TimeProvider.System));
            Stores.Add(store);
            return store;
        }
    }

    private sealed class CountingStore(LocalObjectStore inner) : IObjectStore, IObjectStoreDecorator
    {
        private int _stats;

        public int Stats => Volatile.Read(ref _stats);

        public string Root => inner.Root;

        public IObjectStore Inner => inner;

        public Task<StoredObject> PutAsync(string key, Stream content, ObjectWriteOptions options, CancellationToken cancellationToken) => inner.PutAsync(key, content, options, cancellationToken);

        public Task<ObjectContent?> OpenReadAsync(string key, ByteRange? range, CancellationToken cancellationToken) => inner.OpenReadAsync(key, range, cancellationToken);

        public Task<ObjectStat?> StatAsync(string key, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _stats);
            return inner.StatAsync(key, cancellationToken);
        }

        public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken) => inner.DeleteAsync(key, cancellationToken);

        public Task ProbeAsync(CancellationToken cancellationToken) => inner.ProbeAsync(cancellationToken);

        public IAsyncEnumerable<ListedObject> ListAsync(string prefix, string? startAfter, CancellationToken cancellationToken) => inner.ListAsync(prefix, startAfter, cancellationToken);
    }
}

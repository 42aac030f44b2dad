using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using EdgeRouter.Catalog;
using EdgeRouter.Configuration;
using EdgeRouter.Serving.Cache;
using EdgeRouter.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EdgeRouter.Benchmarks;

/// <summary>
/// The origin cache's memory tier: a hit (what every cached read pays), and a fill under a full budget (a crawl:
/// every read a miss that evicts). Bodies live in native memory, so a full cache churning 10 KB bodies must show no
/// gen2 collections and allocate only per-fill bookkeeping, never the body.
/// </summary>
[MemoryDiagnoser]
public class OriginCacheBenchmarks
{
    private const int BodyBytes = 10 * 1024;
    private readonly byte[] _body = RandomNumberGenerator.GetBytes(BodyBytes);
    private OriginCache _cache = null!;
    private StorageDefinition _storage = null!;
    private ObjectRecord _hot = null!;
    private string _sha256 = null!;
    private int _next;

    [GlobalSetup]
    public async Task Setup()
    {
        // 4 MiB: 409 bodies of 10 KB, full after the setup, so every crawl fill evicts one.
        var options = Options.Create(new EdgeRouterOptions { OriginCache = { MemoryBytes = 4 * 1024 * 1024, MaxObjectBytes = BodyBytes } });
        _cache = new OriginCache(options, new MeterFactory(), NullLogger<OriginCache>.Instance);
        _storage = new StorageDefinition
        {
            Config = new StorageConfig { Id = "bench", Api = "memory", Read = ReadMode.Stream },
            Store = new MemoryStore(_body),
            StorageUrl = "http://127.0.0.1/",
            CacheControl = "public, max-age=31536000, immutable",
            Cached = true,
        };
        _sha256 = Convert.ToHexStringLower(SHA256.HashData(_body));
        _hot = new ObjectRecord("hot.png", "bench", BodyBytes, "image/png", _sha256, DateTimeOffset.UtcNow);
        for (var i = 0; i < 500; i++)
        {
            (await _cache.GetAsync(_storage, NextCrawled(), whole: false, CancellationToken.None)).Dispose();
        }

        (await _cache.GetAsync(_storage, _hot, whole: false, CancellationToken.None)).Dispose();
    }

    [GlobalCleanup]
    public void Cleanup() => _cache.Dispose();

    [Benchmark(Baseline = true, Description = "hit")]
    public async Task<int> Hit()
    {
        using var read = await _cache.GetAsync(_storage, _hot, whole: false, CancellationToken.None);
        return read.Body!.Length;
    }

    /// <summary>What it allocates includes the record, as a catalog lookup would have made it.</summary>
    [Benchmark(Description = "miss: verified fill that evicts")]
    public async Task<int> FillUnderAFullBudget()
    {
        using var read = await _cache.GetAsync(_storage, NextCrawled(), whole: false, CancellationToken.None);
        return read.Body!.Length;
    }

    private ObjectRecord NextCrawled() => new($"crawl/{_next++}.png", "bench", BodyBytes, "image/png", _sha256, DateTimeOffset.UtcNow);

    /// <summary>A backend that answers every read with the same bytes, from memory.</summary>
    private sealed class MemoryStore(byte[] body) : IObjectStore
    {
        public Task<ObjectContent?> OpenReadAsync(string key, ByteRange? range, CancellationToken cancellationToken)
            => Task.FromResult<ObjectContent?>(new ObjectContent(new MemoryStream(body, writable: false), body.Length, body.Length));

        public Task<StoredObject> PutAsync(string key, Stream content, ObjectWriteOptions options, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<ObjectStat?> StatAsync(string key, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task ProbeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public IAsyncEnumerable<ListedObject> ListAsync(string prefix, string? startAfter, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}

using System.Diagnostics.Metrics;
using BenchmarkDotNet.Attributes;
using EdgeRouter.Catalog;
using EdgeRouter.Catalog.Sqlite;
using EdgeRouter.Configuration;
using EdgeRouter.Health;
using EdgeRouter.Observability;
using EdgeRouter.Placement;
using EdgeRouter.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EdgeRouter.Benchmarks;

/// <summary>Catalog lookups as the read path makes them: a cache hit, a cached miss (404 storm), and SQLite itself.</summary>
[MemoryDiagnoser]
public class CatalogLookupBenchmarks
{
    private const string Hot = "2026/11/25/x_2cXn4fqNmcTYGo.png";
    private const string Unknown = "2026/11/25/missing.png";
    private readonly string _folder = Directory.CreateTempSubdirectory("edgerouter-bench-").FullName;
    private CachingObjectCatalog _cached = null!;
    private SqliteObjectCatalog _sqlite = null!;

    [GlobalSetup]
    public async Task Setup()
    {
        var options = Options.Create(new EdgeRouterOptions { Catalog = { ConnectionString = $"Data Source={Path.Combine(_folder, "catalog.db")}" } });
        _sqlite = new SqliteObjectCatalog(options, new Env(_folder), TimeProvider.System);
        for (var i = 0; i < 10_000; i++)
        {
            await _sqlite.AddAsync(new ObjectRecord(i == 0 ? Hot : $"2026/11/25/{i:D8}.png", "s3", 1024, "image/png", "ab", DateTimeOffset.UtcNow), false, CancellationToken.None);
        }

        _cached = new CachingObjectCatalog(_sqlite, options, TimeProvider.System, new EdgeRouterMetrics(new MeterFactory()));
        await _cached.FindAsync(Hot, CancellationToken.None);
        await _cached.FindAsync(Unknown, CancellationToken.None);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _cached.Dispose();
        _sqlite.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    [Benchmark(Baseline = true, Description = "cache hit")]
    public ValueTask<ObjectRecord?> CacheHit() => _cached.FindAsync(Hot, CancellationToken.None);

    [Benchmark(Description = "cached unknown key")]
    public ValueTask<ObjectRecord?> CachedMiss() => _cached.FindAsync(Unknown, CancellationToken.None);

    [Benchmark(Description = "SQLite lookup (cache miss)")]
    public ValueTask<ObjectRecord?> Sqlite() => _sqlite.FindAsync("2026/11/25/00004242.png", CancellationToken.None);

    private sealed class Env(string root) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "Benchmark";

        public string ApplicationName { get; set; } = "EdgeRouter";

        public string ContentRootPath { get; set; } = root;

        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}

/// <summary>Meters for the benchmarked classes, with nobody listening.</summary>
internal sealed class MeterFactory : IMeterFactory
{
    public Meter Create(MeterOptions options) => new(options);

    public void Dispose()
    {
    }
}

/// <summary>Choosing a storage for an upload among 10 and 1,000 storages: filter, weighted pick, reservation.</summary>
[MemoryDiagnoser]
public class PlacementBenchmarks
{
    private StoragePlacer _placer = null!;
    private StorageUsageTracker _usage = null!;
    private WeightedPlacementPolicy _policy = null!;
    private List<PlacementCandidate> _candidates = null!;
    private readonly HashSet<string> _none = [];

    [Params(10, 1000)]
    public int Storages { get; set; }

    [GlobalSetup]
    public async Task Setup()
    {
        var definitions = Enumerable.Range(0, Storages).Select(i => new StorageDefinition
        {
            Config = new StorageConfig { Id = $"s{i}", Api = "local", Weight = 1 + (i % 5) },
            Store = null!,
            StorageUrl = $"https://cdn{i}.example.com/",
            CacheControl = "public",
            Capacity = i % 3 == 0 ? 1L << 40 : null,
        }).ToList();
        var registry = new Registry(new StorageSnapshot(definitions, 1));
        var options = Options.Create(new EdgeRouterOptions());
        _usage = new StorageUsageTracker(new EmptyCatalog());
        await _usage.EnsureLoadedAsync(CancellationToken.None);
        _policy = new WeightedPlacementPolicy(new RandomFactory());
        _placer = new StoragePlacer(registry, new StorageHealthTracker(TimeProvider.System, options, NullLogger<StorageHealthTracker>.Instance), _usage, [_policy], options);
        _candidates = definitions.Select(d => new PlacementCandidate(d, default, 0)).ToList();
    }

    [Benchmark(Description = "weighted pick")]
    public StorageDefinition Pick() => _policy.Pick(_candidates);

    [Benchmark(Description = "place + release (filter, pick, reserve)")]
    public async ValueTask<string> PlaceAndRelease()
    {
        var placement = await _placer.PlaceAsync(1024, _none, CancellationToken.None);
        _usage.Release(placement.Storage!.Id, placement.Reserved);
        return placement.Storage.Id;
    }

    private sealed class Registry(StorageSnapshot snapshot) : IStorageRegistry
    {
        public StorageSnapshot Current => snapshot;

        public IReadOnlyList<string> Reload() => [];
    }

    private sealed class EmptyCatalog : IObjectCatalog
    {
        public ValueTask<ObjectRecord?> FindAsync(string key, CancellationToken cancellationToken) => default;

        public Task<CatalogWriteResult> AddAsync(ObjectRecord record, bool overwrite, EdgeRouter.Cdn.PurgeRequest? notify, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<bool> RemoveAsync(ObjectRecord expected, bool immediate, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<bool> TryBeginUploadAsync(UploadIntent intent, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<bool> HasIntentAsync(UploadIntent intent, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task EndUploadAsync(UploadIntent intent, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<UploadIntent>> GetExpiredIntentsAsync(DateTimeOffset expiredBefore, int limit, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask<IAsyncDisposable?> TryLockMaintenanceAsync(CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<PendingDelete>> GetPendingDeletesAsync(int limit, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task CompletePendingDeleteAsync(PendingDelete pending, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyDictionary<string, StorageUsage>> GetUsageAsync(CancellationToken cancellationToken)
            => Task.FromResult<IReadOnlyDictionary<string, StorageUsage>>(new Dictionary<string, StorageUsage>());

        public Task<IReadOnlyList<ObjectRecord>> ListAsync(string prefix, string? after, int limit, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task PingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task<bool> AdoptAsync(ObjectRecord record, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<bool> RecordHashAsync(ObjectRecord expected, string sha256, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<bool>> RelocateManyAsync(IReadOnlyList<Relocation> relocations, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<bool>> TryBeginUploadsAsync(IReadOnlyList<UploadIntent> intents, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<ObjectRecord>> ListStoredAsync(string storageId, string prefix, string? after, int limit, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyDictionary<string, ObjectRecord?>> FindLocationsAsync(string storageId, IReadOnlyCollection<string> locations, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<bool> QueueOrphanAsync(string storageId, string location, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<PendingDelete>> FindFormerLocationsAsync(string key, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}

/// <summary>Key validation and mapped-URL building, done on every read.</summary>
[MemoryDiagnoser]
public class KeyBenchmarks
{
    private const string Dated = "2026/11/25/x_2cXn4fqNmcTYGo.png";
    private const string Unicode = "my bucket/2020/10/06/日本語の画像 (1).png";
    private readonly StorageDefinition _storage = new()
    {
        Config = new StorageConfig { Id = "s3", Api = "s3" },
        Store = null!,
        StorageUrl = "https://img.example.com/my-bucket/",
        CacheControl = "public",
    };

    [Benchmark(Description = "validate dated key")]
    public string? ValidateDated() => ObjectKeys.Validate(Dated);

    [Benchmark(Description = "validate unicode key")]
    public string? ValidateUnicode() => ObjectKeys.Validate(Unicode);

    [Benchmark(Description = "mapped URL, URL-safe key")]
    public string MapDated() => _storage.MapUrl(Dated);

    [Benchmark(Description = "mapped URL, key needing escapes")]
    public string MapUnicode() => _storage.MapUrl(Unicode);
}

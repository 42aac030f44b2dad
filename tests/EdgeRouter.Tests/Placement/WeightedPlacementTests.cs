using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EdgeRouter.Catalog;
using EdgeRouter.Health;
using EdgeRouter.Placement;
using EdgeRouter.Storage;
using EdgeRouter.Tests.TestUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace EdgeRouter.Tests.Placement;

public sealed class WeightedPlacementTests
{
    // 3:1 weights between a and b; every other storage must receive nothing: weight 0, inactive, full, failing.
    private const string Storages = """
    { "storages": [
        { "id": "a",       "api": "local",   "root": "a",    "read": "stream", "weight": 3 },
        { "id": "b",       "api": "local",   "root": "b",    "read": "stream", "weight": 1 },
        { "id": "zero",    "api": "local",   "root": "zero", "read": "stream", "weight": 0 },
        { "id": "off",     "api": "local",   "root": "off",  "read": "stream", "weight": 5, "active": false },
        { "id": "full",    "api": "local",   "root": "full", "read": "stream", "weight": 5, "capacity": 100 },
        { "id": "failing", "api": "failing",                 "read": "stream", "weight": 5 }
    ] }
    """;

    [Fact]
    public async Task ThreeToOne_Over4000Uploads_SplitsWithinFiveSigma_AndSkipsZeroInactiveFullAndFailingStorages()
    {
        using var factory = new RouterFactory(Storages, services =>
        {
            FailingStorageProvider.Register(services);
            services.RemoveAll<IRandomFactory>();
            services.AddSingleton<IRandomFactory>(new SeededRandomFactory(20261125));
        });
        using var client = factory.CreateAuthorizedClient();
        var body = TestFiles.Png(200);

        for (var i = 0; i < 4000; i++)
        {
            var response = await client.PostAsync("/api/v1/objects", TestFiles.Raw(body, "image/png"));
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }

        var usage = await factory.Services.GetRequiredService<IObjectCatalog>().GetUsageAsync(CancellationToken.None);
        var a = usage["a"].Objects;
        var b = usage["b"].Objects;
        Assert.Equal(4000, a + b);

        // Binomial(n = 4000, p = 0.75): σ = √(n·p·(1−p)) ≈ 27.4 objects, so 5σ ≈ 137.
        Assert.InRange(a, 3000 - 137, 3000 + 137);
        Assert.False(usage.ContainsKey("zero"));
        Assert.False(usage.ContainsKey("off"));
        Assert.False(usage.ContainsKey("full"));
        Assert.False(usage.ContainsKey("failing"));
        Assert.Empty(factory.FilesUnder("zero").Concat(factory.FilesUnder("off")).Concat(factory.FilesUnder("full")));

        // The failing storage was tried, failed over, and then left out as unhealthy.
        var health = factory.Services.GetRequiredService<IStorageHealth>().GetStatus("failing");
        Assert.False(health.Healthy);
        Assert.Equal("connection reset by backend", health.LastError);
    }

    [Fact]
    public async Task AFailedWrite_LandsOnAnotherStorage_AndTheClientGets201WithTheWholeBody()
    {
        const string json = """
        { "storages": [
            { "id": "failing", "api": "failing", "read": "stream", "weight": 1000000 },
            { "id": "good",    "api": "local",   "root": "good", "read": "stream", "weight": 1 }
        ] }
        """;
        using var factory = new RouterFactory(json, FailingStorageProvider.Register);
        using var client = factory.CreateAuthorizedClient();

        // Larger than the in-memory spool, so the replay comes from the spool file.
        var png = TestFiles.Png(1_000_000);
        var response = await client.PostAsync("/api/v1/objects", TestFiles.Raw(png, "image/png"));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("good", created.GetProperty("storage").GetString());
        Assert.Equal(TestFiles.Sha256(png), created.GetProperty("sha256").GetString());
        Assert.Equal(png, await File.ReadAllBytesAsync(Path.Combine(factory.Root, "good", created.GetProperty("key").GetString()!)));
        Assert.Empty(factory.FilesUnder("spool"));
        var failing = factory.Services.GetRequiredService<IStorageRegistry>().Current.ById["failing"].Store.As<FailingStorageProvider.FailingStore>()!;
        Assert.Equal(1, failing.PutAttempts);
    }

    [Fact]
    public async Task WhenEveryStorageFails_TheClientGets503_AndNothingIsRecorded()
    {
        using var factory = new RouterFactory("""{ "storages": [ { "id": "f1", "api": "failing", "read": "stream" }, { "id": "f2", "api": "failing", "read": "stream" } ] }""", FailingStorageProvider.Register);
        using var client = factory.CreateAuthorizedClient();

        var response = await client.PostAsync("/api/v1/objects", TestFiles.Raw(TestFiles.Png(), "image/png"));

        await Uploads.UploadApiTests.AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable, "No storage can take uploads now; try again later.");
        Assert.Empty(await factory.Services.GetRequiredService<IObjectCatalog>().ListAsync(string.Empty, null, 10, CancellationToken.None));
    }

    [Fact]
    public async Task WhenNoStorageHasRoom_TheClientGets507()
    {
        using var factory = new RouterFactory("""{ "storages": [ { "id": "small", "api": "local", "root": "s", "read": "stream", "capacity": "1 KB" } ] }""");
        using var client = factory.CreateAuthorizedClient();

        var fits = await client.PostAsync("/api/v1/objects", TestFiles.Raw(TestFiles.Png(600), "image/png"));
        var overflows = await client.PostAsync("/api/v1/objects", TestFiles.Raw(TestFiles.Png(600), "image/png"));

        Assert.Equal(HttpStatusCode.Created, fits.StatusCode);
        await Uploads.UploadApiTests.AssertProblemAsync(overflows, (HttpStatusCode)507, "No storage has room for this upload.");
        Assert.Single(factory.FilesUnder("s"));
    }

    [Fact]
    public void WeightedPolicy_PicksInProportion_OverManyDraws()
    {
        var policy = new WeightedPlacementPolicy(new SeededRandomFactory(7));
        var candidates = new[] { Candidate("a", 1), Candidate("b", 2), Candidate("c", 7) };
        var counts = new Dictionary<string, int> { ["a"] = 0, ["b"] = 0, ["c"] = 0 };

        for (var i = 0; i < 100_000; i++)
        {
            counts[policy.Pick(candidates).Id]++;
        }

        // σ for p = 0.1 over 100,000 draws is ≈ 95; 5σ ≈ 474.
        Assert.InRange(counts["a"], 10_000 - 474, 10_000 + 474);
        Assert.InRange(counts["b"], 20_000 - 632, 20_000 + 632);
        Assert.InRange(counts["c"], 70_000 - 724, 70_000 + 724);
    }

    [Fact]
    public void FillFirst_And_LeastUsed_ChooseAsTheirNamesSay()
    {
        var candidates = new[]
        {
            Candidate("first", 1, capacity: 1000, usedBytes: 900),
            Candidate("roomy", 1, capacity: 1000, usedBytes: 100),
            Candidate("unlimited", 1, capacity: null, usedBytes: 0),
        };

        Assert.Equal("first", new FillFirstPlacementPolicy().Pick(candidates).Id);
        Assert.Equal("roomy", new LeastUsedPlacementPolicy().Pick(candidates).Id);
    }

    private static PlacementCandidate Candidate(string id, double weight, long? capacity = null, long usedBytes = 0)
    {
        var config = new EdgeRouter.Configuration.StorageConfig { Id = id, Api = "local", Weight = weight };
        var storage = new EdgeRouter.Storage.StorageDefinition
        {
            Config = config,
            Store = new FailingStorageProvider.FailingStore(),
            StorageUrl = "http://x/",
            CacheControl = "x",
            Capacity = capacity,
        };
        return new PlacementCandidate(storage, new StorageUsage(usedBytes, 1), 0);
    }
}

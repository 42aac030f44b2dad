using EdgeRouter.Configuration;
using EdgeRouter.Storage;
using EdgeRouter.Tests.TestUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace EdgeRouter.Tests.Configuration;

public sealed class StorageConfigReloadTests
{
    private const string OneStorage = """{ "storages": [ { "id": "one", "api": "local", "root": "s1", "read": "stream" } ] }""";
    private const string TwoStorages = """{ "storages": [ { "id": "one", "api": "local", "root": "s1", "read": "stream" }, { "id": "two", "api": "local", "root": "s2", "read": "stream", "weight": 5 } ] }""";

    [Fact]
    public async Task AValidNewFile_TakesEffectWithoutRestart_AndKeepsUnchangedStores()
    {
        using var factory = new RouterFactory(OneStorage);
        using var client = factory.CreateAuthorizedClient();
        var registry = factory.Services.GetRequiredService<IStorageRegistry>();
        var firstStore = registry.Current.ById["one"].Store;

        await File.WriteAllTextAsync(factory.StoragesPath, TwoStorages);
        await WaitUntilAsync(() => registry.Current.Storages.Count == 2);

        Assert.Equal(5, registry.Current.ById["two"].Weight);
        Assert.Same(firstStore, registry.Current.ById["one"].Store);
    }

    [Fact]
    public async Task AnInvalidNewFile_IsRejected_AndThePreviousStoragesStayInForce()
    {
        using var factory = new RouterFactory(OneStorage, services => services.AddFakeLogging());
        using var client = factory.CreateAuthorizedClient();
        var registry = factory.Services.GetRequiredService<IStorageRegistry>();
        var logs = factory.Services.GetFakeLogCollector();
        var before = registry.Current;

        // Through the file watcher, as an operator's edit arrives.
        await File.WriteAllTextAsync(factory.StoragesPath, """{ "storages": [ { "id": "one", "api": "local", "read": "stream" } ] }""");
        await WaitUntilAsync(() => logs.GetSnapshot().Any(r => r.Id.Id == 3));

        var rejected = Assert.Single(logs.GetSnapshot(), r => r.Id.Id == 3);
        Assert.Equal(LogLevel.Error, rejected.Level);
        Assert.Equal($"Rejected the change to {factory.StoragesPath}; the previous storages stay in force: storages[0] ('one'): field 'root': is required: the folder that holds this storage's objects.", rejected.Message);
        Assert.Same(before, registry.Current);
        var upload = await client.PostAsync("/api/v1/objects", TestFiles.Raw(TestFiles.Png(), "image/png"));
        Assert.Equal(System.Net.HttpStatusCode.Created, upload.StatusCode);
    }

    [Fact]
    public async Task AnInvalidFileAtStart_StopsTheRouter_ListingEveryProblem_WithoutAStackTrace()
    {
        var run = await RouterProcess.RunToExitAsync(
            """{ "storages": [ { "id": "x", "api": "s4" }, { "id": "x", "api": "local", "root": "r", "read": "stream", "weight": -2 } ] }""",
            new Dictionary<string, string?> { ["EDGEROUTER_API_KEY"] = "k" });

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("EdgeRouter cannot start:", run.StandardError, StringComparison.Ordinal);
        Assert.Matches(@"storages\[0\] \('x'\): field 'api': 's4' is not available \(known: [a-z0-9, ]*\blocal\b[a-z0-9, ]*\)\.", run.StandardError);
        Assert.Contains("storages[1] ('x'): field 'id': is used by another storage.", run.StandardError, StringComparison.Ordinal);
        Assert.Contains("storages[1] ('x'): field 'weight': must be a number ≥ 0.", run.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoUploadKey_StopsTheRouter_WithAMessageSayingHowToFixIt()
    {
        var run = await RouterProcess.RunToExitAsync(OneStorage, new Dictionary<string, string?>());

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("EdgeRouter:Uploads:ApiKeys: no upload API key is configured. Set EDGEROUTER_API_KEY", run.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnonymousUploads_WhenExplicitlyAllowed_NeedNoKey()
    {
        using var factory = new RouterFactory(OneStorage, settings: new Dictionary<string, string?>
        {
            ["EDGEROUTER_API_KEY"] = string.Empty,
            ["EdgeRouter:Uploads:AllowAnonymous"] = "true",
        });
        using var client = factory.CreateAnonymousClient();

        var upload = await client.PostAsync("/api/v1/objects", TestFiles.Raw(TestFiles.Png(), "image/png"));

        Assert.Equal(System.Net.HttpStatusCode.Created, upload.StatusCode);
    }

    internal static async Task WaitUntilAsync(Func<bool> condition, int timeoutMs = 10_000)
    {
        var deadline = Environment.TickCount64 + timeoutMs;
        while (!condition())
        {
            Assert.True(Environment.TickCount64 < deadline, "The condition did not become true in time.");
            await Task.Delay(50);
        }
    }
}

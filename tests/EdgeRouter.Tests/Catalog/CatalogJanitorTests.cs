using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using EdgeRouter.Catalog;
using EdgeRouter.Observability;
using EdgeRouter.Storage;
using EdgeRouter.Tests.TestUtilities;
using EdgeRouter.Uploads;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;

namespace EdgeRouter.Tests.Catalog;

/// <summary>The janitor on the real router: replaced and deleted locations after their grace, and what crashed uploads left.</summary>
public sealed class CatalogJanitorTests
{
    private const string TwoStorages = """
        { "storages": [
            { "id": "old", "api": "local", "root": "old", "read": "stream", "weight": 1 },
            { "id": "new", "api": "local", "root": "new", "read": "stream", "weight": 0 }
        ] }
        """;

    private static readonly DateTimeOffset Start = new(2026, 11, 25, 10, 0, 0, TimeSpan.Zero);

    private static (RouterFactory Factory, FakeTimeProvider Clock) CreateRouter(string storages = """{ "storages": [ { "id": "local", "api": "local", "root": "files", "read": "stream" } ] }""")
    {
        var clock = new FakeTimeProvider(Start);
        var factory = new RouterFactory(storages, services => services.AddSingleton<TimeProvider>(clock));
        factory.CreateClient().Dispose();
        return (factory, clock);
    }

    private static Task RunJanitorAsync(RouterFactory factory) => factory.Services.GetRequiredService<CatalogJanitor>().RunOnceAsync(CancellationToken.None);

    [Fact]
    public async Task AnOverwrite_WritesANewLocation_AndTheOldVersionStaysReadableUntilTheGraceIsOver()
    {
        var (factory, clock) = CreateRouter();
        using var _ = factory;
        using var client = factory.CreateAuthorizedClient();
        var first = TestFiles.Png();
        var second = TestFiles.Png();
        var created = await (await client.PutAsync("/api/v1/objects/a/photo.png", TestFiles.Raw(first, "image/png"))).Content.ReadFromJsonAsync<ObjectResponse>();

        var replaced = await client.PutAsync("/api/v1/objects/a/photo.png?overwrite=true", TestFiles.Raw(second, "image/png"));
        var response = await replaced.Content.ReadFromJsonAsync<ObjectResponse>();

        Assert.Equal(HttpStatusCode.Created, replaced.StatusCode);
        Assert.Equal("a/photo.png", created!.Location);
        Assert.StartsWith("a/photo~", response!.Location, StringComparison.Ordinal);
        Assert.EndsWith(".png", response.Location, StringComparison.Ordinal);
        Assert.Equal(RouterFactory.SiteUrl + response.Location, response.StorageUrl);
        Assert.Equal(second, await client.GetByteArrayAsync("/a/photo.png"));

        // The old bytes were not touched: a reader that had the old location (a cached redirect) still gets them, whole.
        Assert.Equal(first, await File.ReadAllBytesAsync(Path.Combine(factory.Root, "files", "a", "photo.png")));
        await RunJanitorAsync(factory);
        Assert.Equal(["a/photo.png", Path.Combine("a", Path.GetFileName(response.Location))], factory.FilesUnder("files").Order(StringComparer.Ordinal));

        clock.Advance(TimeSpan.FromHours(1));
        await RunJanitorAsync(factory);

        Assert.Equal([Path.Combine("a", Path.GetFileName(response.Location))], factory.FilesUnder("files"));
        Assert.Equal(second, await client.GetByteArrayAsync("/a/photo.png"));
    }

    [Fact]
    public async Task ADelete_KeepsTheBytesForTheGrace_UnlessImmediate_AndAKeyDeletedInItsGraceIsWrittenElsewhere()
    {
        var (factory, clock) = CreateRouter();
        using var _ = factory;
        using var client = factory.CreateAuthorizedClient();
        await client.PutAsync("/api/v1/objects/kept.png", TestFiles.Raw(TestFiles.Png(), "image/png"));
        await client.PutAsync("/api/v1/objects/takedown.png", TestFiles.Raw(TestFiles.Png(), "image/png"));

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync("/api/v1/objects/kept.png")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync("/api/v1/objects/takedown.png?immediate=true")).StatusCode);

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/kept.png")).StatusCode);
        Assert.Equal(["kept.png"], factory.FilesUnder("files"));

        // Uploaded again within the grace: the queued deletion must not take the new object with it.
        var newer = TestFiles.Png();
        var again = await (await client.PutAsync("/api/v1/objects/kept.png", TestFiles.Raw(newer, "image/png"))).Content.ReadFromJsonAsync<ObjectResponse>();
        Assert.NotEqual("kept.png", again!.Location);

        clock.Advance(TimeSpan.FromHours(1));
        await RunJanitorAsync(factory);

        Assert.Equal([again.Location], factory.FilesUnder("files"));
        Assert.Equal(newer, await client.GetByteArrayAsync("/kept.png"));
        Assert.Empty(await factory.Services.GetRequiredService<IObjectCatalog>().GetPendingDeletesAsync(10, CancellationToken.None));
    }

    [Fact]
    public async Task ADeleteTheBackendRefuses_StaysQueued_AndIsFinishedWhenTheBackendReturns()
    {
        var (factory, store) = FlakyStorageProvider.CreateRouter();
        using var _ = factory;
        using var client = factory.CreateAuthorizedClient();
        var catalog = factory.Services.GetRequiredService<IObjectCatalog>();
        await client.PutAsync("/api/v1/objects/doomed.png", TestFiles.Raw(TestFiles.Png(), "image/png"));

        store.Down = true;
        var deleted = await client.DeleteAsync("/api/v1/objects/doomed.png?immediate=true");

        // The key is gone for readers at once; the object is not forgotten.
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/doomed.png")).StatusCode);
        Assert.Equal(["doomed.png"], factory.FilesUnder("f"));
        Assert.Equal([new PendingDelete("f", "doomed.png")], await catalog.GetPendingDeletesAsync(10, CancellationToken.None));

        // The janitor's round cannot remove it while the backend refuses: the gauge says so, then says none are left.
        using var left = new MetricCollector<long>(factory.Services.GetRequiredService<IMeterFactory>(), EdgeRouterMetrics.MeterName, "edgerouter.janitor.deletions.left");
        await RunJanitorAsync(factory);
        left.RecordObservableInstruments();
        Assert.Equal(1, left.LastMeasurement?.Value);

        store.Down = false;
        await RunJanitorAsync(factory);
        left.RecordObservableInstruments();

        Assert.Empty(factory.FilesUnder("f"));
        Assert.Empty(await catalog.GetPendingDeletesAsync(10, CancellationToken.None));
        Assert.Equal(0, left.LastMeasurement?.Value);
    }

    [Fact]
    public async Task OverwritingOntoAnotherStorage_RemovesTheOldObjectAfterTheGrace()
    {
        var (factory, clock) = CreateRouter(TwoStorages);
        using var _ = factory;
        using var client = factory.CreateAuthorizedClient();
        await client.PutAsync("/api/v1/objects/moving.png", TestFiles.Raw(TestFiles.Png(), "image/png"));

        // Send new uploads to "new" only.
        await File.WriteAllTextAsync(factory.StoragesPath, TwoStorages.Replace("\"weight\": 1", "\"weight\": 2", StringComparison.Ordinal).Replace("\"weight\": 0", "\"weight\": 1", StringComparison.Ordinal).Replace("\"weight\": 2", "\"weight\": 0", StringComparison.Ordinal));
        Assert.Empty(factory.Services.GetRequiredService<IStorageRegistry>().Reload());
        var replaced = await client.PutAsync("/api/v1/objects/moving.png?overwrite=true", TestFiles.Raw(TestFiles.Png(), "image/png"));

        Assert.Equal(HttpStatusCode.Created, replaced.StatusCode);
        var usage = await factory.Services.GetRequiredService<IObjectCatalog>().GetUsageAsync(CancellationToken.None);
        Assert.Equal(0, usage["old"].Objects);
        Assert.Equal(1, usage["new"].Objects);
        Assert.Equal(["moving.png"], factory.FilesUnder("old"));

        clock.Advance(TimeSpan.FromHours(1));
        await RunJanitorAsync(factory);

        Assert.Empty(factory.FilesUnder("old"));
        Assert.Equal(["moving.png"], factory.FilesUnder("new"));
    }

    [Fact]
    public async Task WhatAnUploadThatNeverCommittedLeft_IsRemovedOnceItsIntentExpires_AndNotBefore()
    {
        var (factory, clock) = CreateRouter();
        using var _ = factory;
        var catalog = factory.Services.GetRequiredService<IObjectCatalog>();

        // As a process killed between its write and its commit leaves it: an intent, the object, and a staging file.
        var intent = new UploadIntent("local", "crashed/a.png", "crashed/a.png", Start + TimeSpan.FromMinutes(11));
        Assert.True(await catalog.TryBeginUploadAsync(intent, CancellationToken.None));
        Directory.CreateDirectory(Path.Combine(factory.Root, "files", "crashed"));
        await File.WriteAllBytesAsync(Path.Combine(factory.Root, "files", "crashed", "a.png"), TestFiles.Png());
        await File.WriteAllBytesAsync(Path.Combine(factory.Root, "files", "crashed", ObjectKeys.TemporaryFileName("crashed/a.png")), [1, 2, 3]);

        clock.Advance(TimeSpan.FromMinutes(11.5));
        await RunJanitorAsync(factory);
        Assert.Equal(2, factory.FilesUnder("files").Count);

        // A minute past expiry: room for clocks that differ between instances.
        clock.Advance(TimeSpan.FromMinutes(1));
        await RunJanitorAsync(factory);

        Assert.Empty(factory.FilesUnder("files"));
        Assert.False(await catalog.HasIntentAsync(intent, CancellationToken.None));
        Assert.Null(await catalog.FindAsync("crashed/a.png", CancellationToken.None));
    }

    [Fact]
    public async Task SpoolFilesAnEarlierProcessLeft_AreRemovedAtStart()
    {
        var storages = """{ "storages": [ { "id": "local", "api": "local", "root": "files", "read": "stream" } ] }""";
        using var factory = new RouterFactory(storages);
        var spool = Path.Combine(factory.Root, "spool");
        Directory.CreateDirectory(spool);
        await File.WriteAllBytesAsync(Path.Combine(spool, "upload-0123456789abcdef.spool"), new byte[4096]);
        await File.WriteAllBytesAsync(Path.Combine(spool, "not-ours.txt"), [1]);

        factory.CreateClient().Dispose();

        Assert.Equal(["not-ours.txt"], Directory.GetFiles(spool).Select(Path.GetFileName));
    }
}

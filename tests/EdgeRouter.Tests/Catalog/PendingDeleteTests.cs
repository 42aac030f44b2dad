using System.Net;
using EdgeRouter.Catalog;
using EdgeRouter.Storage;
using EdgeRouter.Tests.TestUtilities;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeRouter.Tests.Catalog;

public sealed class PendingDeleteTests
{
    [Fact]
    public async Task ADeleteTheBackendRefuses_StaysQueued_AndIsFinishedWhenTheBackendReturns()
    {
        var (factory, store) = FlakyStorageProvider.CreateRouter();
        using var _ = factory;
        using var client = factory.CreateAuthorizedClient();
        var catalog = factory.Services.GetRequiredService<IObjectCatalog>();
        await client.PutAsync("/api/v1/objects/doomed.png", TestFiles.Raw(TestFiles.Png(), "image/png"));

        store.Down = true;
        var deleted = await client.DeleteAsync("/api/v1/objects/doomed.png");

        // The key is gone for readers at once; the object is not forgotten.
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/doomed.png")).StatusCode);
        Assert.Equal(["doomed.png"], factory.FilesUnder("f"));
        Assert.Equal([new PendingDelete("f", "doomed.png")], await catalog.GetPendingDeletesAsync(10, CancellationToken.None));

        store.Down = false;
        await factory.Services.GetRequiredService<PendingDeleteProcessor>().SweepAsync(CancellationToken.None);

        Assert.Empty(factory.FilesUnder("f"));
        Assert.Empty(await catalog.GetPendingDeletesAsync(10, CancellationToken.None));
    }

    [Fact]
    public async Task OverwritingOntoAnotherStorage_DeletesTheOldObject()
    {
        const string json = """
        { "storages": [
            { "id": "old", "api": "local", "root": "old", "read": "stream", "weight": 1 },
            { "id": "new", "api": "local", "root": "new", "read": "stream", "weight": 0 }
        ] }
        """;
        using var factory = new RouterFactory(json);
        using var client = factory.CreateAuthorizedClient();
        await client.PutAsync("/api/v1/objects/moving.png", TestFiles.Raw(TestFiles.Png(), "image/png"));

        // Send new uploads to "new" only.
        await File.WriteAllTextAsync(factory.StoragesPath, json.Replace("\"weight\": 1", "\"weight\": 0", StringComparison.Ordinal).Replace("\"new\", \"read\": \"stream\", \"weight\": 0", "\"new\", \"read\": \"stream\", \"weight\": 1", StringComparison.Ordinal));
        Assert.Empty(factory.Services.GetRequiredService<IStorageRegistry>().Reload());
        var replaced = await client.PutAsync("/api/v1/objects/moving.png?overwrite=true", TestFiles.Raw(TestFiles.Png(), "image/png"));

        Assert.Equal(HttpStatusCode.Created, replaced.StatusCode);
        Assert.Empty(factory.FilesUnder("old"));
        Assert.Equal(["moving.png"], factory.FilesUnder("new"));
        var usage = await factory.Services.GetRequiredService<IObjectCatalog>().GetUsageAsync(CancellationToken.None);
        Assert.Equal(0, usage["old"].Objects);
        Assert.Equal(1, usage["new"].Objects);
    }
}

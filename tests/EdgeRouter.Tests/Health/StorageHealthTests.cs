using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EdgeRouter.Health;
using EdgeRouter.Storage;
using EdgeRouter.Tests.TestUtilities;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeRouter.Tests.Health;

public sealed class StorageHealthTests
{
    [Fact]
    public async Task AFailingProbe_TakesTheStorageOutOfPlacement_AndReadiness_UntilItRecovers()
    {
        var (factory, store) = FlakyStorageProvider.CreateRouter(withHealthyLocal: true);
        using var _ = factory;
        using var client = factory.CreateAuthorizedClient();
        var monitor = factory.Services.GetRequiredService<StorageHealthMonitor>();
        var health = factory.Services.GetRequiredService<IStorageHealth>();

        // Let the probe the monitor runs at start finish first, so it cannot overwrite this test's probes.
        await Configuration.StorageConfigReloadTests.WaitUntilAsync(() => health.GetStatus("f").LastChecked is not null);
        store.Down = true;

        // One failed probe is not an outage (a busy backend may answer one probe late); two in a row are.
        await monitor.ProbeAllAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.True(health.GetStatus("f").Healthy);
        await monitor.ProbeAllAsync(TimeSpan.FromSeconds(5), CancellationToken.None);

        var status = health.GetStatus("f");
        Assert.False(status.Healthy);
        Assert.Equal("backend unreachable", status.LastError);
        Assert.Equal(2, status.ConsecutiveFailures);
        var readiness = await client.GetFromJsonAsync<JsonElement>("/readyz");
        Assert.StartsWith("unhealthy: backend unreachable", readiness.GetProperty("checks").GetProperty("storages").GetProperty("data").GetProperty("f").GetString(), StringComparison.Ordinal);
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal("local", (await (await client.PostAsync("/api/v1/objects", TestFiles.Raw(TestFiles.Png(), "image/png"))).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("storage").GetString());
        }

        store.Down = false;
        await monitor.ProbeAllAsync(TimeSpan.FromSeconds(5), CancellationToken.None);

        Assert.True(health.GetStatus("f").Healthy);
        var storages = new HashSet<string>();
        for (var i = 0; i < 40; i++)
        {
            storages.Add((await (await client.PostAsync("/api/v1/objects", TestFiles.Raw(TestFiles.Png(), "image/png"))).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("storage").GetString()!);
        }

        Assert.Contains("f", storages);
    }

    [Fact]
    public async Task WhenTheOnlyStorageIsMarkedUnhealthy_UploadsStillTryIt_RatherThanRefuseUntried()
    {
        var (factory, store) = FlakyStorageProvider.CreateRouter();
        using var _ = factory;
        using var client = factory.CreateAuthorizedClient();
        var health = factory.Services.GetRequiredService<IStorageHealth>();
        await Configuration.StorageConfigReloadTests.WaitUntilAsync(() => health.GetStatus("f").LastChecked is not null);

        // Its probes fail (a slow or flaky health endpoint), but it still takes writes.
        store.Down = true;
        health.ReportFailure("f", "probe timed out");

        var response = await client.PostAsync("/api/v1/objects", TestFiles.Raw(TestFiles.Png(), "image/png"));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }
}

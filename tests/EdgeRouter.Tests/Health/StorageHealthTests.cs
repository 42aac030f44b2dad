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
        var (factory, store) = FlakyStorageProvider.CreateRouter();
        using var _ = factory;
        using var client = factory.CreateAuthorizedClient();
        var monitor = factory.Services.GetRequiredService<StorageHealthMonitor>();
        var health = factory.Services.GetRequiredService<IStorageHealth>();

        // Let the probe the monitor runs at start finish first, so it cannot overwrite this test's probes.
        await Configuration.StorageConfigReloadTests.WaitUntilAsync(() => health.GetStatus("f").LastChecked is not null);
        store.Down = true;
        await monitor.ProbeAllAsync(TimeSpan.FromSeconds(5), CancellationToken.None);

        var status = health.GetStatus("f");
        Assert.False(status.Healthy);
        Assert.Equal("backend unreachable", status.LastError);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/readyz")).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.PostAsync("/api/v1/objects", TestFiles.Raw(TestFiles.Png(), "image/png"))).StatusCode);

        store.Down = false;
        await monitor.ProbeAllAsync(TimeSpan.FromSeconds(5), CancellationToken.None);

        var ready = await client.GetFromJsonAsync<JsonElement>("/readyz");
        Assert.Equal("Healthy", ready.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsync("/api/v1/objects", TestFiles.Raw(TestFiles.Png(), "image/png"))).StatusCode);
    }
}

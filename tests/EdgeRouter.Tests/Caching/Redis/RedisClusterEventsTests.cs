using EdgeRouter.Caching.Redis;
using EdgeRouter.Configuration;
using EdgeRouter.Tests.Catalog.Postgres;
using EdgeRouter.Tests.Configuration;
using EdgeRouter.Tests.TestUtilities;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace EdgeRouter.Tests.Caching.Redis;

/// <summary>When the change channel counts as up, on a real Redis.</summary>
[Collection(SharedCatalogGroup.Name)]
public sealed class RedisClusterEventsTests(RedisFixture redis)
{
    [Fact]
    public async Task TheChannelCountsAsUp_OnlyOnceAMessageHasComeBackOnIt_NotWhenTheConnectionIsUp()
    {
        await using var admin = await ConnectionMultiplexer.ConnectAsync(redis.Configuration + ",allowAdmin=true");

        // While Redis holds every PUBLISH, connecting and subscribing still work: the connection is up, but no change
        // announced by another instance could arrive. That is the gap a reconnect leaves until the subscription is back.
        await admin.GetServer(admin.GetEndPoints()[0]).ExecuteAsync("CLIENT", "PAUSE", "3000", "WRITE");
        var options = Options.Create(new EdgeRouterOptions { Catalog = { Redis = redis.Configuration, RedisChannel = "edgerouter-tests:echo" } });
        await using var events = new RedisClusterEvents(options, NullLogger<RedisClusterEvents>.Instance, new EdgeRouter.Observability.EdgeRouterMetrics(new TestMeterFactory()), TimeProvider.System);
        var changes = new List<bool>();
        events.ConnectionChanged += changes.Add;

        Assert.True(events.Multiplexer.IsConnected);
        Assert.False(events.IsConnected);
        Assert.Empty(changes);

        await StorageConfigReloadTests.WaitUntilAsync(() => events.IsConnected);
        Assert.Equal([true], changes);
    }

    [Fact]
    public async Task AnInstanceStartedWhileRedisIsDown_Starts_AndHearsTheChannelOnceRedisIsUp()
    {
        var late = new RedisFixture();
        var options = Options.Create(new EdgeRouterOptions { Catalog = { Redis = late.Configuration, RedisChannel = "edgerouter-tests:late" } });
        // The blocking Subscribe this replaced threw here, after the client's 5 s timeout.
        await using var events = new RedisClusterEvents(options, NullLogger<RedisClusterEvents>.Instance, new EdgeRouter.Observability.EdgeRouterMetrics(new TestMeterFactory()), TimeProvider.System);
        Assert.False(events.IsConnected);
        var changed = new System.Collections.Concurrent.ConcurrentQueue<string>();
        events.KeyChanged += changed.Enqueue;

        await late.StartAsync();
        try
        {
            await StorageConfigReloadTests.WaitUntilAsync(() => events.IsConnected, timeoutMs: 20_000);
            await using var other = await ConnectionMultiplexer.ConnectAsync(late.Configuration);
            await other.GetSubscriber().PublishAsync(RedisChannel.Literal("edgerouter-tests:late"), "another-instance\nkey\nlate.png");
            await StorageConfigReloadTests.WaitUntilAsync(() => changed.Contains("late.png"));
        }
        finally
        {
            await late.DisposeAsync();
        }
    }
}

using EdgeRouter.Caching;
using EdgeRouter.Tests.Configuration;
using Microsoft.Extensions.Time.Testing;

namespace EdgeRouter.Tests.Caching;

public sealed class AnnouncementRetryTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _sent = new();
    private bool _channelUp;

    private Task<bool> Send(string message)
    {
        if (_channelUp)
        {
            _sent.Enqueue(message);
        }

        return Task.FromResult(_channelUp);
    }

    [Fact]
    public async Task AnAnnouncementTheChannelRefused_IsResentOnce_WhenTheChannelTakesIt()
    {
        var retry = new AnnouncementRetry(Send, "all", _time, CancellationToken.None);

        retry.Add("key a");
        retry.Add("key b");
        retry.Add("key a");
        await AdvanceAsync(TimeSpan.FromSeconds(2));
        Assert.Empty(_sent);
        Assert.Equal(2, retry.Pending);

        _channelUp = true;
        await AdvanceAsync(TimeSpan.FromMilliseconds(600));
        await StorageConfigReloadTests.WaitUntilAsync(() => retry.Pending == 0);

        Assert.Equal(["key a", "key b"], _sent.Order(StringComparer.Ordinal));
        Assert.Equal(0, retry.Pending);
        await AdvanceAsync(TimeSpan.FromSeconds(2));
        Assert.Equal(2, _sent.Count);
    }

    [Fact]
    public async Task PastTheLimit_OneForgetEverythingCoversThemAll()
    {
        var retry = new AnnouncementRetry(Send, "all", _time, CancellationToken.None);
        for (var i = 0; i <= AnnouncementRetry.Limit; i++)
        {
            retry.Add("key " + i);
        }

        retry.Add("key after");
        _channelUp = true;
        await AdvanceAsync(TimeSpan.FromMilliseconds(600));
        await StorageConfigReloadTests.WaitUntilAsync(() => retry.Pending == 0);

        Assert.Equal(["all"], _sent);
    }

    // The resending loop runs on timer callbacks: the clock moves in steps, each with a moment for the loop to run.
    private async Task AdvanceAsync(TimeSpan by)
    {
        for (var step = TimeSpan.Zero; step < by; step += TimeSpan.FromMilliseconds(100))
        {
            _time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.Delay(5);
        }
    }
}

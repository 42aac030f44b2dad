using EdgeRouter.Caching;
using EdgeRouter.Catalog;
using EdgeRouter.Configuration;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace EdgeRouter.Tests.Catalog;

public sealed class KeysBeingWrittenTests
{
    private readonly FakeTimeProvider _clock = new();
    private readonly Channel _channel = new();
    private readonly KeysBeingWritten _keys;

    public KeysBeingWrittenTests()
        => _keys = new KeysBeingWritten(Options.Create(new EdgeRouterOptions { Uploads = { MaxUploadDuration = TimeSpan.FromMinutes(1) } }), _clock, _channel);

    [Fact]
    public void AnUploadHere_CountsUntilItEnds_AndIsAnnounced()
    {
        using (_keys.Begin("a.png"))
        using (_keys.Begin("a.png"))
        {
            Assert.True(_keys.Contains("a.png"));
            Assert.Equal(["a.png", "a.png"], _channel.Writing);
        }

        Assert.False(_keys.Contains("a.png"));
        Assert.Equal(0, _keys.Count);
    }

    [Fact]
    public void AnUploadElsewhere_CountsUntilItsChangeNotice_OrItsLifetime()
    {
        _channel.RaiseWriting("committed.png");
        _channel.RaiseWriting("abandoned.png");
        Assert.True(_keys.Contains("committed.png"));

        _channel.RaiseChanged("committed.png");
        _clock.Advance(TimeSpan.FromMinutes(2.5));

        Assert.False(_keys.Contains("committed.png"));
        Assert.False(_keys.Contains("abandoned.png"));
        Assert.Equal(0, _keys.Count);
    }

    [Fact]
    public void ChangeNotices_ForKeysNobodyWrites_KeepNothing()
    {
        for (var i = 0; i < 1_000; i++)
        {
            _channel.RaiseChanged($"changed/{i}.png");
        }

        Assert.Equal(0, _keys.Count);
    }

    private sealed class Channel : IClusterEvents
    {
        public List<string> Writing { get; } = [];

        public bool IsConnected => true;

        public event Action<string>? KeyChanged;

        public event Action<string>? KeyWriting;

        public event Action<string, string>? StorageFailed
        {
            add { }
            remove { }
        }

        public event Action? AllChanged
        {
            add { }
            remove { }
        }

        public event Action<bool>? ConnectionChanged
        {
            add { }
            remove { }
        }

        public void RaiseChanged(string key) => KeyChanged?.Invoke(key);

        public void RaiseWriting(string key) => KeyWriting?.Invoke(key);

        public ValueTask PublishKeyChangedAsync(string key) => ValueTask.CompletedTask;

        public ValueTask PublishKeyWritingAsync(string key)
        {
            Writing.Add(key);
            return ValueTask.CompletedTask;
        }

        public ValueTask PublishStorageFailedAsync(string storageId, string reason) => ValueTask.CompletedTask;
    }
}

using EdgeRouter.Configuration;
using EdgeRouter.Observability;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace EdgeRouter.Caching.Redis;

/// <summary>
/// <see cref="IClusterEvents"/> over one Redis pub/sub channel. The connection retries by itself (no abort on a
/// failed connect), so an instance that starts or runs while Redis is down recovers when it returns. A message
/// is "instance id, kind, payload", one per line; an instance ignores its own, except its echo.
/// </summary>
/// <remarks>
/// The channel counts as up only once this instance has heard its own echo on it. After a reconnect the client
/// reports the connection up before its subscription is back at the server; a change announced in that gap would be
/// missed while this instance kept entries for the full cache lifetime. While up, the echo is sent every second
/// (a heartbeat): a Redis that hangs (paused, overloaded) keeps its connections open, so only the echo's silence for
/// <see cref="HeartbeatTimeout"/> tells this instance that changes may no longer reach it. It then counts as down,
/// as after a dropped connection, until the echo comes back; and then it drops its cache.
/// </remarks>
internal sealed partial class RedisClusterEvents : IClusterEvents, IAsyncDisposable
{
    private const string KeyKind = "key";
    private const string WritingKind = "writing";
    private const string StorageKind = "storage-failed";
    private const string EchoKind = "echo";
    private const string ForgetEverythingKind = "all";
    private static readonly TimeSpan EchoInterval = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan HeartbeatTimeout = TimeSpan.FromSeconds(3);

    private readonly RedisChannel _channel;
    private readonly string _instance = Guid.NewGuid().ToString("N");
    private readonly ConnectionMultiplexer _redis;
    private readonly ILogger<RedisClusterEvents> _logger;
    private readonly CancellationTokenSource _disposed = new();
    private readonly EdgeRouterMetrics _metrics;
    private readonly AnnouncementRetry _retry;
    private int _listening;
    private int _echoing;
    private int _degradedLogged;
    private long _lastEcho = Environment.TickCount64;

    public RedisClusterEvents(IOptions<EdgeRouterOptions> options, ILogger<RedisClusterEvents> logger, EdgeRouterMetrics metrics, TimeProvider timeProvider)
    {
        _logger = logger;
        _metrics = metrics;
        _retry = new AnnouncementRetry(TryPublishAsync, Message(ForgetEverythingKind, "-"), timeProvider, _disposed.Token);
        var cache = options.Value.Catalog;
        _channel = RedisChannel.Literal(cache.RedisChannel);
        var configuration = ConfigurationOptions.Parse(cache.Redis!);
        configuration.AbortOnConnectFail = false;
        configuration.ConnectTimeout = 2000;
        configuration.ReconnectRetryPolicy = new LinearRetry(500);

        // Completions on the thread pool rather than the client's own I/O threads: in a 404 storm (a Redis read per
        // request) that cut the router's CPU per request by a fifth and its lock contentions from 1,600/s to none.
        configuration.SocketManager = SocketManager.ThreadPool;
        _redis = ConnectionMultiplexer.Connect(configuration);
        _redis.ConnectionFailed += (_, e) => OnConnection(false, e.FailureType.ToString());
        _redis.ConnectionRestored += (_, _) => OnConnection(true, null);
        // Not the blocking Subscribe: with Redis down it throws after the client's timeout, and an instance must start
        // anyway. The subscription is registered at once and made (again) whenever the connection comes up.
        _ = SubscribeAsync();
        if (_redis.IsConnected)
        {
            StartEchoing();
        }
        else
        {
            LogDegraded("not connected at start-up");
        }

        _ = HeartbeatAsync(_disposed.Token);
    }

    public bool IsConnected => Volatile.Read(ref _listening) == 1 && _redis.IsConnected;

    /// <summary>The one connection (tests look through it).</summary>
    internal IConnectionMultiplexer Multiplexer => _redis;

    public event Action<string>? KeyChanged;

    public event Action<string>? KeyWriting;

    public event Action<string, string>? StorageFailed;

    public event Action<bool>? ConnectionChanged;

    public event Action? AllChanged;

    public ValueTask PublishKeyChangedAsync(string key) => PublishAsync(KeyKind, key);

    public ValueTask PublishKeyWritingAsync(string key) => PublishAsync(WritingKind, key);

    public ValueTask PublishStorageFailedAsync(string storageId, string reason) => PublishAsync(StorageKind, $"{storageId}\n{reason}");

    public async ValueTask DisposeAsync()
    {
        await _disposed.CancelAsync();
        await _redis.DisposeAsync();
        _disposed.Dispose();
    }

    private async Task SubscribeAsync()
    {
        try
        {
            await _redis.GetSubscriber().SubscribeAsync(_channel, (_, message) => Receive(message));
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            Log.SubscribeDeferred(_logger, ex.Message);
        }
    }

    private async ValueTask PublishAsync(string kind, string payload)
    {
        var message = Message(kind, payload);
        if (!await TryPublishAsync(message))
        {
            // A change notice is resent until it gets through: another instance whose own connection never dropped
            // would otherwise serve the old version for its whole cache lifetime. The rest only cost freshness.
            Log.PublishFailed(_logger, kind, kind == KeyKind);
            _metrics.AnnouncementFailed(kind);
            if (kind == KeyKind)
            {
                _retry.Add(message);
            }
        }
    }

    private async Task<bool> TryPublishAsync(string message)
    {
        try
        {
            await _redis.GetSubscriber().PublishAsync(_channel, message);
            return true;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            Log.PublishError(_logger, ex.Message);
            return false;
        }
    }

    private string Message(string kind, string payload) => $"{_instance}\n{kind}\n{payload}";

    private void Receive(RedisValue message)
    {
        var parts = ((string?)message ?? string.Empty).Split('\n', 3);
        if (parts is [var from, EchoKind, _] && from == _instance)
        {
            Volatile.Write(ref _lastEcho, Environment.TickCount64);
            if (Interlocked.Exchange(ref _listening, 1) == 0)
            {
                if (Interlocked.Exchange(ref _degradedLogged, 0) == 1)
                {
                    Log.Recovered(_logger);
                }

                ConnectionChanged?.Invoke(true);
            }

            return;
        }

        if (parts.Length < 3 || parts[0] == _instance)
        {
            return;
        }

        switch (parts[1])
        {
            case KeyKind:
                KeyChanged?.Invoke(parts[2]);
                break;
            case ForgetEverythingKind:
                AllChanged?.Invoke();
                break;
            case WritingKind:
                KeyWriting?.Invoke(parts[2]);
                break;
            case StorageKind when parts[2].Split('\n', 2) is [var storageId, var reason]:
                StorageFailed?.Invoke(storageId, reason);
                break;
        }
    }

    private void OnConnection(bool connected, string? failure)
    {
        if (connected)
        {
            // Up again once this instance hears its own echo (see the remarks).
            StartEchoing();
        }
        else if (Interlocked.Exchange(ref _listening, 0) == 1)
        {
            LogDegraded(failure!);
            ConnectionChanged?.Invoke(false);
        }
    }

    /// <summary>While up, sends the echo every second, and counts the channel down when none came back in time.</summary>
    private async Task HeartbeatAsync(CancellationToken stopping)
    {
        var echo = Message(EchoKind, "-");
        try
        {
            while (true)
            {
                await Task.Delay(HeartbeatInterval, stopping);
                if (Volatile.Read(ref _listening) == 0)
                {
                    continue;
                }

                // Fire and forget: a hung server must not hold this loop up.
                _ = _redis.GetSubscriber().PublishAsync(_channel, echo, CommandFlags.FireAndForget);
                var silent = TimeSpan.FromMilliseconds(Environment.TickCount64 - Volatile.Read(ref _lastEcho));
                if (silent > HeartbeatTimeout && Interlocked.Exchange(ref _listening, 0) == 1)
                {
                    LogDegraded($"no echo on the channel for {silent.TotalSeconds:0.0} s");
                    ConnectionChanged?.Invoke(false);
                    StartEchoing();
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
            // Disposed.
        }
    }

    private void LogDegraded(string failure)
    {
        Volatile.Write(ref _degradedLogged, 1);
        Log.Degraded(_logger, failure);
    }

    /// <summary>Publishes this instance's echo until it comes back on the channel, or the connection drops again.</summary>
    private void StartEchoing()
    {
        if (_disposed.IsCancellationRequested || Interlocked.Exchange(ref _echoing, 1) == 1)
        {
            return;
        }

        var stopping = _disposed.Token;
        _ = Task.Run(async () =>
        {
            var echo = Message(EchoKind, "-");
            try
            {
                while (Volatile.Read(ref _listening) == 0 && _redis.IsConnected)
                {
                    try
                    {
                        await _redis.GetSubscriber().PublishAsync(_channel, echo);
                    }
                    catch (Exception ex) when (ex is RedisException or TimeoutException)
                    {
                        // Retried below while the connection says it is up; a drop ends the loop until it returns.
                    }

                    await Task.Delay(EchoInterval, stopping);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                return; // disposed
            }

            Volatile.Write(ref _echoing, 0);

            // A reconnect may have come while this loop was ending.
            if (Volatile.Read(ref _listening) == 0 && _redis.IsConnected)
            {
                StartEchoing();
            }
        });
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.ClusterDegraded, Level = LogLevel.Warning, Message = "Redis is unreachable ({Failure}): serving from the database with short-lived cache entries until it returns.")]
        public static partial void Degraded(ILogger logger, string failure);

        [LoggerMessage(EventId = EventIds.ClusterRecovered, Level = LogLevel.Information, Message = "Redis is back: cache invalidation across instances works again.")]
        public static partial void Recovered(ILogger logger);

        [LoggerMessage(EventId = EventIds.ClusterPublishFailed, Level = LogLevel.Warning, Message = "Could not tell the other instances about a change ({Kind}); resent in the background: {Resent}")]
        public static partial void PublishFailed(ILogger logger, string kind, bool resent);

        [LoggerMessage(EventId = EventIds.ClusterSubscribeDeferred, Level = LogLevel.Information, Message = "The change channel is subscribed to when Redis can be reached: {Error}")]
        public static partial void SubscribeDeferred(ILogger logger, string error);

        [LoggerMessage(EventId = EventIds.ClusterPublishError, Level = LogLevel.Debug, Message = "Publishing on the change channel failed: {Error}")]
        public static partial void PublishError(ILogger logger, string error);
    }
}

using System.Globalization;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.Caching.Redis;

/// <summary>A real <c>redis-server</c> (Debian) on a loopback port with no persistence, which tests may stop and restart.</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    private ServerProcess? _server;

    public int Port { get; } = ServerProcess.FreePort();

    public string Configuration => $"127.0.0.1:{Port}";

    public Task InitializeAsync() => StartAsync();

    public async Task StartAsync()
    {
        _server = new ServerProcess("redis", "/usr/bin/redis-server", ["--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", string.Empty, "--appendonly", "no"], Port);
        await _server.StartAsync(TimeSpan.FromSeconds(20));
    }

    /// <summary>Kills Redis at once, as a crash would.</summary>
    public Task KillAsync() => _server?.KillAsync() ?? Task.CompletedTask;

    /// <summary>SIGSTOP: the server hangs with its connections open, as an overloaded or frozen one does.</summary>
    public void Pause() => _server?.Signal("STOP");

    public void Resume() => _server?.Signal("CONT");

    public Task DisposeAsync() => _server?.StopAsync() ?? Task.CompletedTask;
}

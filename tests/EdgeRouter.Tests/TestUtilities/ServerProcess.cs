using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace EdgeRouter.Tests.TestUtilities;

/// <summary>
/// A real server the tests start on loopback: launched, awaited until its port answers, and stopped for sure
/// (SIGTERM, then SIGKILL of the whole tree if it lingers). A server that cannot start fails the test that needs it.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly ProcessStartInfo _start;
    private readonly System.Text.StringBuilder _output = new();
    private Process? _process;

    public ServerProcess(string name, string fileName, IEnumerable<string> arguments, int port, string? workingDirectory = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        Name = name;
        Port = port;
        _start = new ProcessStartInfo(fileName, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            _start.Environment[key] = value;
        }
    }

    public string Name { get; }

    public int Port { get; }

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>The process id while it runs (as the router signs its job leases with it).</summary>
    public int? ProcessId => _process is { HasExited: false } process ? process.Id : null;

    /// <summary>What the server printed, for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>A free loopback port, found by binding port 0.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async Task StartAsync(TimeSpan? timeout = null)
    {
        if (_start.FileName.Contains('/', StringComparison.Ordinal) && !File.Exists(_start.FileName))
        {
            throw new InvalidOperationException($"{Name}: '{_start.FileName}' does not exist. Run scripts/test-deps.sh (scripts/test.sh does) to install the test servers.");
        }

        _process = Process.Start(_start) ?? throw new InvalidOperationException($"{Name} could not be started.");
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with {_process.ExitCode} while starting:{Environment.NewLine}{Output}");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        await StopAsync();
        throw new TimeoutException($"{Name} did not listen on port {Port} in time:{Environment.NewLine}{Output}");
    }

    public async Task StopAsync()
    {
        if (_process is null)
        {
            return;
        }

        if (!_process.HasExited)
        {
            // SIGTERM first, so the server can close cleanly; some servers ignore the first one.
            Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])?.WaitForExit();
            using var graceful = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await _process.WaitForExitAsync(graceful.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }

        _process.Dispose();
        _process = null;
    }

    /// <summary>Sends a signal (<c>STOP</c>, <c>CONT</c>…) to the server, as a hung or resumed machine would.</summary>
    public void Signal(string signal)
    {
        if (_process is { HasExited: false })
        {
            Process.Start("kill", ["-" + signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])?.WaitForExit();
        }
    }

    /// <summary>Kills the server and every process it forked (open sessions included) at once, as a crash would.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        await StopAsync();
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}

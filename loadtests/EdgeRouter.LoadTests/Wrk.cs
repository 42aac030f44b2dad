using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace EdgeRouter.LoadTests;

/// <summary>What wrk measured in one run, as printed by the Lua scripts' done().</summary>
public sealed record WrkResult(
    long Requests,
    long DurationUs,
    long Bytes,
    long ConnectErrors,
    long ReadErrors,
    long WriteErrors,
    long StatusErrors,
    long Timeouts,
    long UnexpectedStatus,
    long P50Us,
    long P90Us,
    long P99Us,
    long P999Us,
    double MeanUs)
{
    public double RequestsPerSecond => Requests / (DurationUs / 1e6);

    public double BytesPerSecond => Bytes / (DurationUs / 1e6);

    /// <summary>Socket errors plus answers other than the scenario's expected status.</summary>
    public long Errors => ConnectErrors + ReadErrors + WriteErrors + Timeouts + UnexpectedStatus;
}

/// <summary>Runs wrk with a scenario's Lua shape, pinned to its own core.</summary>
internal static class Wrk
{
    public static async Task<WrkResult> RunAsync(Scenario scenario, string baseUrl, IReadOnlyDictionary<string, string> keyFiles, TimeSpan duration, int connections, int threads, bool pin, string workDirectory, CancellationToken cancellationToken)
    {
        var keysFile = keyFiles[scenario.KeySet];
        // wrk hands each body to the scripts' response() by growing a buffer piece by piece: at a megabyte that costs
        // wrk more than the server it measures (router and nginx differ only in how the body arrives: 5-8x apart for
        // the same server). Large bodies go without response(); wrk itself still counts statuses of 400 and above.
        var large = Scenarios.KeySets.Single(k => k.Name == scenario.KeySet).SizeBytes >= 1024 * 1024;
        var script = Path.Combine(workDirectory, $"{scenario.Keys.ToString().ToLowerInvariant()}{(large ? "-large" : string.Empty)}.lua");
        if (!File.Exists(script))
        {
            var lua = Path.Combine(Processes.RepositoryRoot, "loadtests", "lua");
            var shape = scenario.Keys switch
            {
                KeyChoice.Zipf => "zipf.lua",
                KeyChoice.Uniform => "uniform.lua",
                KeyChoice.Range => "range.lua",
                KeyChoice.HotAndScan => "hotscan.lua",
                _ => "notfound.lua",
            };
            await File.WriteAllTextAsync(script, await File.ReadAllTextAsync(Path.Combine(lua, "common.lua"), cancellationToken) + "\n" + await File.ReadAllTextAsync(Path.Combine(lua, shape), cancellationToken) + (large ? "\nresponse = nil\n" : string.Empty), cancellationToken);
        }

        List<string> arguments = [];
        if (pin)
        {
            arguments.AddRange(["-c", "0", "wrk"]);
        }

        arguments.AddRange(
        [
            "-t", threads.ToString(CultureInfo.InvariantCulture),
            "-c", connections.ToString(CultureInfo.InvariantCulture),
            "-d", $"{Math.Max(1, (int)duration.TotalSeconds)}s",
            "--timeout", "10s",
            "-s", script,
            baseUrl,
            "--", keysFile, scenario.ExpectedStatus.ToString(CultureInfo.InvariantCulture),
        ]);
        if (scenario.Keys == KeyChoice.Range)
        {
            arguments.Add("bytes=0-1023");
        }
        else if (scenario.ScanKeySet is { } scan)
        {
            arguments.Add(keyFiles[scan]);
        }

        using var process = Process.Start(new ProcessStartInfo(pin ? "taskset" : "wrk", arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = await process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = await process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        var json = output.Split('\n').FirstOrDefault(l => l.StartsWith("WRK-JSON ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"wrk printed no result for {scenario.Name}:{Environment.NewLine}{output}{error}");
        return JsonSerializer.Deserialize<WrkResult>(json["WRK-JSON ".Length..], Report.Json)!;
    }
}

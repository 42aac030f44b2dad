using System.Diagnostics;
using System.Globalization;

namespace EdgeRouter.LoadTests.Deployment;

/// <summary><c>target</c>: load against a running deployment, with live progress and a report. See loadtests/README.md.</summary>
public static class TargetCommand
{
    /// <summary>Exit status when a step missed an SLO given on the command line.</summary>
    public const int SloMissed = 3;

    public static async Task<int> RunAsync(IReadOnlyList<string> args, string resultsRoot, CancellationToken cancellationToken)
    {
        // Answers are handled on the socket threads that receive them, not handed to the thread pool: on one core,
        // the hand-off was what kept the engine from 20,000 requests a second. Read before the first socket is made.
        if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is null)
        {
            Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
        }

        TargetPlan plan;
        try
        {
            plan = TargetOptions.Parse(args, Path.Combine(resultsRoot, $"target-{DateTime.UtcNow:yyyyMMdd-HHmmss}"));
        }
        catch (ArgumentException ex)
        {
            await Console.Error.WriteLineAsync($"target: {ex.Message}\n\n{TargetOptions.Usage}");
            return 2;
        }

        using var setup = LoadEngine.Handler(plan);
        IReadOnlyList<TargetKey> keys;
        string source;
        try
        {
            (keys, source) = plan.Keys switch
            {
                KeySource.File file => (await TargetKeys.FromFileAsync(plan.Url, file.Path, cancellationToken), $"file {file.Path}"),
                KeySource.Admin admin => (await TargetKeys.FromAdminAsync(plan.Url, admin.AdminUrl, admin.Prefix, setup, n => Status($"listing keys from the admin API: {n}"), cancellationToken), $"admin API {admin.AdminUrl}"),
                KeySource.Seed seed => (await TargetKeys.SeedAsync(plan.Url, seed, setup, n => Status($"seeding: {n}/{seed.Count}"), cancellationToken), string.Create(CultureInfo.InvariantCulture, $"{seed.Count} objects of {seed.Size} bytes seeded for the run")),
                _ => throw new UnreachableException(),
            };
            Console.WriteLine();
        }
        catch (ArgumentException ex)
        {
            await Console.Error.WriteLineAsync($"target: {ex.Message}");
            return 2;
        }
        catch (Exception ex) when (ex is InvalidOperationException or HttpRequestException)
        {
            await Console.Error.WriteLineAsync($"target: {ex.Message}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            return 130;
        }

        var when = DateTimeOffset.UtcNow;
        var length = plan.Steps.Aggregate(TimeSpan.Zero, (sum, s) => sum + s.Duration);
        var recorder = new LoadRecorder(plan.Steps.Count, length);
        try
        {
            using var engine = new LoadEngine(plan, keys, recorder);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{keys.Count} keys ({source}); {plan.Steps.Count} step(s), {length.TotalSeconds:0.#} s after a {plan.Warmup.TotalSeconds:0.#} s warm-up, against {plan.Url}"));
            using var stopProgress = new CancellationTokenSource();
            var progress = ShowProgressAsync(plan, engine, recorder, stopProgress.Token);
            try
            {
                await engine.RunAsync(cancellationToken);
            }
            finally
            {
                await stopProgress.CancelAsync();
                await progress;
            }
        }
        finally
        {
            if (plan.Keys is KeySource.Seed seed)
            {
                var removed = await TargetKeys.RemoveAsync(plan.Url, keys, seed.UploadKey, setup);
                Console.WriteLine($"removed {removed} of the {keys.Count} seeded objects");
            }
        }

        var report = TargetReport.Build(plan, new TargetReport.KeysUsed(source, keys.Count, plan.Picking.ToString().ToLowerInvariant(), plan.Picking == KeyPicking.Zipf ? plan.ZipfExponent : null), recorder, Reproduce(args), when);
        await TargetReport.WriteAsync(report, plan.Output, CancellationToken.None);
        Console.WriteLine();
        Console.WriteLine(TargetReport.Table(report));
        Console.WriteLine(TargetReport.Verdict(report));
        Console.WriteLine($"Reports: {Path.GetFullPath(plan.Output)}/report.html, report.md, report.json");
        return cancellationToken.IsCancellationRequested ? 130 : report.SloMet == false ? SloMissed : 0;
    }

    /// <summary>The command line that repeats the run, with the upload key left out (it is a credential).</summary>
    private static string Reproduce(IReadOnlyList<string> args)
    {
        var shown = args.Select((a, i) => i > 0 && args[i - 1] == "--upload-key" ? "\"$UPLOAD_KEY\"" : a.Contains(' ', StringComparison.Ordinal) ? $"\"{a}\"" : a);
        return "dotnet run --project loadtests/EdgeRouter.LoadTests -c Release -- target " + string.Join(' ', shown);
    }

    /// <summary>Each second, once it is over: its step, and its rates, latencies and errors.</summary>
    private static async Task ShowProgressAsync(TargetPlan plan, LoadEngine engine, LoadRecorder recorder, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(200));
        var shown = -1;
        var warmupShown = false;
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                if (engine.CurrentStep < 0)
                {
                    if (!warmupShown && plan.Warmup > TimeSpan.Zero)
                    {
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"warming up for {plan.Warmup.TotalSeconds:0.#} s (not measured)"));
                        warmupShown = true;
                    }

                    continue;
                }

                var over = Math.Min((int)((Stopwatch.GetTimestamp() - recorder.StartedAt) / Stopwatch.Frequency), recorder.Seconds.Count);
                for (var second = shown + 1; second < over; second++)
                {
                    var index = TargetReport.StepAt(plan, second + 0.5);
                    var t = recorder.Seconds[second];
                    Console.WriteLine(string.Create(
                        CultureInfo.InvariantCulture,
                        $"{second + 1,5} s  step {index + 1}/{plan.Steps.Count} ({plan.Steps[index].Name})  sent {t?.Sent ?? 0}/s  answered {t?.Answered ?? 0}/s  p50 {t?.Latency.PercentileMs(0.5) ?? 0:0.###} ms  p99 {t?.Latency.PercentileMs(0.99) ?? 0:0.###} ms  errors {t?.Errors ?? 0}  in flight {engine.InFlight}"));
                    shown = second;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static void Status(string text)
    {
        if (!Console.IsOutputRedirected)
        {
            Console.Write($"\r{text}   ");
        }
    }
}

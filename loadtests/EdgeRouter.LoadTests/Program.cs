using System.Globalization;
using EdgeRouter.LoadTests;
using EdgeRouter.LoadTests.Deployment;

// dotnet run --project loadtests/EdgeRouter.LoadTests -c Release -- <command> [options]
var command = args.FirstOrDefault() ?? "help";
string[] flags = ["--smoke", "--no-pin", "--telemetry"];
var options = args.Skip(1).Where(a => !flags.Contains(a)).Chunk(2).Where(p => p.Length == 2).ToDictionary(p => p[0].TrimStart('-'), p => p[1], StringComparer.OrdinalIgnoreCase);
var results = Path.Combine(Processes.RepositoryRoot, "loadtests", "results");

// Ctrl-C cancels the run; every process it started is then stopped by the runners' disposal, not left behind.
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

return command switch
{
    "upload-s3" => await UploadBenchmark.RunAsync(
        Sizes.Parse(options.GetValueOrDefault("size", "1GiB")),
        int.Parse(options.GetValueOrDefault("repeats", "2"), CultureInfo.InvariantCulture),
        results,
        cancel.Token),
    "upload-durability" => await DurabilityBenchmark.RunAsync(
        int.Parse(options.GetValueOrDefault("count", "200"), CultureInfo.InvariantCulture),
        int.Parse(options.GetValueOrDefault("rounds", "3"), CultureInfo.InvariantCulture),
        results,
        cancel.Token),
    "migrate" => await MigrationBenchmark.RunAsync(
        int.Parse(options.GetValueOrDefault("objects", "2000"), CultureInfo.InvariantCulture),
        (int)Sizes.Parse(options.GetValueOrDefault("size", "64KiB")),
        int.Parse(options.GetValueOrDefault("repeats", "2"), CultureInfo.InvariantCulture),
        bool.Parse(options.GetValueOrDefault("sync-to-disk", "true")),
        results,
        cancel.Token),
    "target" => await TargetCommand.RunAsync(args[1..], results, cancel.Token),
    "reads" => await ReadLoadTest.RunAsync(ReadOptions(options, args.Contains("--smoke"), args.Contains("--no-pin"), args.Contains("--telemetry")), results, cancel.Token),
    _ => Usage(),
};

static ReadSettings ReadOptions(Dictionary<string, string> options, bool smoke, bool noPin, bool telemetry)
{
    int Int(string name, int normal, int quick) => int.Parse(options.GetValueOrDefault(name, (smoke ? quick : normal).ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
    var only = options.GetValueOrDefault("scenarios")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet();
    return new ReadSettings(
        Objects: Int("objects", 10_000, 300),
        Duration: TimeSpan.FromSeconds(Int("duration", 20, 2)),
        WarmUp: TimeSpan.FromSeconds(Int("warmup", 30, 2)),
        Repeats: Int("repeats", 3, 1),
        Connections: Int("connections", 64, 8),
        Threads: Int("threads", 1, 1),
        Pin: !noPin && Environment.ProcessorCount >= 2,
        Smoke: smoke,
        Only: only,
        Shared: options.GetValueOrDefault("postgres") is { } postgres
            ? new SharedCatalog(postgres, options.GetValueOrDefault("redis") ?? throw new ArgumentException("--postgres needs --redis too."))
            : null,
        Telemetry: telemetry);
}

static int Usage()
{
    Console.WriteLine("""
        usage: dotnet run --project loadtests/EdgeRouter.LoadTests -c Release -- <command> [options]

        """ + "\n" + TargetOptions.Usage + "\n" + """

          reads [--objects 10000] [--duration 20] [--warmup 30] [--repeats 3] [--connections 64] [--threads 1]
                [--scenarios a,b] [--no-pin] [--smoke] [--telemetry] [--postgres CONNECTION --redis HOST:PORT]
              Read throughput of the router vs nginx baselines (direct, proxy_pass, return 302); writes
              loadtests/results/<time>/report.json, report.md and chart.svg. --smoke: a few seconds per scenario,
              fails on any error or missing report (what CI runs). --postgres/--redis: the router runs on a
              PostgreSQL catalog and Redis (start both with: bash scripts/cluster.sh --servers-only).
              --telemetry: what telemetry costs; the router is measured four times in each repeat, with metrics off
              (edgerouter-off), as shipped (edgerouter: metrics on), with OTLP export of metrics and logs but no
              traces (edgerouter-otlp) and with 1 % tracing too (edgerouter-traced); the report gives each one's CPU
              per request and rps against edgerouter-off. Use a long --warmup: the tiered JIT of a traced router
              takes tens of seconds to settle on one core.

          upload-durability [--count 200] [--rounds 3]
              What a durable 201 costs: uploads of 1 KB and 1 MB to Local + SQLite, one client and eight, with
              Uploads:SyncToDisk on (the default) against off, two routers side by side in alternating rounds.

          migrate [--objects 2000] [--size 64KiB] [--repeats 2] [--sync-to-disk true]
              The router's migrate job against rclone copy (Debian's rclone), in one run, between the same two storages:
              a Local folder to an S3 bucket (s3rver), a bucket on one s3rver to a bucket on another, and a Local
              folder to another; each with its defaults. Each tool's copy is counted after it: a short one fails the run.
              Prints objects per second and their ratio; writes loadtests/results/<time>/migrate-vs-rclone.md.
              --sync-to-disk false: the router without fsync (Uploads:SyncToDisk), as rclone copies, to see its share.

          upload-s3 [--size 1GiB] [--repeats 2]
              A large upload through the router to a real S3 server (s3rver) against the same upload straight
              to it with the SDK; prints both throughputs, the ratio and the router's peak RSS.
        """);
    return 2;
}

using System.Globalization;

namespace EdgeRouter.LoadTests.Deployment;

/// <summary>Where the keys of a <c>target</c> run come from.</summary>
public abstract record KeySource
{
    /// <summary>One key a line; blank lines and lines starting with <c>#</c> are skipped.</summary>
    public sealed record File(string Path) : KeySource;

    /// <summary>Every object the admin API lists (under a prefix), paged; the admin key is in <c>EDGEROUTER_ADMIN_KEY</c>.</summary>
    public sealed record Admin(Uri AdminUrl, string Prefix) : KeySource;

    /// <summary>Objects uploaded for the run through the upload API with <paramref name="UploadKey"/>, and deleted after it.</summary>
    public sealed record Seed(int Count, long Size, string UploadKey) : KeySource;
}

/// <summary>How keys are picked for each request.</summary>
public enum KeyPicking
{
    Zipf,
    Uniform,
    Sequential,
}

/// <summary>Everything a <c>target</c> run was told.</summary>
/// <param name="SloP99">The p99 every step must stay under, if given.</param>
/// <param name="SloErrors">The share of errors (0-1) every step must stay under, if given.</param>
public sealed record TargetPlan(
    Uri Url,
    KeySource Keys,
    IReadOnlyList<StepPlan> Steps,
    TimeSpan Warmup,
    KeyPicking Picking,
    double ZipfExponent,
    RequestMix Mix,
    int Connections,
    int MaxInFlight,
    TimeSpan Timeout,
    long RangeBytes,
    bool Http2,
    bool Insecure,
    TimeSpan? SloP99,
    double? SloErrors,
    string Output,
    int? RandomSeed);

/// <summary>Parses <c>target</c>'s command line; every problem is reported with the option it concerns.</summary>
public static class TargetOptions
{
    public const string Usage = """
          target --url URL (--keys FILE | --keys-from-admin ADMIN_URL [--prefix P] | --seed N --upload-key KEY [--seed-size 10KiB])
                 (--inject RATE [--duration 60s] | --ramp FROM:TO:DURATION [--ramp-steps 10]
                  | --steps R1,R2,… --step-duration 30s | --concurrency N [--duration 60s])
                 [--warmup 10s] [--pick zipf|uniform|sequential] [--zipf-exponent 1.0]
                 [--mix get=100,head=0,range=0,revalidate=0,unknown=0] [--range-bytes 64KiB]
                 [--connections 256] [--max-in-flight 20000] [--timeout 10s] [--http2] [--insecure]
                 [--slo-p99 50ms] [--slo-errors 1%] [--out DIR] [--random-seed N]
              Load against a running deployment at an open arrival rate (requests per second, whatever the
              latency) or with N clients in a closed loop; live progress each second; writes report.json,
              report.md and report.html (charts over time, per step, the knee). Exit status 3 when a step
              misses an SLO given here. See loadtests/README.md, "Testing your deployment".
        """;

    /// <summary>Parses <paramref name="args"/> (after the command name) into a plan, or throws <see cref="ArgumentException"/> naming the option.</summary>
    public static TargetPlan Parse(IReadOnlyList<string> args, string defaultOutput)
    {
        var flags = new HashSet<string>(StringComparer.Ordinal) { "http2", "insecure" };
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var set = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"'{args[i]}' is not an option (options start with --).");
            }

            var name = args[i][2..];
            if (!Known.Contains(name))
            {
                throw new ArgumentException($"--{name} is not an option of target.");
            }

            if (flags.Contains(name))
            {
                set.Add(name);
                continue;
            }

            if (i + 1 >= args.Count)
            {
                throw new ArgumentException($"--{name} needs a value.");
            }

            values[name] = args[++i];
        }

        string? Value(string name) => values.GetValueOrDefault(name);

        var url = Value("url") ?? throw new ArgumentException("--url is required: the deployment's base URL, e.g. https://origin.example.com.");
        if (!Uri.TryCreate(url, UriKind.Absolute, out var baseUrl) || (baseUrl.Scheme != Uri.UriSchemeHttp && baseUrl.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"--url: '{url}' is not an http or https URL.");
        }

        var shapes = Shapes.Where(values.ContainsKey).ToList();
        if (shapes.Count != 1)
        {
            throw new ArgumentException($"Give one load shape: --inject, --ramp, --steps or --concurrency (given: {(shapes.Count == 0 ? "none" : string.Join(", ", shapes.Select(s => "--" + s)))}).");
        }

        var duration = Value("duration") is { } d ? Duration("duration", d) : TimeSpan.FromSeconds(60);
        IReadOnlyList<StepPlan> steps = shapes[0] switch
        {
            "inject" => [StepPlan.Constant(Rate("inject", Value("inject")!), duration)],
            "ramp" => Ramp(Value("ramp")!, Value("ramp-steps") is { } n ? Count("ramp-steps", n, 1, 1000) : 10),
            "steps" => Steps(Value("steps")!, Value("step-duration") is { } sd ? Duration("step-duration", sd) : throw new ArgumentException("--steps needs --step-duration, e.g. 30s.")),
            _ => [StepPlan.Closed(Count("concurrency", Value("concurrency")!, 1, 100_000), duration)],
        };

        var keySources = KeySources.Where(values.ContainsKey).ToList();
        if (keySources.Count != 1)
        {
            throw new ArgumentException($"Give one key source: --keys FILE, --keys-from-admin ADMIN_URL or --seed N --upload-key KEY (given: {(keySources.Count == 0 ? "none" : string.Join(", ", keySources.Select(s => "--" + s)))}).");
        }

        KeySource keys = keySources[0] switch
        {
            "keys" => new KeySource.File(Value("keys")!),
            "keys-from-admin" => new KeySource.Admin(
                Uri.TryCreate(Value("keys-from-admin"), UriKind.Absolute, out var admin) ? admin : throw new ArgumentException($"--keys-from-admin: '{Value("keys-from-admin")}' is not a URL (the admin's base, e.g. https://origin.example.com/admin)."),
                Value("prefix") ?? string.Empty),
            _ => new KeySource.Seed(
                Count("seed", Value("seed")!, 1, 1_000_000),
                Value("seed-size") is { } size ? Bytes("seed-size", size) : 10 * 1024,
                Value("upload-key") ?? throw new ArgumentException("--seed needs --upload-key KEY, an upload API key of the deployment (its objects are deleted at the end).")),
        };

        var picking = (Value("pick") ?? "zipf") switch
        {
            "zipf" => KeyPicking.Zipf,
            "uniform" => KeyPicking.Uniform,
            "sequential" => KeyPicking.Sequential,
            var other => throw new ArgumentException($"--pick: '{other}' is not zipf, uniform or sequential."),
        };
        var exponent = Value("zipf-exponent") is { } e ? Number("zipf-exponent", e, 0, 10) : 1.0;
        var connections = Value("connections") is { } c ? Count("connections", c, 1, 100_000) : 256;

        return new TargetPlan(
            baseUrl,
            keys,
            steps,
            Value("warmup") is { } w ? Duration("warmup", w, allowZero: true) : TimeSpan.FromSeconds(10),
            picking,
            exponent,
            Value("mix") is { } mix ? RequestMix.Parse(mix) : RequestMix.GetOnly,
            connections,
            Value("max-in-flight") is { } m ? Count("max-in-flight", m, 1, 10_000_000) : 20_000,
            Value("timeout") is { } t ? Duration("timeout", t) : TimeSpan.FromSeconds(10),
            Value("range-bytes") is { } r ? Bytes("range-bytes", r) : 64 * 1024,
            set.Contains("http2"),
            set.Contains("insecure"),
            Value("slo-p99") is { } p99 ? Duration("slo-p99", p99) : null,
            Value("slo-errors") is { } errors ? Share("slo-errors", errors) : null,
            Value("out") ?? defaultOutput,
            Value("random-seed") is { } seed ? Count("random-seed", seed, 0, int.MaxValue) : null);
    }

    private static readonly string[] Shapes = ["inject", "ramp", "steps", "concurrency"];

    private static readonly string[] KeySources = ["keys", "keys-from-admin", "seed"];

    private static readonly HashSet<string> Known = new(StringComparer.Ordinal)
    {
        "url", "keys", "keys-from-admin", "prefix", "seed", "seed-size", "upload-key", "inject", "duration", "ramp", "ramp-steps",
        "steps", "step-duration", "concurrency", "warmup", "pick", "zipf-exponent", "mix", "range-bytes", "connections",
        "max-in-flight", "timeout", "http2", "insecure", "slo-p99", "slo-errors", "out", "random-seed",
    };

    private static IReadOnlyList<StepPlan> Ramp(string text, int segments)
    {
        var parts = text.Split(':');
        if (parts.Length != 3)
        {
            throw new ArgumentException($"--ramp: '{text}' is not FROM:TO:DURATION, e.g. 500:5000:60s.");
        }

        var (from, to, length) = (Rate("ramp", parts[0], allowZero: true), Rate("ramp", parts[1]), Duration("ramp", parts[2]));
        var part = length / segments;
        return [.. Enumerable.Range(0, segments).Select(i => StepPlan.Linear(from + ((to - from) * i / segments), from + ((to - from) * (i + 1) / segments), part))];
    }

    private static IReadOnlyList<StepPlan> Steps(string text, TimeSpan each)
        => [.. text.Split(',', StringSplitOptions.TrimEntries).Select(r => StepPlan.Constant(Rate("steps", r), each))];

    private static double Rate(string option, string text, bool allowZero = false)
        => double.TryParse(text.EndsWith("/s", StringComparison.Ordinal) ? text[..^2] : text, NumberStyles.Float, CultureInfo.InvariantCulture, out var rate) && (rate > 0 || (allowZero && rate == 0)) && rate <= 10_000_000
            ? rate
            : throw new ArgumentException($"--{option}: '{text}' is not a rate in requests per second (a number above 0, at most 10000000).");

    private static int Count(string option, string text, int min, int max)
        => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw new ArgumentException($"--{option}: '{text}' is not a whole number from {min} to {max}.");

    private static double Number(string option, string text, double min, double max)
        => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw new ArgumentException($"--{option}: '{text}' is not a number from {min} to {max}.");

    private static long Bytes(string option, string text)
        => EdgeRouter.Configuration.ByteSize.TryParse(text, out var bytes) && bytes > 0
            ? bytes
            : throw new ArgumentException($"--{option}: '{text}' is not a size such as 64KiB or 1MB.");

    /// <summary>"1%" or "0.01".</summary>
    private static double Share(string option, string text)
    {
        var percent = text.EndsWith('%');
        return double.TryParse(percent ? text[..^1] : text, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n >= 0 && (percent ? n <= 100 : n <= 1)
            ? (percent ? n / 100 : n)
            : throw new ArgumentException($"--{option}: '{text}' is not a share such as 1% or 0.01.");
    }

    /// <summary>"500ms", "30s", "2m", "1h", or a number of seconds.</summary>
    public static TimeSpan Duration(string option, string text, bool allowZero = false)
    {
        var (number, unit) = text.EndsWith("ms", StringComparison.Ordinal) ? (text[..^2], 0.001)
            : text.EndsWith('s') ? (text[..^1], 1.0)
            : text.EndsWith('m') ? (text[..^1], 60.0)
            : text.EndsWith('h') ? (text[..^1], 3600.0)
            : (text, 1.0);
        return double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && (n > 0 || (allowZero && n == 0)) && n * unit <= 7 * 86_400
            ? TimeSpan.FromSeconds(n * unit)
            : throw new ArgumentException($"--{option}: '{text}' is not a duration such as 500ms, 30s, 2m or 1h.");
    }
}

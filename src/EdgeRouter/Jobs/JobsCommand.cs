using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace EdgeRouter.Jobs;

/// <summary>
/// <c>dotnet EdgeRouter.dll jobs …</c>: starts, follows, lists and cancels jobs through a running router's admin API,
/// drawing a progress bar with rate and ETA. The admin key comes from <c>EDGEROUTER_ADMIN_KEY</c> (never an
/// argument: the process list would show it).
/// </summary>
internal static class JobsCommand
{
    public const string Usage = """
        usage: EdgeRouter jobs <kind> [options]        start a job and follow it to its end
               EdgeRouter jobs list                    the newest jobs
               EdgeRouter jobs status <id>             one job (follow it with --follow)
               EdgeRouter jobs cancel <id>             cancel a queued or running job

        kinds and their options:
          import    --storage ID [--prefix P] [--no-hash]
          migrate   --from ID --to ID [--prefix P]
          drain     --storage ID
          rebalance [--tolerance 0.1] [--dry-run]
          verify    [--storage ID] [--prefix P] [--deep] [--repair]
        every kind: [--objects-per-second N] [--bytes-per-second N] [--no-wait]

        --url URL   the router (default $EDGEROUTER_URL, else http://localhost:5080); the admin API is at
                    URL + /admin/api (--path-base changes /admin)
        The admin key is read from $EDGEROUTER_ADMIN_KEY.
        Exit status: 0 the job succeeded (or was queued, with --no-wait), 1 it failed or was cancelled, 2 a usage
        or API error.
        """;

    private static readonly Dictionary<string, string> Options = new(StringComparer.Ordinal)
    {
        ["--storage"] = "storage",
        ["--from"] = "from",
        ["--to"] = "to",
        ["--prefix"] = "prefix",
        ["--tolerance"] = "tolerance",
        ["--objects-per-second"] = JobSpec.ObjectsPerSecond,
        ["--bytes-per-second"] = JobSpec.BytesPerSecond,
    };

    private static readonly Dictionary<string, (string Name, bool Value)> Flags = new(StringComparer.Ordinal)
    {
        ["--deep"] = ("deep", true),
        ["--repair"] = ("repair", true),
        ["--dry-run"] = ("dryRun", true),
        ["--no-hash"] = ("hash", false),
    };

    private static readonly string[] NumberOptions = ["tolerance", JobSpec.ObjectsPerSecond, JobSpec.BytesPerSecond];

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error, Func<string, string?> environment, HttpMessageHandler? handler = null, CancellationToken cancellationToken = default)
    {
        if (args.Count == 0 || args[0] is "-h" or "--help")
        {
            await output.WriteLineAsync(Usage);
            return args.Count == 0 ? 2 : 0;
        }

        var spec = new JsonObject();
        string url = environment("EDGEROUTER_URL") ?? "http://localhost:5080", pathBase = "/admin";
        var wait = true;
        var follow = false;
        var positional = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (Flags.TryGetValue(arg, out var flag))
            {
                spec[flag.Name] = flag.Value;
            }
            else if (arg is "--no-wait" or "--follow")
            {
                (wait, follow) = (arg != "--no-wait" && wait, follow || arg == "--follow");
            }
            else if (arg is "--url" or "--path-base" || Options.ContainsKey(arg))
            {
                if (i + 1 >= args.Count)
                {
                    return await FailAsync(error, $"{arg} needs a value.");
                }

                var value = args[++i];
                if (arg == "--url")
                {
                    url = value;
                }
                else if (arg == "--path-base")
                {
                    pathBase = value;
                }
                else if (NumberOptions.Contains(Options[arg]))
                {
                    if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
                    {
                        return await FailAsync(error, $"{arg} needs a number; '{value}' is not one.");
                    }

                    spec[Options[arg]] = number;
                }
                else
                {
                    spec[Options[arg]] = value;
                }
            }
            else if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                return await FailAsync(error, $"unknown option {arg}.");
            }
            else
            {
                positional.Add(arg);
            }
        }

        if (environment("EDGEROUTER_ADMIN_KEY") is not { Length: > 0 } key)
        {
            return await FailAsync(error, "set EDGEROUTER_ADMIN_KEY to the admin key.");
        }

        using var http = new HttpClient(handler ?? new SocketsHttpHandler(), disposeHandler: handler is null)
        {
            BaseAddress = new Uri(url.TrimEnd('/') + pathBase + "/api/"),
            Timeout = TimeSpan.FromSeconds(30),
            DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", key) },
        };
        try
        {
            switch (positional)
            {
                case ["list"]:
                    foreach (var listed in (await ReadAsync<JsonArray>(http.GetAsync("jobs", cancellationToken), cancellationToken)).OfType<JsonObject>())
                    {
                        await output.WriteLineAsync(Line(listed));
                    }

                    return 0;
                case ["status", var id]:
                    return follow ? await FollowAsync(http, id, output, cancellationToken) : await PrintAsync(output, await ReadAsync<JsonObject>(http.GetAsync($"jobs/{Uri.EscapeDataString(id)}", cancellationToken), cancellationToken));
                case ["cancel", var id]:
                    return await PrintAsync(output, await ReadAsync<JsonObject>(http.DeleteAsync($"jobs/{Uri.EscapeDataString(id)}", cancellationToken), cancellationToken));
                case [var kind]:
                    spec["kind"] = kind;
                    var created = await ReadAsync<JsonObject>(http.PostAsJsonAsync("jobs", spec, cancellationToken), cancellationToken);
                    var started = (string)created["id"]!;
                    await output.WriteLineAsync($"job {started} queued");
                    return wait ? await FollowAsync(http, started, output, cancellationToken) : 0;
                default:
                    return await FailAsync(error, "give one job kind, or list, status <id>, cancel <id>.");
            }
        }
        catch (ApiException ex)
        {
            await error.WriteLineAsync(ex.Message);
            return 2;
        }
        catch (HttpRequestException ex)
        {
            await error.WriteLineAsync($"could not reach the router at {url}: {ex.Message}");
            return 2;
        }
    }

    /// <summary>Polls the job until it ends, redrawing its progress line on a terminal (a line every 5 s otherwise).</summary>
    private static async Task<int> FollowAsync(HttpClient http, string id, TextWriter output, CancellationToken cancellationToken)
    {
        var terminal = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
        var lastLine = DateTime.MinValue;
        while (true)
        {
            var job = await ReadAsync<JsonObject>(http.GetAsync($"jobs/{Uri.EscapeDataString(id)}", cancellationToken), cancellationToken);
            var state = (string?)job["state"];
            var finished = state is JobStates.Succeeded or JobStates.Failed or JobStates.Cancelled;
            if (terminal)
            {
                await output.WriteAsync("\r" + Progress(job) + "\u001b[K");
            }
            else if (finished || DateTime.UtcNow - lastLine > TimeSpan.FromSeconds(5))
            {
                await output.WriteLineAsync(Progress(job));
                lastLine = DateTime.UtcNow;
            }

            if (finished)
            {
                if (terminal)
                {
                    await output.WriteLineAsync();
                }

                return await PrintAsync(output, job);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
        }
    }

    /// <summary>"[#####-----]  50%  500/1,000  120.0/s  3.4 MB  ETA 0:04  0 errors  running".</summary>
    internal static string Progress(JsonObject job)
    {
        const int Width = 30;
        var processed = (long?)job["processed"] ?? 0;
        var total = (long?)job["total"];
        var share = total is > 0 ? Math.Clamp((double)processed / total.Value, 0, 1) : (double?)null;
        var filled = (int)Math.Round((share ?? 0) * Width);
        var text = new StringBuilder()
            .Append('[').Append('#', filled).Append('-', Width - filled).Append("] ")
            .Append(share is { } s ? string.Create(CultureInfo.InvariantCulture, $"{s * 100:0}%").PadLeft(4) : "   ?")
            .Append(CultureInfo.InvariantCulture, $"  {processed:N0}/{(total is { } t ? t.ToString("N0", CultureInfo.InvariantCulture) : "?")}");
        if ((double?)job["objectsPerSecond"] is { } rate)
        {
            text.Append(CultureInfo.InvariantCulture, $"  {rate:0.0}/s");
        }

        text.Append("  ").Append(Bytes((long?)job["bytes"] ?? 0));
        if ((double?)job["etaSeconds"] is { } eta)
        {
            text.Append("  ETA ").Append(TimeSpan.FromSeconds(Math.Ceiling(eta)).ToString(eta >= 3600 ? @"h\:mm\:ss" : @"m\:ss", CultureInfo.InvariantCulture));
        }

        return text.Append(CultureInfo.InvariantCulture, $"  {(long?)job["errors"] ?? 0} errors  {(string?)job["state"]}").ToString();
    }

    private static string Line(JsonObject job)
        => $"{(string?)job["id"],-26} {(string?)job["kind"],-10} {(string?)job["state"],-10} {(long?)job["processed"] ?? 0,10:N0} / {((long?)job["total"])?.ToString("N0", CultureInfo.InvariantCulture) ?? "?",-10} {(long?)job["errors"] ?? 0} errors";

    private static async Task<int> PrintAsync(TextWriter output, JsonObject job)
    {
        await output.WriteLineAsync(Line(job));
        if (job["report"] is JsonObject { Count: > 0 } report)
        {
            await output.WriteLineAsync(report.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        }

        return (string?)job["state"] is JobStates.Failed or JobStates.Cancelled ? 1 : 0;
    }

    private static string Bytes(long bytes)
        => bytes >= 1L << 30 ? $"{bytes / (double)(1L << 30):0.0} GiB" : bytes >= 1L << 20 ? $"{bytes / (double)(1L << 20):0.0} MiB" : bytes >= 1024 ? $"{bytes / 1024.0:0.0} KiB" : $"{bytes} B";

    private static async Task<T> ReadAsync<T>(Task<HttpResponseMessage> call, CancellationToken cancellationToken)
        where T : JsonNode
    {
        using var response = await call;
        if (!response.IsSuccessStatusCode)
        {
            var problem = await response.Content.ReadAsStringAsync(cancellationToken);
            var detail = problem.StartsWith('{') && JsonNode.Parse(problem) is JsonObject json ? (string?)json["detail"] ?? (string?)json["title"] : null;
            throw new ApiException($"the router answered {(int)response.StatusCode}: {detail ?? response.ReasonPhrase}");
        }

        return await response.Content.ReadFromJsonAsync<T>(cancellationToken) ?? throw new ApiException("the router answered with no body.");
    }

    private static async Task<int> FailAsync(TextWriter error, string message)
    {
        await error.WriteLineAsync("jobs: " + message);
        await error.WriteLineAsync("run 'EdgeRouter jobs --help' for the options.");
        return 2;
    }

    private sealed class ApiException(string message) : Exception(message);
}

using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace EdgeRouter.LoadTests.Deployment;

/// <summary>What a <c>target</c> run measured, and its report.json, report.md, report.html and charts.</summary>
public static class TargetReport
{
    /// <summary>A step's figures. Rates are per second over the step's length, or longer when its last request went out or ended later.</summary>
    public sealed record StepResult(
        int Index,
        string Name,
        double? TargetRate,
        int? Concurrency,
        double DurationSeconds,
        long Sent,
        long Answered,
        double SentRate,
        double AnsweredRate,
        double P50Ms,
        double P90Ms,
        double P99Ms,
        double P999Ms,
        double MaxMs,
        long Errors,
        double ErrorRate,
        long Dropped,
        long Timeouts,
        long ConnectionErrors,
        long Bytes,
        IReadOnlyDictionary<string, long> StatusCodes,
        IReadOnlyDictionary<string, long> Kinds,
        bool? SloMet);

    /// <summary>One second of the run: requests sent in it; answers, latencies, statuses and bytes of requests that ended in it.</summary>
    public sealed record SecondResult(int At, double? TargetRate, long Sent, long Answered, double P50Ms, double P90Ms, double P99Ms, double P999Ms, long Errors, long Bytes, IReadOnlyDictionary<string, long> StatusCodes);

    public sealed record Slo(double? P99Ms, double? ErrorRate);

    public sealed record KneePoint(int Step, string Name, double? TargetRate, double AnsweredRate, double P99Ms, double ErrorRate);

    public sealed record KeysUsed(string Source, int Count, string Picking, double? ZipfExponent);

    public sealed record Document(
        DateTimeOffset When,
        string Url,
        string Command,
        KeysUsed Keys,
        string Mix,
        int Connections,
        double WarmupSeconds,
        Slo? Slos,
        bool? SloMet,
        KneePoint? Knee,
        string KneeRule,
        IReadOnlyList<StepResult> Steps,
        IReadOnlyList<SecondResult> Timeline);

    /// <summary>A step "keeps up" when it answered at least this share of the rate asked.</summary>
    public const double KeptUp = 0.95;

    public static Document Build(TargetPlan plan, KeysUsed keys, LoadRecorder recorder, string command, DateTimeOffset when)
    {
        var steps = new List<StepResult>();
        var start = recorder.StartedAt;
        for (var i = 0; i < plan.Steps.Count; i++)
        {
            var step = plan.Steps[i];
            var tally = recorder.Steps[i];
            double Rate(long count, long last) => count / Math.Max(step.Duration.TotalSeconds, last == 0 ? 0 : (last - start) / (double)Stopwatch.Frequency);
            var attempts = tally.Sent + tally.Dropped;
            var errorRate = attempts == 0 ? 0 : tally.Errors / (double)attempts;
            var p99 = tally.Latency.PercentileMs(0.99);
            bool? met = plan.SloP99 is null && plan.SloErrors is null
                ? null
                : (plan.SloP99 is not { } limit || p99 <= limit.TotalMilliseconds) && (plan.SloErrors is not { } share || errorRate <= share);
            steps.Add(new StepResult(
                i,
                step.Name,
                step.TargetRate,
                step.IsClosed ? step.Concurrency : null,
                step.Duration.TotalSeconds,
                tally.Sent,
                tally.Answered,
                Rate(tally.Sent, tally.LastSentAt),
                Rate(tally.Answered, tally.LastAnsweredAt),
                tally.Latency.PercentileMs(0.50),
                tally.Latency.PercentileMs(0.90),
                p99,
                tally.Latency.PercentileMs(0.999),
                tally.Latency.MaxMs,
                tally.Errors,
                errorRate,
                tally.Dropped,
                tally.Timeouts,
                tally.ConnectionErrors,
                tally.Bytes,
                tally.StatusCodes,
                tally.Kinds,
                met));
            start += (long)(step.Duration.TotalSeconds * Stopwatch.Frequency);
        }

        var seconds = recorder.Seconds;
        var last = Enumerable.Range(0, seconds.Count).LastOrDefault(s => seconds[s] is not null, -1);
        var timeline = Enumerable.Range(0, last + 1).Select(s => seconds[s] is { } t
            ? new SecondResult(s, RateAt(plan, s), t.Sent, t.Answered, t.Latency.PercentileMs(0.5), t.Latency.PercentileMs(0.9), t.Latency.PercentileMs(0.99), t.Latency.PercentileMs(0.999), t.Errors, t.Bytes, t.StatusCodes)
            : new SecondResult(s, RateAt(plan, s), 0, 0, 0, 0, 0, 0, 0, 0, new Dictionary<string, long>())).ToList();

        var rule = $"the step of the highest rate that answered at least {KeptUp:0%} of the rate asked"
            + (plan.SloP99 is { } p ? string.Create(CultureInfo.InvariantCulture, $", with p99 at most {p.TotalMilliseconds:0.###} ms") : string.Empty)
            + (plan.SloErrors is { } e ? string.Create(CultureInfo.InvariantCulture, $", with errors at most {e:0.###%}") : string.Empty);
        var knee = steps.Where(s => s.TargetRate is { } rate && s.AnsweredRate >= rate * KeptUp && s.SloMet != false)
            .OrderByDescending(s => s.TargetRate)
            .Select(s => new KneePoint(s.Index, s.Name, s.TargetRate, s.AnsweredRate, s.P99Ms, s.ErrorRate))
            .FirstOrDefault();
        var slos = plan.SloP99 is null && plan.SloErrors is null ? null : new Slo(plan.SloP99?.TotalMilliseconds, plan.SloErrors);
        return new Document(
            when,
            plan.Url.AbsoluteUri,
            command,
            keys,
            plan.Mix.ToString(),
            plan.Connections,
            plan.Warmup.TotalSeconds,
            slos,
            slos is null ? null : steps.All(s => s.SloMet == true),
            knee,
            rule,
            steps,
            timeline);
    }

    /// <summary>The step running at <paramref name="second"/> of the run (the last one past its end).</summary>
    public static int StepAt(TargetPlan plan, double second)
    {
        var end = 0.0;
        for (var i = 0; i < plan.Steps.Count; i++)
        {
            end += plan.Steps[i].Duration.TotalSeconds;
            if (second < end)
            {
                return i;
            }
        }

        return plan.Steps.Count - 1;
    }

    /// <summary>The arrival rate asked for in the middle of <paramref name="second"/> (none past the run, or in a closed model).</summary>
    private static double? RateAt(TargetPlan plan, int second)
    {
        var length = plan.Steps.Sum(s => s.Duration.TotalSeconds);
        if (second + 0.5 > length)
        {
            return null;
        }

        var index = StepAt(plan, second + 0.5);
        var step = plan.Steps[index];
        var into = second + 0.5 - plan.Steps.Take(index).Sum(s => s.Duration.TotalSeconds);
        return step.IsClosed ? null : step.FromRate + ((step.ToRate - step.FromRate) * into / step.Duration.TotalSeconds);
    }

    /// <summary>Writes report.json, report.md, report.html and the charts (SVG) into <paramref name="folder"/>.</summary>
    public static async Task WriteAsync(Document report, string folder, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, "report.json"), JsonSerializer.Serialize(report, Report.Json), cancellationToken);
        var charts = Charts(report);
        foreach (var (name, _, svg) in charts)
        {
            await File.WriteAllTextAsync(Path.Combine(folder, name), svg, cancellationToken);
        }

        await File.WriteAllTextAsync(Path.Combine(folder, "report.md"), Markdown(report, charts), cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(folder, "report.html"), Html(report, charts), cancellationToken);
    }

    /// <summary>The knee and the SLO verdict, one sentence each.</summary>
    public static string Verdict(Document report)
    {
        var knee = report.Knee is { } k
            ? string.Create(CultureInfo.InvariantCulture, $"Knee: {k.Name} (answered {k.AnsweredRate:0.#}/s, p99 {k.P99Ms:0.###} ms, errors {k.ErrorRate:0.###%}).")
            : report.Steps.Any(s => s.TargetRate is not null) ? "Knee: none; no step met the rule." : "Knee: none (a closed-model run has no arrival rate).";
        var slo = report.SloMet switch
        {
            null => "No SLO was given (--slo-p99, --slo-errors).",
            true => "Every step met the SLOs.",
            false => "SLO missed in: " + string.Join(", ", report.Steps.Where(s => s.SloMet == false).Select(s => s.Name)) + ".",
        };
        return $"{knee} {slo}";
    }

    private static readonly string[] Columns = ["step", "asked/s", "sent/s", "answered/s", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms", "errors", "statuses", "MB", "SLO"];

    private static string[] Cells(StepResult s) =>
    [
        s.Name,
        s.TargetRate is { } rate ? rate.ToString("0.#", CultureInfo.InvariantCulture) : "-",
        .. new[] { s.SentRate, s.AnsweredRate }.Select(v => v.ToString("0.#", CultureInfo.InvariantCulture)),
        .. new[] { s.P50Ms, s.P90Ms, s.P99Ms, s.P999Ms, s.MaxMs }.Select(v => v.ToString("0.###", CultureInfo.InvariantCulture)),
        string.Create(CultureInfo.InvariantCulture, $"{s.Errors} ({s.ErrorRate:0.##%})"),
        string.Join(" ", s.StatusCodes.Select(c => $"{c.Key}:{c.Value}")),
        (s.Bytes / 1e6).ToString("0.#", CultureInfo.InvariantCulture),
        s.SloMet is { } met ? (met ? "met" : "missed") : "-",
    ];

    /// <summary>The steps as a Markdown table.</summary>
    public static string Table(Document report)
    {
        var b = new StringBuilder();
        b.AppendLine("| " + string.Join(" | ", Columns) + " |");
        b.AppendLine("|" + string.Concat(Columns.Select(c => c.EndsWith("/s", StringComparison.Ordinal) || c.EndsWith("ms", StringComparison.Ordinal) || c == "MB" ? "---:|" : "---|")));
        foreach (var s in report.Steps)
        {
            b.AppendLine("| " + string.Join(" | ", Cells(s)) + " |");
        }

        return b.ToString();
    }

    private static List<(string File, string Title, string Svg)> Charts(Document report)
    {
        var labels = report.Timeline.Select(s => s.At.ToString(CultureInfo.InvariantCulture)).ToList();
        var t = report.Timeline;
        double? Class(SecondResult s, char first) => s.StatusCodes.Where(c => c.Key[0] == first).Sum(c => c.Value);
        var stepLabels = report.Steps.Select(s => s.Name).ToList();
        return
        [
            ("rate.svg", "Requests per second", SvgChart.Lines("Requests per second", "seconds", labels,
            [
                new("asked", "#a0aec0", [.. t.Select(s => s.TargetRate)]),
                new("sent", "#2b6cb0", [.. t.Select(s => (double?)s.Sent)]),
                new("answered", "#38a169", [.. t.Select(s => (double?)s.Answered)], Dashed: true),
                new("errors", "#c53030", [.. t.Select(s => (double?)s.Errors)]),
            ])),
            ("latency.svg", "Latency by second (ms, log scale)", SvgChart.Lines("Latency, ms (from each request's scheduled start; log scale)", "seconds", labels,
            [
                new("p50", "#38a169", [.. t.Select(s => s.Answered + s.Errors > 0 ? (double?)s.P50Ms : null)]),
                new("p90", "#d69e2e", [.. t.Select(s => s.Answered + s.Errors > 0 ? (double?)s.P90Ms : null)]),
                new("p99", "#dd6b20", [.. t.Select(s => s.Answered + s.Errors > 0 ? (double?)s.P99Ms : null)]),
                new("p99.9", "#c53030", [.. t.Select(s => s.Answered + s.Errors > 0 ? (double?)s.P999Ms : null)]),
            ], log: true, marker: report.Slos?.P99Ms, markerName: "SLO p99")),
            ("status.svg", "Responses per second by status", SvgChart.Lines("Responses per second by status", "seconds", labels,
            [
                new("2xx", "#38a169", [.. t.Select(s => Class(s, '2'))]),
                new("3xx", "#2b6cb0", [.. t.Select(s => Class(s, '3'))]),
                new("4xx", "#d69e2e", [.. t.Select(s => Class(s, '4'))]),
                new("5xx", "#c53030", [.. t.Select(s => Class(s, '5'))]),
            ])),
            ("bytes.svg", "MB received per second", SvgChart.Lines("MB received per second", "seconds", labels,
            [
                new("MB/s", "#553c9a", [.. t.Select(s => (double?)(s.Bytes / 1e6))]),
            ])),
            ("steps-rate.svg", "Rate per step", SvgChart.Bars("Requests per second, per step", stepLabels,
            [
                new("asked", "#a0aec0", [.. report.Steps.Select(s => s.TargetRate)]),
                new("sent", "#2b6cb0", [.. report.Steps.Select(s => (double?)s.SentRate)]),
                new("answered", "#38a169", [.. report.Steps.Select(s => (double?)s.AnsweredRate)]),
            ])),
            ("steps-latency.svg", "Latency per step", SvgChart.Bars("Latency per step, ms (log scale)", stepLabels,
            [
                new("p50", "#38a169", [.. report.Steps.Select(s => (double?)s.P50Ms)]),
                new("p90", "#d69e2e", [.. report.Steps.Select(s => (double?)s.P90Ms)]),
                new("p99", "#dd6b20", [.. report.Steps.Select(s => (double?)s.P99Ms)]),
                new("p99.9", "#c53030", [.. report.Steps.Select(s => (double?)s.P999Ms)]),
            ], log: true, marker: report.Slos?.P99Ms, markerName: "SLO p99")),
        ];
    }

    private static string Settings(Document report)
        => string.Create(CultureInfo.InvariantCulture, $"{report.Keys.Count} keys ({report.Keys.Source}), picked {report.Keys.Picking}{(report.Keys.ZipfExponent is { } s ? $" (exponent {s:0.##})" : string.Empty)}; mix {report.Mix}; at most {report.Connections} connections; {report.WarmupSeconds:0.#} s warm-up, not measured.");

    private static string Markdown(Document report, List<(string File, string Title, string Svg)> charts)
    {
        var b = new StringBuilder();
        b.AppendLine(CultureInfo.InvariantCulture, $"# Load test of {report.Url}, {report.When:yyyy-MM-dd HH:mm} UTC");
        b.AppendLine();
        b.AppendLine(CultureInfo.InvariantCulture, $"**{Verdict(report)}** The knee is {report.KneeRule}.");
        b.AppendLine();
        b.AppendLine(Settings(report) + " Latency runs from each request's scheduled start (open model) or its send (closed model), errors and timeouts included.");
        b.AppendLine();
        b.AppendLine(Table(report));
        foreach (var (file, title, _) in charts)
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"![{title}]({file})");
            b.AppendLine();
        }

        b.AppendLine("Reproduce with:");
        b.AppendLine();
        b.AppendLine("```");
        b.AppendLine(report.Command);
        b.AppendLine("```");
        return b.ToString();
    }

    private static string Html(Document report, List<(string File, string Title, string Svg)> charts)
    {
        static string E(string text) => WebUtility.HtmlEncode(text);
        var b = new StringBuilder();
        b.AppendLine("<!DOCTYPE html>");
        b.AppendLine("""<html xmlns="http://www.w3.org/1999/xhtml" lang="en"><head><meta charset="utf-8"/>""");
        b.AppendLine(CultureInfo.InvariantCulture, $"<title>Load test of {E(report.Url)}</title>");
        b.AppendLine("<style>body{font-family:sans-serif;margin:2em;color:#1a202c}table{border-collapse:collapse}td,th{border:1px solid #cbd5e0;padding:4px 8px;text-align:right}th{background:#edf2f7}td:first-child,th:first-child{text-align:left}.verdict{font-size:1.2em;padding:.6em;background:#f7fafc;border-left:4px solid #2b6cb0}.missed{color:#c53030}svg{display:block;margin:1em 0}</style>");
        b.AppendLine("</head><body>");
        b.AppendLine(CultureInfo.InvariantCulture, $"<h1>Load test of {E(report.Url)}, {report.When:yyyy-MM-dd HH:mm} UTC</h1>");
        b.AppendLine(CultureInfo.InvariantCulture, $"""<p class="verdict{(report.SloMet == false ? " missed" : string.Empty)}">{E(Verdict(report))}</p>""");
        b.AppendLine(CultureInfo.InvariantCulture, $"<p>The knee is {E(report.KneeRule)}. {E(Settings(report))}</p>");
        b.AppendLine("<table><thead><tr>" + string.Concat(Columns.Select(c => $"<th>{E(c)}</th>")) + "</tr></thead><tbody>");
        foreach (var s in report.Steps)
        {
            b.AppendLine("<tr>" + string.Concat(Cells(s).Select(c => $"<td>{E(c)}</td>")) + "</tr>");
        }

        b.AppendLine("</tbody></table>");
        foreach (var (_, _, svg) in charts)
        {
            b.AppendLine(svg);
        }

        b.AppendLine(CultureInfo.InvariantCulture, $"<h2>Reproduce</h2><pre>{E(report.Command)}</pre>");
        b.AppendLine("</body></html>");
        return b.ToString();
    }
}

using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace EdgeRouter.LoadTests;

/// <summary>Turns the measurements into the table, report.json, report.md and chart.svg.</summary>
internal static class ReadReport
{
    public sealed record Row(
        string Scenario,
        string Target,
        int Runs,
        double Rps,
        double RpsMin,
        double RpsMax,
        double P50Ms,
        double P90Ms,
        double P99Ms,
        double P999Ms,
        long Requests,
        long Errors,
        double MBps,
        double CpuUsPerRequest,
        CrawlFigures? Crawl);

    public sealed record Ratio(string Scenario, string Baseline, double RpsRatio, double P99Ratio);

    public sealed record VariantRatio(string Scenario, string Variant, double CpuPerRequestRatio, double RpsRatio);

    public sealed record Document(DateTimeOffset When, ReadSettings Settings, string Machine, IReadOnlyList<Row> Rows, IReadOnlyList<Ratio> Ratios, IReadOnlyList<VariantRatio> VariantRatios, IReadOnlyList<Check> Checks);

    public static Document Build(ReadSettings settings, IReadOnlyList<Scenario> scenarios, IReadOnlyDictionary<(string Scenario, string Target), List<Measurement>> measurements, IReadOnlyList<Check> checks)
    {
        var rows = measurements.Select(m =>
        {
            var runs = m.Value;
            var rps = runs.Select(r => r.Wrk.RequestsPerSecond).Order().ToList();
            static double Median(IEnumerable<double> values)
            {
                var sorted = values.Order().ToList();
                return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
            }

            return new Row(
                m.Key.Scenario,
                m.Key.Target,
                runs.Count,
                Median(rps),
                rps[0],
                rps[^1],
                Median(runs.Select(r => r.Wrk.P50Us / 1000.0)),
                Median(runs.Select(r => r.Wrk.P90Us / 1000.0)),
                Median(runs.Select(r => r.Wrk.P99Us / 1000.0)),
                Median(runs.Select(r => r.Wrk.P999Us / 1000.0)),
                runs.Sum(r => r.Wrk.Requests),
                runs.Sum(r => r.Wrk.Errors),
                Median(runs.Select(r => r.Wrk.BytesPerSecond / 1e6)),
                Median(runs.Select(r => r.CpuUsPerRequest)),
                runs.Select(r => r.Crawl).OfType<CrawlFigures>().ToList() is { Count: > 0 } crawls
                    ? new CrawlFigures(Median(crawls.Select(c => c.HotHitRatio)), Median(crawls.Select(c => c.Gen2Collections)), crawls.Max(c => c.PeakRssMB), crawls[0].OriginCacheMB)
                    : null);
        }).OrderBy(r => scenarios.ToList().FindIndex(s => s.Name == r.Scenario)).ThenBy(r => RouterVariant.IsRouter(r.Target) ? 0 : 1).ToList();

        var ratios = scenarios
            .Select(s => (s, router: rows.FirstOrDefault(r => r.Scenario == s.Name && r.Target == RouterVariant.Shipped), baseline: rows.FirstOrDefault(r => r.Scenario == s.Name && !RouterVariant.IsRouter(r.Target))))
            .Where(t => t.router is not null && t.baseline is not null && t.baseline.Rps > 0 && t.baseline.P99Ms > 0)
            .Select(t => new Ratio(t.s.Name, t.baseline!.Target, t.router!.Rps / t.baseline.Rps, t.router.P99Ms / t.baseline.P99Ms))
            .ToList();

        // With router variants: each one's CPU per request and rps against the reference (telemetry off).
        var variantRatios = rows
            .Where(r => RouterVariant.IsRouter(r.Target) && r.Target != RouterVariant.Reference)
            .Select(r => (r, reference: rows.FirstOrDefault(x => x.Scenario == r.Scenario && x.Target == RouterVariant.Reference)))
            .Where(t => t.reference is { CpuUsPerRequest: > 0, Rps: > 0 })
            .Select(t => new VariantRatio(t.r.Scenario, t.r.Target, t.r.CpuUsPerRequest / t.reference!.CpuUsPerRequest, t.r.Rps / t.reference.Rps))
            .ToList();
        var machine = $"{Environment.ProcessorCount} cores, {Environment.OSVersion.VersionString}, .NET {Environment.Version}";
        return new Document(DateTimeOffset.UtcNow, settings, machine, rows, ratios, variantRatios, checks);
    }

    public static async Task WriteAsync(Document report, string folder, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(folder);
        var table = Table(report);
        Console.WriteLine(table);
        await File.WriteAllTextAsync(Path.Combine(folder, "report.json"), JsonSerializer.Serialize(report, Report.Json), cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(folder, "report.md"), Markdown(report, table), cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(folder, "chart.svg"), Chart(report), cancellationToken);
    }

    private static string Table(Document report)
    {
        var b = new StringBuilder();
        b.AppendLine(CultureInfo.InvariantCulture, $"{"scenario",-22} {"target",-25} {"rps (median)",12} {"min-max",17} {"p50 ms",7} {"p90 ms",7} {"p99 ms",7} {"p99.9",7} {"errors",6} {"MB/s",8} {"CPU µs/req",10}");
        foreach (var r in report.Rows)
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"{r.Scenario,-22} {r.Target,-25} {r.Rps,12:0} {$"{r.RpsMin:0}-{r.RpsMax:0}",17} {r.P50Ms,7:0.00} {r.P90Ms,7:0.00} {r.P99Ms,7:0.00} {r.P999Ms,7:0.00} {r.Errors,6} {r.MBps,8:0.0} {r.CpuUsPerRequest,10:0.0}");
        }

        b.AppendLine();
        b.AppendLine("router / baseline (median rps; p99 below 1.0 is better than the baseline's):");
        foreach (var r in report.Ratios)
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"  {r.Scenario,-22} vs {r.Baseline,-17} rps {r.RpsRatio,5:0.00}x   p99 {r.P99Ratio,5:0.00}x");
        }

        foreach (var r in report.Rows.Where(r => r.Crawl is not null))
        {
            b.AppendLine();
            b.AppendLine(CultureInfo.InvariantCulture, $"under the crawl ({r.Scenario}, {r.Target}): the hot set's origin cache hit ratio {r.Crawl!.HotHitRatio:P1}; gen2 collections per run {r.Crawl.Gen2Collections:0}; peak RSS {r.Crawl.PeakRssMB:0} MB with an origin cache of {r.Crawl.OriginCacheMB:0.#} MB");
        }

        foreach (var c in report.Checks)
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"{(c.Passed ? "ok  " : "FAIL")} {c.Name}: {c.Result}");
        }

        if (report.VariantRatios.Count > 0)
        {
            b.AppendLine();
            b.AppendLine(CultureInfo.InvariantCulture, $"router variant / {RouterVariant.Reference} (median CPU per request and rps):");
            foreach (var r in report.VariantRatios)
            {
                b.AppendLine(CultureInfo.InvariantCulture, $"  {r.Scenario,-22} {r.Variant,-25} CPU/req {(r.CpuPerRequestRatio - 1) * 100,+6:+0.0;-0.0} %   rps {r.RpsRatio,5:0.00}x");
            }
        }

        return b.ToString();
    }

    private static string Markdown(Document report, string table)
    {
        var s = report.Settings;
        return $"""
            # EdgeRouter read load test, {report.When:yyyy-MM-dd HH:mm} UTC

            Machine: {report.Machine}. {s.Objects} objects seeded through the upload API; {s.Repeats} repeat(s) on fresh processes,
            {s.WarmUp.TotalSeconds:0} s warm-up each, {s.Duration.TotalSeconds:0} s per run, {s.Connections} connections, {s.Threads} wrk thread(s),
            {(s.Pin ? "servers pinned to core 1 and wrk to core 0" : "no CPU pinning")}. CPU µs/req is the serving process's user+system time
            (nginx: master and workers) divided by requests. rps is the median over repeats; min-max is its spread.

            ```
            {table}
            ```

            ![rps and p99 per scenario](chart.svg)
            """;
    }

    private static string Chart(Document report)
    {
        var scenarios = report.Rows.Select(r => r.Scenario).Distinct().ToList();
        const int Width = 900, PanelHeight = 220, Left = 170, BarHeight = 9;
        var height = (PanelHeight * 2) + 80;
        var b = new StringBuilder();
        b.AppendLine(CultureInfo.InvariantCulture, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{Width}" height="{height}" font-family="sans-serif" font-size="11">""");
        b.AppendLine("""<rect width="100%" height="100%" fill="white"/>""");
        Panel(b, "requests per second (median)", 20, r => r.Rps, "0");
        Panel(b, "p99 latency, ms (median)", 20 + PanelHeight + 30, r => r.P99Ms, "0.00");
        b.AppendLine(CultureInfo.InvariantCulture, $"""<rect x="{Left}" y="{height - 25}" width="10" height="10" fill="#2b6cb0"/><text x="{Left + 15}" y="{height - 16}">edgerouter</text>""");
        b.AppendLine(CultureInfo.InvariantCulture, $"""<rect x="{Left + 110}" y="{height - 25}" width="10" height="10" fill="#a0aec0"/><text x="{Left + 125}" y="{height - 16}">nginx baseline</text>""");
        b.AppendLine("</svg>");
        return b.ToString();

        void Panel(StringBuilder svg, string title, int top, Func<Row, double> value, string format)
        {
            var max = Math.Max(1e-9, report.Rows.Max(value));
            svg.AppendLine(CultureInfo.InvariantCulture, $"""<text x="10" y="{top + 12}" font-weight="bold">{WebUtility.HtmlEncode(title)}</text>""");
            var step = (PanelHeight - 30) / Math.Max(1, scenarios.Count);
            for (var i = 0; i < scenarios.Count; i++)
            {
                var y = top + 25 + (i * step);
                svg.AppendLine(CultureInfo.InvariantCulture, $"""<text x="10" y="{y + BarHeight + 3}">{WebUtility.HtmlEncode(scenarios[i])}</text>""");
                var bars = report.Rows.Where(r => r.Scenario == scenarios[i]).ToList();
                for (var j = 0; j < bars.Count; j++)
                {
                    var w = (Width - Left - 90) * value(bars[j]) / max;
                    var color = RouterVariant.IsRouter(bars[j].Target) ? "#2b6cb0" : "#a0aec0";
                    var by = y + (j * (BarHeight + 1));
                    svg.AppendLine(CultureInfo.InvariantCulture, $"""<rect x="{Left}" y="{by}" width="{w:0.#}" height="{BarHeight}" fill="{color}"/><text x="{Left + w + 4:0.#}" y="{by + BarHeight - 1}">{value(bars[j]).ToString(format, CultureInfo.InvariantCulture)}</text>""");
                }
            }
        }
    }
}

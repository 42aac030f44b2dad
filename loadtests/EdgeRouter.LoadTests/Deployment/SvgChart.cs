using System.Globalization;
using System.Net;
using System.Text;

namespace EdgeRouter.LoadTests.Deployment;

/// <summary>Self-contained SVG charts (no script, no external file), readable in a browser, a Markdown viewer or an image viewer.</summary>
public static class SvgChart
{
    /// <param name="Dashed">Drawn dashed, so a line that runs on another (answered on sent) stays visible.</param>
    public sealed record Series(string Name, string Color, IReadOnlyList<double?> Values, bool Dashed = false);

    private const int Width = 900;
    private const int Height = 260;
    private const int Left = 64;
    private const int Right = 16;
    private const int Top = 30;
    private const int Bottom = 48;

    /// <summary>Lines over <paramref name="labels"/> (one point each); <paramref name="log"/> for a log-10 y axis (latencies).</summary>
    public static string Lines(string title, string xTitle, IReadOnlyList<string> labels, IReadOnlyList<Series> series, bool log = false, double? marker = null, string? markerName = null)
    {
        var values = series.SelectMany(s => s.Values).OfType<double>().Where(v => !log || v > 0).Append(marker ?? double.NaN).Where(v => !double.IsNaN(v)).ToList();
        var (min, max) = Range(values, log);
        var b = Open(title);
        var plotWidth = Width - Left - Right;
        double X(int i) => Left + (labels.Count <= 1 ? plotWidth / 2.0 : plotWidth * i / (double)(labels.Count - 1));
        Axes(b, min, max, log, labels, X, xTitle);
        foreach (var s in series)
        {
            var path = new StringBuilder();
            var pen = 'M';
            for (var i = 0; i < s.Values.Count; i++)
            {
                if (s.Values[i] is not { } v || (log && v <= 0))
                {
                    pen = 'M';
                    continue;
                }

                path.Append(CultureInfo.InvariantCulture, $"{pen}{X(i):0.#},{Y(v, min, max, log):0.#} ");
                pen = 'L';
            }

            b.AppendLine(CultureInfo.InvariantCulture, $"""<path d="{path.ToString().TrimEnd()}" fill="none" stroke="{s.Color}" stroke-width="{(s.Dashed ? "2" : "1.6")}"{(s.Dashed ? " stroke-dasharray=\"6,4\"" : string.Empty)}/>""");
        }

        if (marker is { } m)
        {
            var y = Y(m, min, max, log);
            b.AppendLine(CultureInfo.InvariantCulture, $"""<line x1="{Left}" x2="{Width - Right}" y1="{y:0.#}" y2="{y:0.#}" stroke="#c53030" stroke-dasharray="5,4"/><text x="{Width - Right - 4}" y="{y - 4:0.#}" text-anchor="end" fill="#c53030">{Encode(markerName ?? string.Empty)}</text>""");
        }

        Legend(b, series);
        return Close(b);
    }

    /// <summary>One bar group per label, one bar per series.</summary>
    public static string Bars(string title, IReadOnlyList<string> labels, IReadOnlyList<Series> series, bool log = false, double? marker = null, string? markerName = null)
    {
        var values = series.SelectMany(s => s.Values).OfType<double>().Where(v => !log || v > 0).Append(marker ?? double.NaN).Where(v => !double.IsNaN(v)).ToList();
        var (min, max) = Range(values, log, fromZero: !log);
        var b = Open(title);
        var group = (Width - Left - Right) / (double)Math.Max(1, labels.Count);
        var bar = Math.Min(40, (group * 0.8) / Math.Max(1, series.Count));
        double X(int i) => Left + (group * (i + 0.5));
        Axes(b, min, max, log, labels, X, string.Empty);
        var baseline = Y(min, min, max, log);
        for (var i = 0; i < labels.Count; i++)
        {
            for (var j = 0; j < series.Count; j++)
            {
                if (series[j].Values[i] is not { } v || (log && v <= 0))
                {
                    continue;
                }

                var x = X(i) - (bar * series.Count / 2) + (bar * j);
                var y = Y(v, min, max, log);
                b.AppendLine(CultureInfo.InvariantCulture, $"""<rect x="{x:0.#}" y="{y:0.#}" width="{bar - 1:0.#}" height="{Math.Max(0.5, baseline - y):0.#}" fill="{series[j].Color}"><title>{Encode(series[j].Name)}: {Format(v)}</title></rect>""");
            }
        }

        if (marker is { } m)
        {
            var y = Y(m, min, max, log);
            b.AppendLine(CultureInfo.InvariantCulture, $"""<line x1="{Left}" x2="{Width - Right}" y1="{y:0.#}" y2="{y:0.#}" stroke="#c53030" stroke-dasharray="5,4"/><text x="{Width - Right - 4}" y="{y - 4:0.#}" text-anchor="end" fill="#c53030">{Encode(markerName ?? string.Empty)}</text>""");
        }

        Legend(b, series);
        return Close(b);
    }

    private static (double Min, double Max) Range(List<double> values, bool log, bool fromZero = true)
    {
        if (log)
        {
            var low = values.Count == 0 ? 0.01 : Math.Pow(10, Math.Floor(Math.Log10(values.Min())));
            var high = values.Count == 0 ? 1 : Math.Pow(10, Math.Ceiling(Math.Log10(values.Max())));
            return (low, Math.Max(high, low * 10));
        }

        var top = values.Count == 0 ? 1 : values.Max();
        return (fromZero ? 0 : values.Min(), top <= 0 ? 1 : top * 1.1);
    }

    private static double Y(double value, double min, double max, bool log)
    {
        var plot = Height - Top - Bottom;
        var share = log ? (Math.Log10(value) - Math.Log10(min)) / (Math.Log10(max) - Math.Log10(min)) : (value - min) / (max - min);
        return Top + plot - (plot * Math.Clamp(share, 0, 1));
    }

    private static StringBuilder Open(string title)
    {
        var b = new StringBuilder();
        b.AppendLine(CultureInfo.InvariantCulture, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{Width}" height="{Height}" viewBox="0 0 {Width} {Height}" font-family="sans-serif" font-size="11">""");
        b.AppendLine("""<rect width="100%" height="100%" fill="white"/>""");
        b.AppendLine(CultureInfo.InvariantCulture, $"""<text x="{Left}" y="18" font-weight="bold" font-size="13">{Encode(title)}</text>""");
        return b;
    }

    private static string Close(StringBuilder b) => b.AppendLine("</svg>").ToString();

    private static void Axes(StringBuilder b, double min, double max, bool log, IReadOnlyList<string> labels, Func<int, double> x, string xTitle)
    {
        var ticks = log
            ? Enumerable.Range(0, (int)Math.Round(Math.Log10(max / min)) + 1).Select(i => min * Math.Pow(10, i))
            : Enumerable.Range(0, 5).Select(i => min + ((max - min) * i / 4));
        foreach (var tick in ticks)
        {
            var y = Y(tick, min, max, log);
            b.AppendLine(CultureInfo.InvariantCulture, $"""<line x1="{Left}" x2="{Width - Right}" y1="{y:0.#}" y2="{y:0.#}" stroke="#e2e8f0"/><text x="{Left - 6}" y="{y + 4:0.#}" text-anchor="end">{Format(tick)}</text>""");
        }

        var every = Math.Max(1, (int)Math.Ceiling(labels.Count / 12.0));
        for (var i = 0; i < labels.Count; i += every)
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"""<text x="{x(i):0.#}" y="{Height - Bottom + 16}" text-anchor="middle">{Encode(labels[i])}</text>""");
        }

        b.AppendLine(CultureInfo.InvariantCulture, $"""<line x1="{Left}" x2="{Width - Right}" y1="{Height - Bottom}" y2="{Height - Bottom}" stroke="#4a5568"/>""");
        if (xTitle.Length > 0)
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"""<text x="{Width - Right}" y="{Height - Bottom + 30}" text-anchor="end" fill="#4a5568">{Encode(xTitle)}</text>""");
        }
    }

    private static void Legend(StringBuilder b, IReadOnlyList<Series> series)
    {
        var x = Left;
        foreach (var s in series)
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"""<rect x="{x}" y="{Height - 14}" width="10" height="10" fill="{s.Color}"/><text x="{x + 14}" y="{Height - 5}">{Encode(s.Name)}</text>""");
            x += 24 + (7 * s.Name.Length);
        }
    }

    public static string Format(double value) => value switch
    {
        >= 1000 => value.ToString("#,0", CultureInfo.InvariantCulture),
        >= 10 => value.ToString("0.#", CultureInfo.InvariantCulture),
        >= 1 => value.ToString("0.##", CultureInfo.InvariantCulture),
        _ => value.ToString("0.###", CultureInfo.InvariantCulture),
    };

    private static string Encode(string text) => WebUtility.HtmlEncode(text);
}

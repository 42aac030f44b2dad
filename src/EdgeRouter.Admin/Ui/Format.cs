using System.Globalization;
using System.Text.Json;

namespace EdgeRouter.Admin.Ui;

internal static class Format
{
    private static readonly string[] Units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

    public static string Bytes(long bytes)
    {
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < Units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return unit == 0 ? $"{bytes.ToString(CultureInfo.InvariantCulture)} B" : $"{value.ToString("0.0", CultureInfo.InvariantCulture)} {Units[unit]}";
    }

    public static string Milliseconds(double ms)
        => ms >= 1000 ? $"{(ms / 1000).ToString("0.#", CultureInfo.InvariantCulture)} s" : $"{ms.ToString(ms < 10 ? "0.##" : "0", CultureInfo.InvariantCulture)} ms";

    /// <summary>A span as people say it: 45 s, 12 min, 3 h, 2 d.</summary>
    public static string Age(TimeSpan span)
        => span.TotalSeconds < 90 ? $"{Math.Max(0, (int)span.TotalSeconds).ToString(CultureInfo.InvariantCulture)} s"
            : span.TotalMinutes < 90 ? $"{((int)span.TotalMinutes).ToString(CultureInfo.InvariantCulture)} min"
            : span.TotalHours < 48 ? $"{((int)span.TotalHours).ToString(CultureInfo.InvariantCulture)} h"
            : $"{((int)span.TotalDays).ToString(CultureInfo.InvariantCulture)} d";

    /// <summary>A setting as it reads in storages.json: strings without quotes, anything else as JSON.</summary>
    public static string? Setting(object? value)
        => value is JsonElement { ValueKind: JsonValueKind.String } text ? text.GetString() : value is JsonElement json ? json.GetRawText() : value?.ToString();
}

/// <summary>The antiforgery token a page puts in each of its forms.</summary>
public sealed record AntiforgeryField(string Name, string Value);

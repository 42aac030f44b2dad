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

    /// <summary>A setting as it reads in storages.json: strings without quotes, anything else as JSON.</summary>
    public static string? Setting(object? value)
        => value is JsonElement { ValueKind: JsonValueKind.String } text ? text.GetString() : value is JsonElement json ? json.GetRawText() : value?.ToString();
}

/// <summary>The antiforgery token a page puts in each of its forms.</summary>
public sealed record AntiforgeryField(string Name, string Value);

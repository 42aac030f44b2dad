using System.Globalization;
using System.Text.Json;

namespace EdgeRouter.Configuration;

/// <summary>Parses sizes written as a byte count or as <c>"20 GB"</c>, <c>"512MiB"</c>, <c>"1.5 TB"</c>.</summary>
public static class ByteSize
{
    private static readonly (string Suffix, long Factor)[] Units =
    [
        ("KIB", 1L << 10), ("MIB", 1L << 20), ("GIB", 1L << 30), ("TIB", 1L << 40), ("PIB", 1L << 50),
        ("KB", 1_000L), ("MB", 1_000_000L), ("GB", 1_000_000_000L), ("TB", 1_000_000_000_000L), ("PB", 1_000_000_000_000_000L),
        ("K", 1L << 10), ("M", 1L << 20), ("G", 1L << 30), ("T", 1L << 40),
        ("B", 1L),
    ];

    public static bool TryParse(string? text, out long bytes)
    {
        bytes = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var span = text.Trim();
        long factor = 1;
        foreach (var (suffix, unitFactor) in Units)
        {
            if (span.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                factor = unitFactor;
                span = span[..^suffix.Length].TrimEnd();
                break;
            }
        }

        if (!decimal.TryParse(span, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) || value < 0)
        {
            return false;
        }

        var result = value * factor;
        if (result > long.MaxValue)
        {
            return false;
        }

        bytes = (long)decimal.Floor(result);
        return true;
    }

    public static bool TryParse(JsonElement element, out long bytes)
    {
        bytes = 0;
        return element.ValueKind switch
        {
            JsonValueKind.Number => element.TryGetInt64(out bytes) && bytes >= 0,
            JsonValueKind.String => TryParse(element.GetString(), out bytes),
            _ => false,
        };
    }

    public static string Format(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return unit == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{bytes} B")
            : string.Create(CultureInfo.InvariantCulture, $"{value:0.##} {units[unit]}");
    }
}

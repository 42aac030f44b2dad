using System.Text.Json;

namespace EdgeRouter.LoadTests;

internal static class Report
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };
}

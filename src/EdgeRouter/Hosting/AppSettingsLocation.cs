using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.FileProviders;

namespace EdgeRouter.Hosting;

internal static class AppSettingsLocation
{
    /// <summary>
    /// appsettings*.json ship beside the binary, while config/ and data/ belong to the working directory (the
    /// repository root under <c>dotnet run</c>, /app in the container). Read the former from the binary's folder
    /// whenever the working directory has none of its own.
    /// </summary>
    public static void UseAppSettingsBesideBinary(this IConfigurationManager configuration, IHostEnvironment environment)
    {
        if (File.Exists(Path.Combine(environment.ContentRootPath, "appsettings.json")))
        {
            return;
        }

        var binaryFolder = new PhysicalFileProvider(AppContext.BaseDirectory);
        foreach (var source in configuration.Sources.OfType<JsonConfigurationSource>())
        {
            if (source.Path is { } path && path.StartsWith("appsettings", StringComparison.OrdinalIgnoreCase))
            {
                source.FileProvider = binaryFolder;
            }
        }

        // Sources are read when added; re-adding nothing but a reload makes the new file provider take effect.
        ((IConfigurationRoot)configuration).Reload();
    }
}

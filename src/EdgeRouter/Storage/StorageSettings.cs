using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using EdgeRouter.Configuration;

namespace EdgeRouter.Storage;

/// <summary>Reads the API-specific fields of a storage entry into a provider's own settings type.</summary>
public static class StorageSettings
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>
    /// Binds <see cref="StorageConfig.Settings"/> to <typeparamref name="T"/>. Unknown fields are errors, so a
    /// misspelt field is reported at load time instead of being silently ignored.
    /// </summary>
    public static T? Bind<T>(StorageConfig config, StorageValidationContext? context)
        where T : class, new()
    {
        var node = new JsonObject();
        foreach (var (name, value) in config.Settings ?? [])
        {
            node[name] = JsonNode.Parse(value.GetRawText());
        }

        try
        {
            return node.Deserialize<T>(Options) ?? new T();
        }
        catch (JsonException ex)
        {
            var field = ex.Path?.TrimStart('$', '.') ?? "?";
            var message = ex.Message.Contains("could not be mapped", StringComparison.Ordinal)
                ? "is not a known field of this storage's api."
                : "has a value of the wrong type.";
            context?.AddError(ExtractUnmappedName(ex.Message) ?? field, message);
            return null;
        }
    }

    private static string? ExtractUnmappedName(string message)
    {
        // "The JSON property 'roott' could not be mapped to any .NET member contained in type ..."
        var start = message.IndexOf('\'', StringComparison.Ordinal);
        var end = start < 0 ? -1 : message.IndexOf('\'', start + 1);
        return end > start ? message[(start + 1)..end] : null;
    }
}

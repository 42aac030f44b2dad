using System.Text.Json;
using System.Text.Json.Nodes;

namespace EdgeRouter.Configuration;

/// <summary>
/// Reads storages.json into a <see cref="StoragesDocument"/>, expanding <c>${ENV_VAR}</c> references, and reports
/// every syntax or type problem with the storage and field it belongs to.
/// </summary>
public static class StorageConfigReader
{
    internal static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        WriteIndented = true,
    };

    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    public static StoragesDocument? Read(string path, ICollection<string> errors, Func<string, string?>? environment = null)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            errors.Add($"{path}: cannot be read: {ex.Message}");
            return null;
        }

        return Parse(text, path, errors, environment ?? Environment.GetEnvironmentVariable);
    }

    public static StoragesDocument? Parse(string json, string source, ICollection<string> errors, Func<string, string?> environment)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json, documentOptions: DocumentOptions);
        }
        catch (JsonException ex)
        {
            errors.Add($"{source}: is not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}): {FirstSentence(ex.Message)}");
            return null;
        }

        if (root is not JsonObject obj || obj["storages"] is not JsonArray array)
        {
            errors.Add($"{source}: must be an object with a 'storages' array.");
            return null;
        }

        var storages = new List<StorageConfig>(array.Count);
        for (var i = 0; i < array.Count; i++)
        {
            if (array[i] is not JsonObject entry)
            {
                errors.Add($"storages[{i}]: must be an object.");
                continue;
            }

            var id = entry["id"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
            var before = errors.Count;
            ExpandEnvironment(entry, i, id, environment, errors);
            if (errors.Count != before)
            {
                continue;
            }

            try
            {
                storages.Add(entry.Deserialize<StorageConfig>(JsonOptions)!);
            }
            catch (JsonException ex)
            {
                var field = ex.Path is null ? "?" : ex.Path.TrimStart('$', '.');
                errors.Add($"storages[{i}] ('{id ?? "?"}'): field '{field}': has a value of the wrong type ({FirstSentence(ex.Message)})");
            }
        }

        return new StoragesDocument { Storages = storages };
    }

    private static void ExpandEnvironment(JsonObject entry, int index, string? id, Func<string, string?> environment, ICollection<string> errors)
    {
        foreach (var (name, value) in entry.ToList())
        {
            if (value is not JsonValue jv || !jv.TryGetValue<string>(out var text))
            {
                continue;
            }

            var expanded = EnvironmentReferences.Expand(text, environment, variable =>
                errors.Add($"storages[{index}] ('{id ?? "?"}'): field '{name}': refers to environment variable '{variable}', which is not set."));
            entry[name] = expanded;
        }
    }

    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(". ", StringComparison.Ordinal);
        return end < 0 ? message : message[..(end + 1)];
    }
}

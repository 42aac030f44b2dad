using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace EdgeRouter.Admin.Ui;

/// <summary>
/// The add/edit form of a storage, as typed: the fields every API shares, one box each, and the API's own settings as
/// a JSON object (as they read in storages.json). Secrets in it are always masked, also when the form comes back
/// with a problem or a test result: a secret left masked keeps the saved one.
/// </summary>
public sealed record StorageForm
{
    // Fields of their own on the form; everything else in a storage's entry is an API setting.
    private static readonly string[] Shared = ["id", "api", "name", "read", "storageUrl", "weight", "capacity", "active", "cacheControl", "keyLayout", "redirectStatus"];

    public string Id { get; init; } = string.Empty;

    public string Api { get; init; } = string.Empty;

    public string Name { get; init; } = string.Empty;

    public string Read { get; init; } = "redirect";

    public string StorageUrl { get; init; } = string.Empty;

    public string Weight { get; init; } = "1";

    public string Capacity { get; init; } = string.Empty;

    public string Active { get; init; } = "true";

    public string CacheControl { get; init; } = string.Empty;

    public string KeyLayout { get; init; } = "dated";

    public string RedirectStatus { get; init; } = "302";

    public string Settings { get; init; } = "{\n}";

    public static StorageForm From(AdminStorage storage) => new()
    {
        Id = storage.Id,
        Api = storage.Api,
        Name = storage.Configured.GetValueOrDefault("name") ?? string.Empty,
        Read = storage.Read,
        StorageUrl = storage.Configured.GetValueOrDefault("storageUrl") ?? string.Empty,
        Weight = storage.Weight.ToString(CultureInfo.InvariantCulture),
        Capacity = storage.Configured.GetValueOrDefault("capacity") ?? string.Empty,
        Active = storage.Active ? "true" : "false",
        CacheControl = storage.Configured.GetValueOrDefault("cacheControl") ?? string.Empty,
        KeyLayout = storage.Configured.GetValueOrDefault("keyLayout") ?? "dated",
        RedirectStatus = storage.Configured.GetValueOrDefault("redirectStatus") ?? "302",
        Settings = Masked(storage.Settings),
    };

    public static StorageForm From(IFormCollection form, string? id) => new()
    {
        Id = id ?? form["id"].ToString().Trim(),
        Name = form["name"].ToString(),
        Read = form["read"].ToString(),
        StorageUrl = form["storageUrl"].ToString().Trim(),
        Weight = form["weight"].ToString().Trim(),
        Capacity = form["capacity"].ToString().Trim(),
        Active = form["active"].ToString(),
        CacheControl = form["cacheControl"].ToString().Trim(),
        KeyLayout = form["keyLayout"].ToString(),
        RedirectStatus = form["redirectStatus"].ToString().Trim(),
        Settings = form["settings"].ToString(),
    };

    /// <summary>The same form with every secret in its settings masked again, to send back to the browser.</summary>
    public StorageForm Remasked()
        => TryParseSettings(out var settings, out _) ? this with { Settings = Masked(settings!.ToDictionary(s => s.Key, s => JsonSerializer.SerializeToElement(s.Value))) } : this with { Settings = "{\n}" };

    /// <summary>
    /// The storage's entry as storages.json would hold it, or null with the problems. For an edit
    /// (<paramref name="saved"/> is the storage's settings now) a setting taken out of the box is removed, so the
    /// entry is a merge patch: blank shared fields are removed too (their defaults apply).
    /// </summary>
    public JsonObject? ToEntry(IReadOnlyDictionary<string, JsonElement>? saved, List<string> problems)
    {
        var entry = new JsonObject();

        // The API is chosen once, when the storage is added: the edit form shows it and does not post it.
        if (Api.Length > 0)
        {
            entry["api"] = Api;
        }

        Text("name", Name);
        Text("read", Read);
        Text("storageUrl", StorageUrl);
        Text("cacheControl", CacheControl);
        Text("keyLayout", KeyLayout);
        Number("weight", Weight, "The weight");
        Number("redirectStatus", RedirectStatus, "The redirect status");
        entry["active"] = Active == "true";

        // Capacity is bytes or a size such as "20 GB"; the storages.json validator says which sizes it reads.
        entry["capacity"] = Capacity.Length == 0 ? null : long.TryParse(Capacity, NumberStyles.None, CultureInfo.InvariantCulture, out var bytes) ? bytes : Capacity;

        if (!TryParseSettings(out var settings, out var error))
        {
            problems.Add(error);
            return null;
        }

        foreach (var (field, value) in settings!)
        {
            if (Shared.Contains(field, StringComparer.OrdinalIgnoreCase))
            {
                problems.Add($"'{field}' has a box of its own on this form: it cannot be an API setting.");
            }

            entry[field] = value?.DeepClone();
        }

        foreach (var field in saved?.Keys.Where(f => !settings.ContainsKey(f)) ?? [])
        {
            entry[field] = null;
        }

        return problems.Count == 0 ? entry : null;

        void Text(string field, string value) => entry[field] = value.Length == 0 ? null : value;

        void Number(string field, string value, string name)
        {
            if (value.Length == 0)
            {
                entry[field] = null;
            }
            else if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            {
                entry[field] = number;
            }
            else
            {
                problems.Add($"{name} '{value}' is not a number.");
            }
        }
    }

    private bool TryParseSettings(out JsonObject? settings, out string error)
    {
        error = string.Empty;
        settings = null;
        try
        {
            settings = JsonNode.Parse(Settings.Length == 0 ? "{}" : Settings) as JsonObject;
        }
        catch (JsonException ex)
        {
            error = $"The API settings are not valid JSON: {ex.Message}";
            return false;
        }

        if (settings is null)
        {
            error = "The API settings must be a JSON object, such as { \"root\": \"data/files\" }.";
        }

        return settings is not null;
    }

    private static string Masked(IReadOnlyDictionary<string, JsonElement> settings)
        => JsonSerializer.Serialize(SecretMasking.Apply(settings), IndentedJson);

    private static readonly JsonSerializerOptions IndentedJson = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}

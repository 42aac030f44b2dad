using System.Text.Json;

namespace EdgeRouter.Admin;

/// <summary>Replaces the value of every setting that may hold a secret, so none is ever sent to a browser or an API client.</summary>
internal static class SecretMasking
{
    public const string Mask = "••••••••";

    // Field names of the storage APIs that hold credentials (accessKey, secretKey, applicationKey, accountKey,
    // password, privateKey, credentialsJson, connectionString, sasUrl, tempUrlKey, …).
    private static readonly string[] SecretParts = ["key", "secret", "password", "credential", "connectionstring", "sasurl", "token", "passphrase"];

    public static bool IsSecret(string field)
    {
        var lower = field.ToLowerInvariant();

        // Fingerprints and ids name a key but are not secret: they are what an operator compares by eye.
        return !lower.EndsWith("fingerprint", StringComparison.Ordinal) && lower is not ("keyid" or "keylayout")
            && SecretParts.Any(part => lower.Contains(part, StringComparison.Ordinal));
    }

    public static Dictionary<string, object?> Apply(IReadOnlyDictionary<string, JsonElement> settings)
        => settings.ToDictionary(s => s.Key, s => IsSecret(s.Key) ? Mask : (object?)s.Value, StringComparer.Ordinal);
}

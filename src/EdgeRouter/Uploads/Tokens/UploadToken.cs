using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using EdgeRouter.Configuration;
using Microsoft.Extensions.Options;

namespace EdgeRouter.Uploads.Tokens;

/// <summary>
/// What an upload token allows: until <see cref="ExpiresAt"/>, <see cref="Uses"/> uploads of at most
/// <see cref="MaxBytes"/>, of the <see cref="ContentTypes"/>, at the <see cref="Key"/>, under the
/// <see cref="KeyPrefix"/>, or (neither) at a generated key, and the object JSON is posted to its
/// <see cref="CallbackUrl"/> once stored. It only creates: never replaces, reads or deletes.
/// </summary>
public sealed record UploadToken(
    [property: JsonPropertyName("jti")] string Id,
    [property: JsonPropertyName("kid")] string KeyId,
    [property: JsonPropertyName("exp")] long ExpiresAtUnix,
    [property: JsonPropertyName("max")] long MaxBytes,
    [property: JsonPropertyName("types")] IReadOnlyList<string>? ContentTypes,
    [property: JsonPropertyName("key")] string? Key,
    [property: JsonPropertyName("prefix")] string? KeyPrefix,
    [property: JsonPropertyName("uses")] int Uses,
    [property: JsonPropertyName("meta")] JsonObject? Metadata,
    [property: JsonPropertyName("cb")] string? CallbackUrl = null)
{
    [JsonIgnore]
    public DateTimeOffset ExpiresAt => DateTimeOffset.FromUnixTimeSeconds(ExpiresAtUnix);
}

/// <summary>
/// Signs and verifies upload tokens: <c>ert1.{claims}.{signature}</c>, the claims base64url JSON, the signature the
/// HMAC-SHA256 of <c>ert1.{claims}</c> under the signing key the claims name (<c>kid</c>).
/// </summary>
public sealed class UploadTokenCodec(IOptions<EdgeRouterOptions> options)
{
    public const string Prefix = "ert1.";

    private readonly Dictionary<string, byte[]> _keys = options.Value.Uploads.Tokens.SigningKeys
        .ToDictionary(k => k.Id, k => Encoding.UTF8.GetBytes(k.Secret), StringComparer.Ordinal);

    private readonly string? _signingKeyId = options.Value.Uploads.Tokens.SigningKeys.LastOrDefault()?.Id;

    public bool Enabled => _signingKeyId is not null;

    /// <summary>The key id new tokens are signed with (the last one configured).</summary>
    public string SigningKeyId => _signingKeyId ?? throw new InvalidOperationException("No upload token signing key is configured.");

    public static bool LooksLikeToken(string presented) => presented.StartsWith(Prefix, StringComparison.Ordinal);

    public string Sign(UploadToken token)
    {
        var claims = Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(token));
        var signed = Prefix + claims;
        return signed + "." + Base64Url.EncodeToString(HMACSHA256.HashData(_keys[token.KeyId], Encoding.ASCII.GetBytes(signed)));
    }

    /// <summary>
    /// The token's claims, or why it is refused (a sentence for the 401). <paramref name="allowExpired"/> lets a
    /// resumable upload the token began go on after it expired: the token's use was its creation.
    /// </summary>
    public (UploadToken? Token, string? Problem) Verify(string presented, DateTimeOffset now, bool allowExpired = false)
    {
        var dot = presented.LastIndexOf('.');
        if (!LooksLikeToken(presented) || dot <= Prefix.Length)
        {
            return (null, "The upload token is malformed.");
        }

        UploadToken? token;
        try
        {
            token = JsonSerializer.Deserialize<UploadToken>(Base64Url.DecodeFromChars(presented.AsSpan(Prefix.Length, dot - Prefix.Length)));
        }
        catch (Exception ex) when (ex is JsonException or FormatException)
        {
            return (null, "The upload token is malformed.");
        }

        if (token is null || string.IsNullOrEmpty(token.Id))
        {
            return (null, "The upload token is malformed.");
        }

        if (!_keys.TryGetValue(token.KeyId ?? string.Empty, out var secret))
        {
            return (null, $"The upload token was signed with key '{token.KeyId}', which this router does not have (rotated out?).");
        }

        byte[] signature;
        try
        {
            signature = Base64Url.DecodeFromChars(presented.AsSpan(dot + 1));
        }
        catch (FormatException)
        {
            return (null, "The upload token is malformed.");
        }

        var expected = HMACSHA256.HashData(secret, Encoding.ASCII.GetBytes(presented.AsSpan(0, dot).ToString()));
        if (!CryptographicOperations.FixedTimeEquals(expected, signature))
        {
            return (null, "The upload token's signature is not valid.");
        }

        return token.ExpiresAt <= now && !allowExpired ? (null, $"The upload token expired at {token.ExpiresAt:O}.") : (token, null);
    }
}

using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using EdgeRouter.Configuration;
using EdgeRouter.Storage;
using Microsoft.Extensions.Options;

namespace EdgeRouter.Uploads.Tokens;

/// <summary>
/// <c>POST /api/v1/upload-tokens</c> (with an API key): a web app's backend mints a token that lets a browser upload
/// one object (or a few) straight to the router, within the claims it asks for.
/// </summary>
internal static class UploadTokenEndpoints
{
    public const string Route = "/api/v1/upload-tokens";
    private const int MaxUses = 1000;
    private const int MaxMetadataBytes = 4096;

    public static async Task<IResult> CreateAsync(HttpContext context, UploadTokenCodec codec, IOptions<EdgeRouterOptions> options, TimeProvider timeProvider)
    {
        if (!codec.Enabled)
        {
            return Problems.Result(StatusCodes.Status501NotImplemented, "Upload tokens are off", "No signing key is configured (EdgeRouter:Uploads:Tokens:SigningKeys).");
        }

        JsonObject request;
        try
        {
            request = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject ?? [];
        }
        catch (System.Text.Json.JsonException ex)
        {
            return Problems.Result(StatusCodes.Status400BadRequest, "Invalid token request", $"The body is not JSON: {ex.Message}");
        }

        var uploads = options.Value.Uploads;
        var lifetime = uploads.Tokens.MaxLifetime;
        var problems = new List<string>();
        var maxBytes = Number(request, "maxBytes", uploads.MaxUploadBytes, 1, uploads.MaxUploadBytes, problems);
        var expiresIn = Number(request, "expiresInSeconds", (long)lifetime.TotalSeconds, 1, (long)lifetime.TotalSeconds, problems);
        var uses = (int)Number(request, "uses", 1, 1, MaxUses, problems);
        var siteTypes = ContentTypePolicy.For(uploads).Allowed;
        string[]? types = null;
        if (request["contentTypes"] is JsonNode typeList)
        {
            types = typeList is JsonArray array && array.All(t => t is JsonValue v && v.TryGetValue<string>(out _)) ? [.. array.Select(t => ((string)t!).ToLowerInvariant())] : null;
            if (types is not { Length: > 0 } || types.Except(siteTypes).FirstOrDefault() is { } other && other.Length > 0)
            {
                problems.Add($"'contentTypes' must be a non-empty list of types this site accepts ({string.Join(", ", siteTypes)}).");
            }
        }

        var key = Text(request, "key", problems);
        var prefix = Text(request, "keyPrefix", problems);
        if (key is not null && prefix is not null)
        {
            problems.Add("Give 'key' or 'keyPrefix', not both.");
        }
        else if (key is not null && ObjectKeys.ValidateClientKey(key) is { } keyError)
        {
            problems.Add($"'key': {keyError}");
        }
        else if (prefix is not null && (prefix.Length == 0 || ObjectKeys.ValidatePrefix(prefix) is not null))
        {
            problems.Add($"'keyPrefix': {(prefix.Length == 0 ? "must not be empty." : ObjectKeys.ValidatePrefix(prefix))}");
        }

        var callback = Text(request, "callbackUrl", problems);
        if (callback is not null && (!Uri.TryCreate(callback, UriKind.Absolute, out var callbackUri)
            || !uploads.Tokens.CallbackOrigins.Contains(callbackUri.GetLeftPart(UriPartial.Authority), StringComparer.OrdinalIgnoreCase)))
        {
            problems.Add(uploads.Tokens.CallbackOrigins.Count == 0
                ? "'callbackUrl': no callback origins are configured (EdgeRouter:Uploads:Tokens:CallbackOrigins)."
                : $"'callbackUrl' must be an absolute URL on one of the callback origins ({string.Join(", ", uploads.Tokens.CallbackOrigins)}).");
        }

        var metadata = request["metadata"];
        if (metadata is not null and not JsonObject || metadata?.ToJsonString().Length > MaxMetadataBytes)
        {
            problems.Add($"'metadata' must be a JSON object of at most {MaxMetadataBytes} bytes.");
        }

        if (problems.Count > 0)
        {
            return Problems.Result(StatusCodes.Status400BadRequest, "Invalid token request", string.Join(" ", problems), new Dictionary<string, object?> { ["errors"] = problems });
        }

        var expiresAt = timeProvider.GetUtcNow().AddSeconds(expiresIn);
        var token = new UploadToken(
            Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16)),
            codec.SigningKeyId,
            expiresAt.ToUnixTimeSeconds(),
            maxBytes,
            types,
            key,
            prefix,
            uses,
            (JsonObject?)metadata?.DeepClone(),
            callback);
        context.Response.Headers.CacheControl = "no-store";
        return Results.Json(new { token = codec.Sign(token), expiresAt = token.ExpiresAt }, statusCode: StatusCodes.Status201Created);
    }

    private static long Number(JsonObject request, string name, long fallback, long min, long max, List<string> problems)
    {
        if (request[name] is null)
        {
            return fallback;
        }

        if (request[name] is JsonValue value && value.TryGetValue<long>(out var number) && number >= min && number <= max)
        {
            return number;
        }

        problems.Add($"'{name}' must be a whole number from {min} to {max}.");
        return fallback;
    }

    private static string? Text(JsonObject request, string name, List<string> problems)
    {
        if (request[name] is null)
        {
            return null;
        }

        if (request[name] is JsonValue value && value.TryGetValue<string>(out var text))
        {
            return text;
        }

        problems.Add($"'{name}' must be a string.");
        return null;
    }
}

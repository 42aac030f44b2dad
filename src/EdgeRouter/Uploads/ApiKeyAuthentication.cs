using System.Buffers.Text;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using EdgeRouter.Configuration;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace EdgeRouter.Uploads;

/// <summary>Upload API keys: kept only as SHA-256 hashes, compared in constant time.</summary>
public static class ApiKeys
{
    public const string Scheme = "EdgeRouterApiKey";

    /// <summary>The policy of the routes that create objects: an API key, or an upload token (which only creates).</summary>
    public const string UploadPolicy = "EdgeRouterUpload";

    /// <summary>The role of a request that presented an upload token rather than a key.</summary>
    internal const string TokenRole = "upload-token";
    public const string HeaderName = "X-Api-Key";
    public const string EnvironmentVariable = "EDGEROUTER_API_KEY";

    /// <summary>The form in which a key is stored in configuration: <c>sha256:&lt;64 hex digits&gt;</c>.</summary>
    public static string Hash(string key) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>A new random key of 256 bits, URL-safe.</summary>
    public static string Generate() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    /// <summary>The key a request presents: <c>Authorization: Bearer …</c>, else <c>X-Api-Key</c>; null when none.</summary>
    internal static string? Presented(IHeaderDictionary headers)
    {
        var authorization = headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            var token = authorization.AsSpan(7).Trim();
            return token.IsEmpty ? null : token.ToString();
        }

        var key = headers[HeaderName].ToString();
        return key.Length == 0 ? null : key;
    }

    internal static byte[][] ParseHashes(IEnumerable<string> hashes)
        => hashes.Select(h => Convert.FromHexString(h.AsSpan("sha256:".Length))).ToArray();

    /// <summary>True when <paramref name="presented"/> hashes to one of <paramref name="hashes"/>; every hash is compared, whatever matches.</summary>
    internal static bool Matches(string presented, byte[][] hashes)
    {
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        var length = Encoding.UTF8.GetByteCount(presented);
        var buffer = length <= 256 ? stackalloc byte[length] : new byte[length];
        Encoding.UTF8.GetBytes(presented, buffer);
        SHA256.HashData(buffer, digest);
        var match = false;
        foreach (var hash in hashes)
        {
            match |= CryptographicOperations.FixedTimeEquals(digest, hash);
        }

        return match;
    }
}

/// <summary>
/// Authenticates <c>Authorization: Bearer …</c> or <c>X-Api-Key</c> against the configured key hashes, or a bearer
/// upload token (<c>ert1.…</c>) by its signature; the token's claims go to the upload as a request feature.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> schemeOptions,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    IOptions<EdgeRouterOptions> routerOptions,
    Tokens.UploadTokenCodec tokens,
    TimeProvider timeProvider,
    [FromKeyedServices(ApiKeys.Scheme)] EdgeRouter.Admin.Authentication.FailedAttempts attempts) : AuthenticationHandler<AuthenticationSchemeOptions>(schemeOptions, loggerFactory, encoder)
{
    private const string LockedOutItem = "EdgeRouter.Uploads.LockedOut";

    private static readonly ClaimsPrincipal Anonymous = new(new ClaimsIdentity([new Claim(ClaimTypes.Name, "anonymous")], ApiKeys.Scheme));
    private static readonly ClaimsPrincipal KeyHolder = new(new ClaimsIdentity([new Claim(ClaimTypes.Name, "api-key")], ApiKeys.Scheme));
    private static readonly ClaimsPrincipal TokenHolder = new(new ClaimsIdentity([new Claim(ClaimTypes.Name, "upload-token"), new Claim(ClaimTypes.Role, ApiKeys.TokenRole)], ApiKeys.Scheme));

    private readonly byte[][] _hashes = ApiKeys.ParseHashes(routerOptions.Value.Uploads.ApiKeys);
    private readonly bool _allowAnonymous = routerOptions.Value.Uploads.AllowAnonymous;

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = ApiKeys.Presented(Request.Headers);
        if (presented is null)
        {
            return Task.FromResult(_allowAnonymous
                ? AuthenticateResult.Success(new AuthenticationTicket(Anonymous, ApiKeys.Scheme))
                : AuthenticateResult.NoResult());
        }

        if (tokens.Enabled && Tokens.UploadTokenCodec.LooksLikeToken(presented) && Request.Headers.Authorization.Count > 0)
        {
            var (token, problem) = tokens.Verify(presented, timeProvider.GetUtcNow());
            if (token is null)
            {
                return Task.FromResult(AuthenticateResult.Fail(problem!));
            }

            Context.Features.Set(token);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(TokenHolder, ApiKeys.Scheme)));
        }

        // The client's address: behind known proxies, the one X-Forwarded-For names (ForwardedHeaders middleware).
        var address = Context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (attempts.IsLockedOut(address))
        {
            Context.Items[LockedOutItem] = true;
            return Task.FromResult(AuthenticateResult.Fail("Too many wrong API keys from this address."));
        }

        var matches = ApiKeys.Matches(presented, _hashes);
        attempts.Record(address, matches);
        return Task.FromResult(matches
            ? AuthenticateResult.Success(new AuthenticationTicket(KeyHolder, ApiKeys.Scheme))
            : AuthenticateResult.Fail("The API key is not valid."));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (Context.Items.ContainsKey(LockedOutItem))
        {
            Response.Headers.CacheControl = "no-store";
            Response.Headers.RetryAfter = ((long)routerOptions.Value.Uploads.KeyLockoutDuration.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            await Problems.WriteAsync(Context, StatusCodes.Status429TooManyRequests, "Locked out", "Too many wrong API keys from this address; try again later.");
            return;
        }

        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer realm=\"EdgeRouter\"";
        Response.Headers.CacheControl = "no-store";
        var detail = ApiKeys.Presented(Request.Headers) is null
            ? $"An API key is required: send 'Authorization: Bearer <key>' or '{ApiKeys.HeaderName}: <key>'."
            : (await HandleAuthenticateOnceSafeAsync()).Failure?.Message ?? "The API key is not valid.";
        await Problems.WriteAsync(Context, StatusCodes.Status401Unauthorized, "Unauthorized", detail);
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.Headers.CacheControl = "no-store";
        await Problems.WriteAsync(Context, StatusCodes.Status403Forbidden, "Forbidden", "An upload token only creates objects; this call needs an API key.");
    }
}

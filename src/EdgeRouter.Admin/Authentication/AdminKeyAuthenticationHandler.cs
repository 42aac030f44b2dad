using System.Collections.Concurrent;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeRouter.Admin.Authentication;

/// <summary>
/// <c>Authorization: Bearer &lt;admin key&gt;</c>, compared in constant time against the configured hashes. An address
/// that fails <see cref="AdminOptions.MaxFailedAttempts"/> times is refused for <see cref="AdminOptions.LockoutDuration"/>,
/// even with the right key, so a key cannot be guessed at speed.
/// </summary>
internal sealed class AdminKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    AdminLockout lockout)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "EdgeRouterAdminKey";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var address = Context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (lockout.IsLockedOut(address))
        {
            Context.Items[AdminLockout.LockedOutItem] = true;
            return Task.FromResult(AuthenticateResult.Fail("Too many failed attempts from this address."));
        }

        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (lockout.Verify(address, header["Bearer ".Length..]) is not { } name)
        {
            return Task.FromResult(AuthenticateResult.Fail("The admin key is not valid."));
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, name)], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var locked = Context.Items.ContainsKey(AdminLockout.LockedOutItem);
        Response.StatusCode = locked ? StatusCodes.Status429TooManyRequests : StatusCodes.Status401Unauthorized;
        if (!locked)
        {
            Response.Headers.WWWAuthenticate = "Bearer realm=\"EdgeRouter admin\"";
        }

        await Results.Problem(
            title: locked ? "Locked out" : "Admin key required",
            detail: locked ? "Too many failed attempts from this address; try again later." : "Send 'Authorization: Bearer <admin key>'.",
            statusCode: Response.StatusCode).ExecuteAsync(Context);
    }
}

/// <summary>Failed admin sign-ins per address, and the lock-outs they earn.</summary>
internal sealed class AdminLockout(IOptions<AdminOptions> options, TimeProvider timeProvider)
{
    public const string LockedOutItem = "EdgeRouter.Admin.LockedOut";

    private readonly FailedAttempts _attempts = new(options.Value.MaxFailedAttempts, options.Value.LockoutDuration, timeProvider);

    public bool IsLockedOut(string address) => _attempts.IsLockedOut(address);

    /// <summary>
    /// Checks <paramref name="key"/> for <paramref name="address"/>: a wrong one counts towards its lock-out, a right
    /// one clears the count. Returns the holder's audit name, or null. Callers check <see cref="IsLockedOut"/> first.
    /// </summary>
    public string? Verify(string address, string key)
    {
        var name = AdminKeys.Verify(options.Value, key);
        _attempts.Record(address, succeeded: name is not null);
        return name;
    }
}

/// <summary>
/// Failed attempts with a key, counted per client address: <c>limit</c> of them in a row lock the address out for
/// <c>lockout</c>; a right key clears the count. The admin's key and the upload keys each have one.
/// </summary>
public sealed class FailedAttempts(int limit, TimeSpan lockout, TimeProvider timeProvider)
{
    private readonly ConcurrentDictionary<string, (int Failures, DateTimeOffset Until)> _addresses = new(StringComparer.Ordinal);

    public bool IsLockedOut(string address)
        => _addresses.TryGetValue(address, out var state) && state.Until > timeProvider.GetUtcNow();

    public void Record(string address, bool succeeded)
    {
        if (succeeded)
        {
            _addresses.TryRemove(address, out _);
            return;
        }

        var now = timeProvider.GetUtcNow();
        _addresses.AddOrUpdate(
            address,
            _ => limit <= 1 ? (1, now + lockout) : (1, DateTimeOffset.MinValue),
            (_, state) =>
            {
                var failures = state.Until != DateTimeOffset.MinValue && state.Until <= now ? 1 : state.Failures + 1;
                return failures >= limit ? (failures, now + lockout) : (failures, DateTimeOffset.MinValue);
            });
    }
}

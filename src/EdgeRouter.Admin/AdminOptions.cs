using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace EdgeRouter.Admin;

/// <summary>The <c>Admin</c> section. With no <see cref="KeyHashes"/> the admin is off (and says so in the log).</summary>
public sealed class AdminOptions
{
    public const string SectionName = "Admin";

    /// <summary>The authentication scheme that takes the admin key as a bearer token (registered only while the admin is on).</summary>
    public const string KeyScheme = Authentication.AdminKeyAuthenticationHandler.SchemeName;

    /// <summary>Hashes of the admin keys, <c>sha256:&lt;hex&gt;</c>, separate from upload keys.</summary>
    public List<string> KeyHashes { get; set; } = [];

    /// <summary>Where the admin is mounted.</summary>
    public string PathBase { get; set; } = "/admin";

    /// <summary>Failed sign-ins from one address before it is locked out.</summary>
    public int MaxFailedAttempts { get; set; } = 5;

    public TimeSpan LockoutDuration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// When set, the admin answers only on connections to this local port, which the router must also listen on
    /// (list it in its URLs); under the public host name it does not exist. Unset: the admin shares the router's ports.
    /// </summary>
    public int? Port { get; set; }

    public bool Enabled => KeyHashes.Count > 0;
}

internal sealed partial class AdminOptionsValidator : IValidateOptions<AdminOptions>
{
    public ValidateOptionsResult Validate(string? name, AdminOptions options)
    {
        var errors = new List<string>();
        foreach (var hash in options.KeyHashes)
        {
            if (!KeyHash().IsMatch(hash))
            {
                errors.Add("Admin:KeyHashes: each entry must be 'sha256:' and 64 hex digits (never the plain key).");
            }
        }

        if (!options.PathBase.StartsWith('/') || options.PathBase.EndsWith('/'))
        {
            errors.Add($"Admin:PathBase: '{options.PathBase}' must start with '/' and not end with one, e.g. '/admin'.");
        }

        if (options.Port is < 1 or > 65535)
        {
            errors.Add($"Admin:Port: {options.Port} is not a TCP port (1-65535).");
        }

        if (options.MaxFailedAttempts < 1 || options.LockoutDuration <= TimeSpan.Zero)
        {
            errors.Add("Admin:MaxFailedAttempts and Admin:LockoutDuration must be positive.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    [GeneratedRegex("^sha256:[0-9a-f]{64}$")]
    private static partial Regex KeyHash();
}

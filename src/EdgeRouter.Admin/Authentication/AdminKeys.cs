using System.Security.Cryptography;
using System.Text;

namespace EdgeRouter.Admin.Authentication;

/// <summary>Checks an admin key against the configured hashes, for the API's bearer scheme and the UI's sign-in alike.</summary>
internal static class AdminKeys
{
    /// <summary>The name audit lines use for the holder of <paramref name="key"/> (never the key), or null when it is not an admin key.</summary>
    public static string? Verify(AdminOptions options, string key)
    {
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(key.Trim()));
        var match = false;

        // Every hash is compared, in constant time, so the timing says nothing about which one came close.
        foreach (var hash in options.KeyHashes)
        {
            match |= CryptographicOperations.FixedTimeEquals(digest, Convert.FromHexString(hash.AsSpan("sha256:".Length)));
        }

        return match ? "admin-key:" + Convert.ToHexStringLower(digest.AsSpan(0, 4)) : null;
    }
}

using System.Buffers;
using System.Globalization;
using System.Text;

namespace EdgeRouter.Storage;

/// <summary>
/// The one place where object keys are checked and turned into URL paths. Every store and both the upload
/// and read paths go through it, so a key that passes here cannot escape a storage root on any backend.
/// </summary>
public static class ObjectKeys
{
    public const int MaxKeyBytes = 1024;

    /// <summary>Longest segment most file systems (ext4, NTFS, FTP/SFTP servers) accept.</summary>
    public const int MaxSegmentBytes = 255;

    /// <summary>How the router's own temporary names begin; no segment of a key may.</summary>
    public const string TemporaryPrefix = ".er-";

    /// <summary>Where the router keeps its own objects on a storage (the admin's connection test); no client's key may start so.</summary>
    public const string InternalPrefix = ".edgerouter/";

    // An array, not an IReadOnlyList: validation runs on every read and must not allocate an enumerator.
    private static readonly string[] Reserved = ["api/", "admin", "healthz", "readyz", "metrics"];

    // RFC 3986 unreserved characters and '/': a key made only of these needs no escaping in a URL, and cannot hold a
    // control, formatting, percent or backslash character, so only its structure is left to check.
    private static readonly SearchValues<char> PlainChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/");

    /// <summary>Paths the router answers itself; a key may not start with them.</summary>
    public static IReadOnlyList<string> ReservedPrefixes => Reserved;

    /// <summary>Returns null when <paramref name="key"/> is acceptable, else a message saying precisely why not.</summary>
    public static string? Validate(string? key)
    {
        if (string.IsNullOrEmpty(key))
        {
            return "The key is empty.";
        }

        var plain = IsUrlSafe(key);
        if (key.Length > MaxKeyBytes || (!plain && Encoding.UTF8.GetByteCount(key) > MaxKeyBytes))
        {
            // GetByteCount also rejects nothing on lone surrogates, so those are checked below.
            return $"The key is longer than {MaxKeyBytes} bytes in UTF-8.";
        }

        if (key[0] == '/')
        {
            return "The key must not start with '/'.";
        }

        if (key.Length >= 2 && char.IsAsciiLetter(key[0]) && key[1] == ':')
        {
            return "The key must not start with a drive letter.";
        }

        if (!plain && FindBadCharacter(key) is { } problem)
        {
            return problem;
        }

        foreach (var prefix in Reserved)
        {
            if (key.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return $"The key must not start with the reserved prefix '{prefix}'.";
            }
        }

        var segmentStart = 0;
        for (var i = 0; i <= key.Length; i++)
        {
            if (i < key.Length && key[i] != '/')
            {
                continue;
            }

            var segment = key.AsSpan(segmentStart, i - segmentStart);
            if (segment.IsEmpty)
            {
                return i == key.Length ? "The key must not end with '/'." : "The key must not contain an empty segment ('//').";
            }

            if (segment is "." or "..")
            {
                return $"The key must not contain a '{segment}' segment.";
            }

            if (segment.Length > MaxSegmentBytes || (!plain && Encoding.UTF8.GetByteCount(segment) > MaxSegmentBytes))
            {
                return $"A segment of the key is longer than {MaxSegmentBytes} bytes.";
            }

            if (segment.StartsWith(TemporaryPrefix, StringComparison.OrdinalIgnoreCase))
            {
                return $"A segment of the key must not start with '{TemporaryPrefix}' (the router's own temporary names).";
            }

            if (segment[^1] is ' ' or '.')
            {
                // Windows-hosted FTP/SMB servers silently strip these, so two keys would share one file.
                return "A segment of the key must not end with a space or '.'.";
            }

            segmentStart = i + 1;
        }

        return null;
    }

    public static bool IsValid(string? key) => Validate(key) is null;

    /// <summary>Null when <paramref name="prefix"/> may start a key (empty, or a key's first characters), else why not.</summary>
    public static string? ValidatePrefix(string prefix)
        => prefix.Length == 0 ? null : Validate(prefix + "x") is { } error ? error.Replace("The key", "The prefix", StringComparison.Ordinal) : null;

    /// <summary>
    /// Whether a location on a storage is the router's own, never an object: under <see cref="InternalPrefix"/>
    /// (probes, segments) or with a segment that starts with <see cref="TemporaryPrefix"/> (a staged write).
    /// </summary>
    public static bool IsInternal(string location)
        => location.StartsWith(InternalPrefix, StringComparison.OrdinalIgnoreCase)
            || location.StartsWith(TemporaryPrefix, StringComparison.OrdinalIgnoreCase)
            || location.Contains("/" + TemporaryPrefix, StringComparison.OrdinalIgnoreCase);

    /// <summary><see cref="Validate"/>, and not in the router's own space: for keys a client chooses.</summary>
    public static string? ValidateClientKey(string? key)
        => Validate(key) ?? (key!.StartsWith(InternalPrefix, StringComparison.OrdinalIgnoreCase) ? $"The key must not start with '{InternalPrefix}' (the router's own objects)." : null);

    /// <summary>
    /// A new location for a replacement of <paramref name="key"/>: beside it, with its extension (web servers in front
    /// of a storage type files by it), and <paramref name="id"/> (random) so it names no other version.
    /// </summary>
    public static string NewLocation(string key, string id)
    {
        var slash = key.LastIndexOf('/');
        var directory = key[..(slash + 1)];
        var name = key[(slash + 1)..];
        var dot = name.LastIndexOf('.');
        var extension = dot > 0 ? name[dot..] : string.Empty;
        var location = string.Concat(directory, name[..^extension.Length], "~", id, extension);
        return IsValid(location) ? location : string.Concat(directory, id, extension);
    }

    /// <summary>
    /// The file name under which a store stages a write to <paramref name="location"/>, in the location's folder, before
    /// moving it into place: hidden, and named after the location, so the janitor finds what a crashed write left
    /// without listing (a location has one writer at a time).
    /// </summary>
    public static string TemporaryFileName(string location)
    {
        var hash = System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(location));
        return string.Concat(TemporaryPrefix, Convert.ToHexStringLower(hash.AsSpan(0, 16)), ".tmp");
    }

    /// <summary>Percent-encodes each segment (RFC 3986 unreserved characters stay as they are) and keeps the '/'s.</summary>
    public static string ToUrlPath(string key)
    {
        if (IsUrlSafe(key))
        {
            return key;
        }

        var builder = new StringBuilder(key.Length + 16);
        foreach (var range in key.AsSpan().Split('/'))
        {
            if (builder.Length > 0 || range.Start.Value > 0)
            {
                builder.Append('/');
            }

            builder.Append(Uri.EscapeDataString(key[range]));
        }

        return builder.ToString();
    }

    private static bool IsUrlSafe(string key) => !key.AsSpan().ContainsAnyExcept(PlainChars);

    private static string? FindBadCharacter(string key)
    {
        for (var i = 0; i < key.Length; i++)
        {
            var c = key[i];
            if (c == '\\')
            {
                return "The key must not contain '\\'.";
            }

            if (char.IsControl(c))
            {
                return $"The key contains the control character U+{(int)c:X4} at position {i}.";
            }

            if (char.IsSurrogate(c))
            {
                if (char.IsHighSurrogate(c) && i + 1 < key.Length && char.IsLowSurrogate(key[i + 1]))
                {
                    i++;
                    continue;
                }

                return $"The key contains an unpaired surrogate at position {i}.";
            }

            if (c == '\uFFFD')
            {
                // What a decoder leaves where the request had bytes that are not UTF-8.
                return $"The key contains U+FFFD at position {i}: the request's path was not valid UTF-8.";
            }

            // Bidi overrides and zero-width characters make a key display as another one.
            if (CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.Format)
            {
                return $"The key contains the invisible formatting character U+{(int)c:X4} at position {i}.";
            }

            if (c == '%' && i + 2 < key.Length && char.IsAsciiHexDigit(key[i + 1]) && char.IsAsciiHexDigit(key[i + 2]))
            {
                // The request path has been decoded once already; a second escape could become '/', '\' or '..' downstream.
                return $"The key contains the percent-encoded sequence '{key.AsSpan(i, 3)}' after decoding.";
            }
        }

        return null;
    }
}

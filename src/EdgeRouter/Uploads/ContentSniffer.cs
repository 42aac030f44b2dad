using System.Collections.Frozen;
using System.Text;

namespace EdgeRouter.Uploads;

/// <summary>Recognises a file's real type from its first bytes, so a disguised file cannot pass as an image.</summary>
public static class ContentSniffer
{
    /// <summary>How many leading bytes <see cref="Detect"/> needs at most.</summary>
    public const int HeadLength = 512;

    /// <summary>Types that always carry a signature: a body claiming one of them without it is disguised.</summary>
    private static readonly FrozenSet<string> SignedTypes = FrozenSet.Create(
        StringComparer.Ordinal,
        "image/jpeg", "image/png", "image/gif", "image/webp", "image/avif", "image/heic", "image/bmp", "image/tiff",
        "image/x-icon", "application/pdf", "video/mp4", "video/quicktime", "video/webm");

    private static readonly FrozenDictionary<string, string> Aliases = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["image/jpg"] = "image/jpeg",
        ["image/pjpeg"] = "image/jpeg",
        ["image/x-png"] = "image/png",
        ["image/x-ms-bmp"] = "image/bmp",
        ["image/vnd.microsoft.icon"] = "image/x-icon",
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    private static readonly FrozenDictionary<string, string> Extensions = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["image/jpeg"] = ".jpg",
        ["image/png"] = ".png",
        ["image/gif"] = ".gif",
        ["image/webp"] = ".webp",
        ["image/avif"] = ".avif",
        ["image/heic"] = ".heic",
        ["image/bmp"] = ".bmp",
        ["image/tiff"] = ".tiff",
        ["image/x-icon"] = ".ico",
        ["image/svg+xml"] = ".svg",
        ["application/pdf"] = ".pdf",
        ["video/mp4"] = ".mp4",
        ["video/quicktime"] = ".mov",
        ["video/webm"] = ".webm",
        ["text/plain"] = ".txt",
        ["text/html"] = ".html",
        ["application/json"] = ".json",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>The type the bytes show, or null when they carry no signature this sniffer knows.</summary>
    public static string? Detect(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]))
        {
            return "image/jpeg";
        }

        if (head.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]))
        {
            return "image/png";
        }

        if (head.StartsWith("GIF87a"u8) || head.StartsWith("GIF89a"u8))
        {
            return "image/gif";
        }

        if (head.Length >= 12 && head.StartsWith("RIFF"u8) && head[8..12].SequenceEqual("WEBP"u8))
        {
            return "image/webp";
        }

        if (head.Length >= 14 && head.StartsWith("BM"u8) && head[6..10].SequenceEqual(new byte[4]))
        {
            return "image/bmp";
        }

        if (head.StartsWith("II*\0"u8) || head.StartsWith("MM\0*"u8))
        {
            return "image/tiff";
        }

        if (head.StartsWith((ReadOnlySpan<byte>)[0x00, 0x00, 0x01, 0x00]) && head.Length >= 6 && head[4] + head[5] > 0)
        {
            return "image/x-icon";
        }

        if (head.StartsWith("%PDF-"u8))
        {
            return "application/pdf";
        }

        if (head.StartsWith((ReadOnlySpan<byte>)[0x1A, 0x45, 0xDF, 0xA3]))
        {
            return "video/webm";
        }

        if (head.Length >= 12 && head[4..8].SequenceEqual("ftyp"u8))
        {
            return head[8..12] switch
            {
                var b when b.SequenceEqual("avif"u8) || b.SequenceEqual("avis"u8) => "image/avif",
                var b when b.SequenceEqual("heic"u8) || b.SequenceEqual("heix"u8) || b.SequenceEqual("mif1"u8) => "image/heic",
                var b when b.SequenceEqual("qt  "u8) => "video/quicktime",
                _ => "video/mp4",
            };
        }

        return DetectMarkup(head);
    }

    /// <summary>The canonical name of a declared type (no parameters, lower case, aliases resolved), or null when none was declared.</summary>
    public static string? Normalize(string? declared)
    {
        if (string.IsNullOrWhiteSpace(declared))
        {
            return null;
        }

        var semicolon = declared.IndexOf(';', StringComparison.Ordinal);
        var type = (semicolon < 0 ? declared : declared[..semicolon]).Trim().ToLowerInvariant();
        if (type is "application/octet-stream" or "binary/octet-stream")
        {
            return null;
        }

        return Aliases.GetValueOrDefault(type, type);
    }

    public static bool HasSignature(string contentType) => SignedTypes.Contains(contentType);

    /// <summary>The file extension for a verified type, with its dot, or empty when there is none.</summary>
    public static string ExtensionFor(string contentType) => Extensions.GetValueOrDefault(contentType, string.Empty);

    private static readonly Microsoft.AspNetCore.StaticFiles.FileExtensionContentTypeProvider WebServerTypes = new();

    /// <summary>The type a web server would give a file of this name (by its extension), or null.</summary>
    public static string? TypeFromName(string key)
        => WebServerTypes.TryGetContentType(key[(key.LastIndexOf('/') + 1)..], out var type) ? type : null;

    /// <summary>
    /// Null when the key's extension names the content's type (or the key has none: the catalog types it); else why
    /// not. Web servers type files by extension: PNG bytes under <c>evil.html</c> would be served as a page by any
    /// server in front of the storage (redirect mode, an FTP or SFTP site's web server).
    /// </summary>
    public static string? CheckKeyExtension(string key, string contentType)
    {
        var name = key[(key.LastIndexOf('/') + 1)..];
        var dot = name.LastIndexOf('.');
        if (dot < 0)
        {
            return null;
        }

        var extension = name[dot..].ToLowerInvariant();
        var expected = ExtensionFor(contentType);
        if (expected == extension
            || (WebServerTypes.TryGetContentType(name, out var served) && string.Equals(served, contentType, StringComparison.OrdinalIgnoreCase)))
        {
            return null;
        }

        return $"The key's extension '{extension}' does not match its content ('{contentType}'), and a web server would serve it as "
            + (served is null ? "an unknown type" : $"'{served}'")
            + (expected.Length > 0 ? $". Use '{expected}', or a key without an extension." : ". Use a key without an extension.");
    }

    // Markup is what turns an upload into stored XSS; it is recognised so that a text type cannot smuggle it in.
    private static string? DetectMarkup(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            head = head[3..];
        }

        var text = Encoding.ASCII.GetString(head.TrimStart(" \t\r\n"u8)).ToLowerInvariant();
        if (text.StartsWith("<svg", StringComparison.Ordinal) || (text.StartsWith("<?xml", StringComparison.Ordinal) && text.Contains("<svg", StringComparison.Ordinal)))
        {
            return "image/svg+xml";
        }

        return text.StartsWith("<!doctype html", StringComparison.Ordinal) || text.StartsWith("<html", StringComparison.Ordinal)
            || text.StartsWith("<script", StringComparison.Ordinal) || text.StartsWith("<head", StringComparison.Ordinal)
            || text.StartsWith("<body", StringComparison.Ordinal) || text.StartsWith("<iframe", StringComparison.Ordinal)
            ? "text/html"
            : null;
    }
}

/// <summary>Decides the type an upload is stored with: what its bytes show, checked against what it declared and the allow-list.</summary>
internal sealed class ContentTypePolicy(IReadOnlyCollection<string> allowed)
{
    /// <summary>The policy of <c>Uploads:AllowedContentTypes</c> (its defaults when empty).</summary>
    public static ContentTypePolicy For(Configuration.UploadOptions uploads) => new(uploads.AllowedContentTypes.Count > 0
        ? [.. uploads.AllowedContentTypes.Select(t => t.ToLowerInvariant())]
        : Configuration.UploadOptions.DefaultAllowedContentTypes);

    public IReadOnlyCollection<string> Allowed => allowed;

    /// <summary>The verified type, or an error saying precisely why the body is refused (415).</summary>
    public (string? ContentType, string? Error) Resolve(string? declared, ReadOnlySpan<byte> head)
    {
        var claimed = ContentSniffer.Normalize(declared);
        var detected = ContentSniffer.Detect(head);
        string type;
        if (detected is not null)
        {
            if (claimed is not null && claimed != detected)
            {
                return (null, $"The body was declared as '{claimed}' but its content is '{detected}'.");
            }

            type = detected;
        }
        else if (claimed is null)
        {
            return (null, "The content type could not be determined: declare it with Content-Type, or send a known file format.");
        }
        else if (ContentSniffer.HasSignature(claimed))
        {
            return (null, $"The body was declared as '{claimed}' but its content is not a '{claimed}' file.");
        }
        else
        {
            type = claimed;
        }

        return allowed.Contains(type)
            ? (type, null)
            : (null, $"The content type '{type}' is not accepted (accepted: {string.Join(", ", allowed)}).");
    }
}

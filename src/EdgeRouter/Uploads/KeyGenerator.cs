using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using EdgeRouter.Configuration;

namespace EdgeRouter.Uploads;

/// <summary>Makes keys as <c>{layout}{random id}{.ext}</c>; the id is 96 random bits, so URLs cannot be guessed.</summary>
public sealed class KeyGenerator(TimeProvider timeProvider)
{
    public string Generate(KeyLayout layout, string extension)
    {
        var id = NewId();
        return layout == KeyLayout.Dated
            ? string.Concat(timeProvider.GetUtcNow().ToString("yyyy/MM/dd/", CultureInfo.InvariantCulture), id, extension)
            : string.Concat(id, extension);
    }

    /// <summary>96 random bits, URL-safe: a key's id, or what tells a replacement's location from the key's.</summary>
    public string NewId() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(12));
}

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
        var id = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(12));
        return layout == KeyLayout.Dated
            ? string.Concat(timeProvider.GetUtcNow().ToString("yyyy/MM/dd/", CultureInfo.InvariantCulture), id, extension)
            : string.Concat(id, extension);
    }
}

using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace EdgeRouter.Tests.TestUtilities;

/// <summary>Bodies with real file signatures, and helpers to upload them.</summary>
public static class TestFiles
{
    /// <summary>A PNG signature followed by <paramref name="size"/> minus 8 random bytes.</summary>
    public static byte[] Png(int size = 1024)
    {
        var bytes = RandomNumberGenerator.GetBytes(Math.Max(size, 8));
        byte[] signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
        signature.CopyTo(bytes, 0);
        return bytes;
    }

    public static byte[] Jpeg(int size = 1024)
    {
        var bytes = RandomNumberGenerator.GetBytes(Math.Max(size, 4));
        bytes[0] = 0xFF;
        bytes[1] = 0xD8;
        bytes[2] = 0xFF;
        bytes[3] = 0xE0;
        return bytes;
    }

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static ByteArrayContent Raw(byte[] bytes, string contentType)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        return content;
    }

    public static MultipartFormDataContent Multipart(byte[] bytes, string contentType, string fileName = "photo.png")
    {
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        form.Add(file, "file", fileName);
        return form;
    }
}

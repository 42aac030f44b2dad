namespace EdgeRouter.LoadTests;

/// <summary>Bodies the router accepts as images: random bytes behind a PNG signature, the type it sniffs them as.</summary>
internal static class RandomPng
{
    public static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    public static byte[] Create(long size)
    {
        var body = new byte[size];
        Random.Shared.NextBytes(body);
        Signature.CopyTo(body);
        return body;
    }
}

using System.Security.Cryptography;

namespace EdgeRouter.Storage;

/// <summary>Passes reads through, counting them and hashing them with SHA-256, so a copy checks what it read as it streams.</summary>
public sealed class HashingReadStream(Stream inner) : ReadOnlyStream
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    public long Count { get; private set; }

    /// <summary>The SHA-256 of every byte read so far, in lowercase hex (as the catalog keeps it).</summary>
    public string Sha256Hex => Convert.ToHexStringLower(_hash.GetCurrentHash());

    public override int Read(byte[] buffer, int offset, int count)
    {
        var read = inner.Read(buffer, offset, count);
        Took(buffer.AsSpan(offset, read));
        return read;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken);
        Took(buffer.Span[..read]);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Reads <paramref name="content"/> to its end and returns its SHA-256 (hex) and length.</summary>
    public static async Task<(string Sha256, long Length)> HashAsync(Stream content, CancellationToken cancellationToken)
    {
        await using var hashing = new HashingReadStream(content);
        await hashing.CopyToAsync(Stream.Null, 128 * 1024, cancellationToken);
        return (hashing.Sha256Hex, hashing.Count);
    }

    /// <summary>Reads the object at <paramref name="location"/> whole and returns its SHA-256 and length; null when there is none.</summary>
    public static async Task<(string Sha256, long Length)?> HashObjectAsync(IObjectStore store, string location, CancellationToken cancellationToken)
    {
        var content = await store.OpenReadAsync(location, null, cancellationToken);
        if (content is null)
        {
            return null;
        }

        await using (content)
        {
            return await HashAsync(content.Content, cancellationToken);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
        }

        base.Dispose(disposing);
    }

    private void Took(ReadOnlySpan<byte> bytes)
    {
        _hash.AppendData(bytes);
        Count += bytes.Length;
    }
}

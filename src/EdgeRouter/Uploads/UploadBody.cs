using System.Buffers;
using System.Security.Cryptography;

namespace EdgeRouter.Uploads;

/// <summary>Why reading the client's body stopped.</summary>
public enum UploadBodyError
{
    /// <summary>The body passed the size limit (413).</summary>
    TooLarge,

    /// <summary>The client stopped sending or the connection broke (400).</summary>
    ClientAborted,

    /// <summary>The router's own spool folder could not take the body (507): no storage is at fault.</summary>
    SpoolFailed,
}

/// <summary>Thrown through a store's write when the client's body, not the backend, is at fault.</summary>
public sealed class UploadBodyException : Exception
{
    public UploadBodyException(UploadBodyError error, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Error = error;
    }

    public UploadBodyException()
    {
    }

    public UploadBodyException(string message)
        : base(message)
    {
    }

    public UploadBodyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public UploadBodyError Error { get; }
}

/// <summary>
/// The body of one upload: read once from the client, limited in size, hashed with SHA-256 while it streams, and
/// spooled (in memory up to 256 KiB, then in a temporary file) so that a write that fails on one storage can be
/// replayed on the next one. Only one reader is active at a time.
/// </summary>
internal sealed class UploadBody : IAsyncDisposable
{
    private const int MemorySpoolBytes = 256 * 1024;

    private readonly Stream _source;
    private readonly long _limit;
    private readonly string _spoolDirectory;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private byte[]? _memory = ArrayPool<byte>.Shared.Rent(MemorySpoolBytes);
    private FileStream? _file;
    private byte[]? _sha256;

    public UploadBody(Stream source, long limit, string spoolDirectory)
    {
        _source = source;
        _limit = limit;
        _spoolDirectory = spoolDirectory;
    }

    /// <summary>Bytes received from the client so far.</summary>
    public long Received { get; private set; }

    /// <summary>True once the client's body has been read to its end.</summary>
    public bool IsComplete => _sha256 is not null;

    public string Sha256Hex => Convert.ToHexStringLower(_sha256 ?? throw new InvalidOperationException("The body has not been read to its end."));

    /// <summary>Reads until <paramref name="count"/> bytes (or the whole body, if shorter) are held, and returns them.</summary>
    public async ValueTask<ReadOnlyMemory<byte>> PeekAsync(int count, CancellationToken cancellationToken)
    {
        var buffer = new byte[Math.Min(count, MemorySpoolBytes)];
        while (Received < buffer.Length && !IsComplete)
        {
            await PullAsync(buffer.AsMemory((int)Received), cancellationToken);
        }

        return _memory.AsMemory(0, (int)Math.Min(Received, buffer.Length));
    }

    /// <summary>A stream over the whole body from its first byte: what was spooled, then the rest from the client.</summary>
    public Stream OpenRead() => new Reader(this);

    public async ValueTask DisposeAsync()
    {
        _hash.Dispose();
        if (_memory is not null)
        {
            ArrayPool<byte>.Shared.Return(_memory);
            _memory = null;
        }

        if (_file is not null)
        {
            await _file.DisposeAsync();
        }
    }

    private async ValueTask<int> ReadAtAsync(long position, Memory<byte> destination, CancellationToken cancellationToken)
    {
        if (position < Received)
        {
            var count = (int)Math.Min(destination.Length, Received - position);
            if (_file is null)
            {
                _memory.AsSpan((int)position, count).CopyTo(destination.Span);
                return count;
            }

            return await RandomAccess.ReadAsync(_file.SafeFileHandle, destination[..count], position, cancellationToken);
        }

        return IsComplete ? 0 : await PullAsync(destination, cancellationToken);
    }

    private async ValueTask<int> PullAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        int read;
        try
        {
            read = await _source.ReadAsync(destination, cancellationToken);
        }
        catch (Exception ex) when (ex is not UploadBodyException)
        {
            throw new UploadBodyException(UploadBodyError.ClientAborted, "The client's body could not be read to its end.", ex);
        }

        if (read == 0)
        {
            _sha256 = _hash.GetHashAndReset();
            return 0;
        }

        if (Received + read > _limit)
        {
            throw new UploadBodyException(UploadBodyError.TooLarge, $"The upload is larger than the limit of {_limit} bytes.");
        }

        var chunk = destination[..read];
        _hash.AppendData(chunk.Span);
        await SpoolAsync(chunk, cancellationToken);
        Received += read;
        return read;
    }

    private async ValueTask SpoolAsync(ReadOnlyMemory<byte> chunk, CancellationToken cancellationToken)
    {
        if (_file is null && Received + chunk.Length <= MemorySpoolBytes)
        {
            chunk.Span.CopyTo(_memory.AsSpan((int)Received));
            return;
        }

        try
        {
            if (_file is null)
            {
                Directory.CreateDirectory(_spoolDirectory);
                var path = Path.Combine(_spoolDirectory, $"upload-{Guid.NewGuid():N}.spool");
                _file = new FileStream(
                    path,
                    FileMode.CreateNew,
                    FileAccess.ReadWrite,
                    FileShare.None,
                    bufferSize: 0,
                    FileOptions.Asynchronous | (OperatingSystem.IsWindows() ? FileOptions.DeleteOnClose : FileOptions.None));
                if (!OperatingSystem.IsWindows())
                {
                    // Unlinked while open: the handle keeps the bytes, and a killed process leaves nothing behind.
                    File.Delete(path);
                }

                await RandomAccess.WriteAsync(_file.SafeFileHandle, _memory.AsMemory(0, (int)Received), 0, cancellationToken);
            }

            await RandomAccess.WriteAsync(_file.SafeFileHandle, chunk, Received, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The message names the reason, never the folder: it reaches the client.
            var reason = EdgeRouter.Storage.StorageException.IsDiskFull(ex) ? "its disk is full" : "it could not be written";
            throw new UploadBodyException(UploadBodyError.SpoolFailed, $"The router could not spool the upload to its own disk: {reason}. No storage is at fault; try again later.", ex);
        }
    }

    private sealed class Reader(UploadBody body) : EdgeRouter.Storage.ReadOnlyStream
    {
        private long _position;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await body.ReadAtAsync(_position, buffer, cancellationToken);
            _position += read;
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        // Stores copy asynchronously; a synchronous read would block a thread on the client's network.
        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    }
}

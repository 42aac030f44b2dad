using Renci.SshNet;
using Renci.SshNet.Common;

namespace EdgeRouter.Storage.Sftp;

/// <summary>
/// Objects as files under a folder of an SFTP server. Uploads stream to a hidden temporary name in the target
/// folder and are renamed into place, so a half-written file is never visible at its key.
/// </summary>
/// <remarks>
/// No synchronous SSH.NET call runs on the caller's thread: with inline socket completions (the shipped setting) that
/// thread may be the one that must read the server's answer, and the call then waits for itself until it times out.
/// So only the library's async calls are used, and the two it has no async form of (a posix rename, closing a file)
/// run on the thread pool. An upload keeps several write requests in flight (<see cref="UploadSource"/>): one at a time,
/// each waiting for the server's answer, a 22 MB file took seconds on a busy machine.
/// </remarks>
internal sealed class SftpObjectStore(string storageId, string root, ConnectionPool<SftpClient> pool) : IObjectStore, IAsyncDisposable
{
    public async Task<StoredObject> PutAsync(string key, Stream content, ObjectWriteOptions options, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        var folder = path[..path.LastIndexOf('/')];
        var temp = $"{folder}/{ObjectKeys.TemporaryFileName(key)}";
        using var lease = await RentAsync(key, cancellationToken);
        var client = lease.Connection;
        try
        {
            if (!options.Overwrite && await client.ExistsAsync(path, cancellationToken))
            {
                throw new ObjectAlreadyExistsException(key);
            }

            await CreateFoldersAsync(client, folder, cancellationToken);
            var source = new UploadSource(content, client.OperationTimeout);
            await client.UploadFileAsync(source, temp, canOverride: true, source, cancellationToken);

            if (options.Overwrite)
            {
                // posix-rename@openssh.com replaces the target atomically; SSH.NET has it only as a blocking call.
                await Task.Run(() => client.RenameFile(temp, path, isPosix: true), cancellationToken);
            }
            else
            {
                // A plain SFTP rename refuses an existing target: no overwrite, even of a file that appeared meanwhile.
                await client.RenameFileAsync(temp, path, cancellationToken);
            }

            return new StoredObject(source.Count);
        }
        catch (Exception ex) when (ex is not ObjectAlreadyExistsException)
        {
            lease.Broken = IsConnectionFailure(ex);
            if (!lease.Broken)
            {
                await TryDeleteAsync(client, temp);
            }

            throw ex is SshException or IOException or TimeoutException
                ? Failure("write", key, ex)
                : ex;
        }
    }

    public async Task<ObjectContent?> OpenReadAsync(string key, ByteRange? range, CancellationToken cancellationToken)
    {
        var lease = await RentAsync(key, cancellationToken);
        try
        {
            // The size from a stat, not the open file's Length, which asks the server with a blocking call.
            var path = PathOf(key);
            var total = (await lease.Connection.GetAttributesAsync(path, cancellationToken)).Size;
            var stream = new SftpReadStream(await lease.Connection.OpenAsync(path, FileMode.Open, FileAccess.Read, cancellationToken));
            if (range is not { } r)
            {
                return new ObjectContent(stream, total, total, lease);
            }

            stream.Inner.Seek(r.Offset, SeekOrigin.Begin);
            return new ObjectContent(new BoundedReadStream(stream, r.Length), r.Length, total, lease);
        }
        catch (SftpPathNotFoundException)
        {
            lease.Dispose();
            return null;
        }
        catch (Exception ex) when (ex is SshException or IOException)
        {
            lease.Broken = IsConnectionFailure(ex);
            lease.Dispose();
            throw Failure("read", key, ex);
        }
    }

    public async Task<ObjectStat?> StatAsync(string key, CancellationToken cancellationToken)
    {
        using var lease = await RentAsync(key, cancellationToken);
        try
        {
            var attributes = await lease.Connection.GetAttributesAsync(PathOf(key), cancellationToken);
            return new ObjectStat(attributes.Size, attributes.LastWriteTimeUtc);
        }
        catch (SftpPathNotFoundException)
        {
            return null;
        }
        catch (Exception ex) when (ex is SshException or IOException)
        {
            lease.Broken = IsConnectionFailure(ex);
            throw Failure("stat", key, ex);
        }
    }

    public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken)
    {
        using var lease = await RentAsync(key, cancellationToken);
        try
        {
            await lease.Connection.DeleteFileAsync(PathOf(key), cancellationToken);
            return true;
        }
        catch (SftpPathNotFoundException)
        {
            return false;
        }
        catch (Exception ex) when (ex is SshException or IOException)
        {
            lease.Broken = IsConnectionFailure(ex);
            throw Failure("delete", key, ex);
        }
    }

    public async Task AbortWriteAsync(string key, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        using (var lease = await RentAsync(key, cancellationToken))
        {
            await TryDeleteAsync(lease.Connection, $"{path[..path.LastIndexOf('/')]}/{ObjectKeys.TemporaryFileName(key)}");
        }

        await DeleteAsync(key, cancellationToken);
    }

    public async Task ProbeAsync(CancellationToken cancellationToken)
    {
        using var lease = await RentAsync("(probe)", cancellationToken);
        var probe = $"{root}/.er-probe-{Guid.NewGuid():N}";
        try
        {
            await CreateFoldersAsync(lease.Connection, root, cancellationToken);
            await lease.Connection.UploadFileAsync(new MemoryStream("probe"u8.ToArray()), probe, cancellationToken);
            await lease.Connection.DeleteFileAsync(probe, cancellationToken);
        }
        catch (Exception ex) when (ex is SshException or IOException)
        {
            lease.Broken = IsConnectionFailure(ex);
            throw Failure("probe", root, ex);
        }
    }

    public IAsyncEnumerable<ListedObject> ListAsync(string prefix, string? startAfter, CancellationToken cancellationToken)
        => ObjectKeys.ValidatePrefix(prefix) is { } error
            ? throw new ArgumentException(error, nameof(prefix))
            : FolderListing.WalkAsync(ListFolderAsync, prefix, startAfter, cancellationToken);

    /// <summary>A folder's files and subfolders; links are left out, so a listing never leads outside the root.</summary>
    private async Task<IReadOnlyList<FolderEntry>?> ListFolderAsync(string folder, CancellationToken cancellationToken)
    {
        using var lease = await RentAsync(folder, cancellationToken);
        try
        {
            var entries = new List<FolderEntry>();
            await foreach (var file in lease.Connection.ListDirectoryAsync($"{root}/{folder}".TrimEnd('/'), cancellationToken))
            {
                if (file.IsRegularFile || file.IsDirectory)
                {
                    entries.Add(new FolderEntry(file.Name, file.IsDirectory, file.Length, file.LastWriteTimeUtc));
                }
            }

            return entries;
        }
        catch (SftpPathNotFoundException)
        {
            return null;
        }
        catch (Exception ex) when (ex is SshException or IOException or TimeoutException)
        {
            lease.Broken = IsConnectionFailure(ex);
            throw Failure("list", folder, ex);
        }
    }

    public ValueTask DisposeAsync()
    {
        pool.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>The server path of a key: checked by <see cref="ObjectKeys"/>, so it cannot climb out of the root.</summary>
    private string PathOf(string key)
        => ObjectKeys.Validate(key) is { } error ? throw new ArgumentException(error, nameof(key)) : $"{root}/{key}";

    private async Task<ConnectionPool<SftpClient>.Lease> RentAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            return await pool.RentAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is SshException or System.Net.Sockets.SocketException or IOException or TimeoutException)
        {
            throw Failure("connect", key, ex);
        }
    }

    /// <summary>mkdir -p, tolerating a folder another upload created meanwhile.</summary>
    private static async Task CreateFoldersAsync(SftpClient client, string folder, CancellationToken cancellationToken)
    {
        var path = string.Empty;
        foreach (var segment in folder.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            path += "/" + segment;
            if (await client.ExistsAsync(path, cancellationToken))
            {
                continue;
            }

            try
            {
                await client.CreateDirectoryAsync(path, cancellationToken);
            }
            catch (SshException)
            {
                if (!await client.ExistsAsync(path, cancellationToken))
                {
                    throw;
                }

                // Created by a concurrent upload meanwhile.
            }
        }
    }

    private static async Task TryDeleteAsync(SftpClient client, string path)
    {
        try
        {
            await client.DeleteFileAsync(path, CancellationToken.None);
        }
        catch (Exception ex) when (ex is SshException or IOException)
        {
            // Hidden temporary names are never visible at a key.
        }
    }

    /// <summary>Failures that mean the connection itself is gone, not just one file operation.</summary>
    private static bool IsConnectionFailure(Exception ex)
        => ex is SshConnectionException or ObjectDisposedException or System.Net.Sockets.SocketException or SshOperationTimeoutException;

    private StorageException Failure(string operation, string key, Exception ex)
        => new($"SFTP storage '{storageId}' could not {operation} '{key}': {ex.Message}", ex) { IsTimeout = ex is SshOperationTimeoutException or TimeoutException };

    /// <summary>
    /// The body of an upload as SSH.NET's pipelined <see cref="SftpClient.UploadFileAsync(Stream, string, bool, IProgress{UploadFileProgressReport}?, CancellationToken)"/>
    /// reads it. That call sends a write request for each read without waiting for the answers, and blocks its thread
    /// once the SSH channel's window is full; so reads wait (asynchronously) while <see cref="MaxBytesInFlight"/>
    /// are unanswered, far within any server's window. Each read also returns on the thread pool: the send that
    /// follows it is synchronous and must not run on a socket thread.
    /// </summary>
    private sealed class UploadSource(Stream inner, TimeSpan answerTimeout) : ReadOnlyStream, IProgress<UploadFileProgressReport>
    {
        // OpenSSH opens the channel with a 2 MiB window and refills it at half; 16 requests of SSH.NET's 32 KiB.
        private const long MaxBytesInFlight = 512 * 1024;

        private readonly SemaphoreSlim answered = new(0);
        private long acknowledged;

        public long Count { get; private set; }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("SFTP uploads read their body asynchronously.");

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            while (Count - Volatile.Read(ref acknowledged) >= MaxBytesInFlight)
            {
                if (!await answered.WaitAsync(answerTimeout, cancellationToken))
                {
                    throw new SshOperationTimeoutException($"No answer to a write request within {answerTimeout.TotalSeconds:0} s.");
                }
            }

            var read = await inner.ReadAsync(buffer, cancellationToken).AsTask().ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
            Count += read;
            return read;
        }

        // Called on SSH.NET's receive thread as each write is answered; the waiting read resumes on the thread pool.
        public void Report(UploadFileProgressReport value)
        {
            if ((long)value.TotalBytesUploaded > Volatile.Read(ref acknowledged))
            {
                Volatile.Write(ref acknowledged, (long)value.TotalBytesUploaded);
                answered.Release();
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                answered.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    /// <summary>An open remote file whose closing, a blocking call in SSH.NET, runs on the thread pool.</summary>
    private sealed class SftpReadStream(Stream inner) : ReadOnlyStream
    {
        public Stream Inner { get; } = inner;

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => Inner.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Inner.ReadAsync(buffer, offset, count, cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => Inner.Read(buffer, offset, count);

        public override async ValueTask DisposeAsync()
        {
            await Task.Run(Inner.Dispose);
            await base.DisposeAsync();
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                Inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}

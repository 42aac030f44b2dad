using System.Net.Sockets;
using System.Security.Authentication;

namespace EdgeRouter.Storage.Ftp;

/// <summary>
/// Objects as files under a folder of an FTP server. Uploads go to a hidden temporary name and are renamed into
/// place (RNFR/RNTO), so a half-written file is never visible at its key; ranges are read with REST + RETR.
/// </summary>
internal sealed class FtpObjectStore(string storageId, string root, ConnectionPool<FtpConnection> pool) : IObjectStore, IAsyncDisposable
{
    public async Task<StoredObject> PutAsync(string key, Stream content, ObjectWriteOptions options, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        var folder = path[..path.LastIndexOf('/')];
        var temp = $"{folder}/{ObjectKeys.TemporaryFileName(key)}";
        using var lease = await RentAsync(key, cancellationToken);
        var ftp = lease.Connection;
        try
        {
            if (!options.Overwrite && await ftp.SizeAsync(path, cancellationToken) is not null)
            {
                throw new ObjectAlreadyExistsException(key);
            }

            await ftp.CreateFoldersAsync(folder, cancellationToken);
            var size = await ftp.UploadAsync(temp, content, cancellationToken);
            try
            {
                await ftp.RenameAsync(temp, path, cancellationToken);
            }
            catch (FtpException) when (options.Overwrite)
            {
                // Servers on Windows refuse to rename onto an existing file.
                await ftp.DeleteAsync(path, cancellationToken);
                await ftp.RenameAsync(temp, path, cancellationToken);
            }

            return new StoredObject(size);
        }
        catch (Exception ex) when (ex is not ObjectAlreadyExistsException)
        {
            // The transfer may have stopped mid-stream: this connection's state is unknown, so it is not reused.
            lease.Broken = true;
            await DeleteQuietlyAsync(temp);
            throw IsBackendFailure(ex) ? Failure("write", key, ex) : ex;
        }
    }

    public async Task<ObjectContent?> OpenReadAsync(string key, ByteRange? range, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        var lease = await RentAsync(key, cancellationToken);
        try
        {
            if (await lease.Connection.SizeAsync(path, cancellationToken) is not { } size)
            {
                lease.Dispose();
                return null;
            }

            var offset = range?.Offset ?? 0;
            var length = range?.Length ?? size;
            var data = await lease.Connection.DownloadAsync(path, offset, cancellationToken);
            return new ObjectContent(new DownloadStream(data, length, lease), length, size);
        }
        catch (Exception ex) when (IsBackendFailure(ex))
        {
            lease.Broken = true;
            lease.Dispose();
            throw Failure("read", key, ex);
        }
    }

    public async Task<ObjectStat?> StatAsync(string key, CancellationToken cancellationToken)
        => await UseAsync(
            "stat",
            key,
            async ftp => await ftp.SizeAsync(PathOf(key), cancellationToken) is { } size
                ? new ObjectStat(size, await ftp.ModifiedAsync(PathOf(key), cancellationToken))
                : null,
            cancellationToken);

    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken)
        => UseAsync("delete", key, ftp => ftp.DeleteAsync(PathOf(key), cancellationToken), cancellationToken);

    public async Task AbortWriteAsync(string key, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        await DeleteQuietlyAsync($"{path[..path.LastIndexOf('/')]}/{ObjectKeys.TemporaryFileName(key)}");
        await DeleteAsync(key, cancellationToken);
    }

    public Task ProbeAsync(CancellationToken cancellationToken) => UseAsync(
        "probe",
        root,
        async ftp =>
        {
            var probe = $"{root}/.er-probe-{Guid.NewGuid():N}";
            await ftp.CreateFoldersAsync(root, cancellationToken);
            await ftp.UploadAsync(probe, new MemoryStream("probe"u8.ToArray()), cancellationToken);
            return await ftp.DeleteAsync(probe, cancellationToken);
        },
        cancellationToken);

    public IAsyncEnumerable<ListedObject> ListAsync(string prefix, string? startAfter, CancellationToken cancellationToken)
        => ObjectKeys.ValidatePrefix(prefix) is { } error
            ? throw new ArgumentException(error, nameof(prefix))
            : FolderListing.WalkAsync((folder, ct) => UseAsync("list", folder, ftp => ftp.ListFolderAsync($"{root}/{folder}".TrimEnd('/'), ct), ct), prefix, startAfter, cancellationToken);

    public ValueTask DisposeAsync()
    {
        pool.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>The server path of a key: checked by <see cref="ObjectKeys"/>, so it cannot climb out of the root.</summary>
    private string PathOf(string key)
        => ObjectKeys.Validate(key) is { } error ? throw new ArgumentException(error, nameof(key)) : $"{root}/{key}";

    private async Task<T> UseAsync<T>(string operation, string key, Func<FtpConnection, Task<T>> action, CancellationToken cancellationToken)
    {
        using var lease = await RentAsync(key, cancellationToken);
        try
        {
            return await action(lease.Connection);
        }
        catch (Exception ex) when (IsBackendFailure(ex))
        {
            lease.Broken = ex is not FtpException;
            throw Failure(operation, key, ex);
        }
    }

    private async Task<ConnectionPool<FtpConnection>.Lease> RentAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            return await pool.RentAsync(cancellationToken);
        }
        catch (Exception ex) when (IsBackendFailure(ex))
        {
            throw Failure("connect", key, ex);
        }
    }

    private async Task DeleteQuietlyAsync(string path)
    {
        try
        {
            using var lease = await pool.RentAsync(CancellationToken.None);
            await lease.Connection.DeleteAsync(path, CancellationToken.None);
        }
        catch (Exception ex) when (IsBackendFailure(ex))
        {
            // Hidden temporary names are never visible at a key; the server may be down.
        }
    }

    private static bool IsBackendFailure(Exception ex)
        => ex is FtpException or IOException or SocketException or AuthenticationException or TimeoutException;

    private StorageException Failure(string operation, string key, Exception ex)
        => new($"FTP storage '{storageId}' could not {operation} '{key}': {ex.Message}", ex) { IsTimeout = ex is TimeoutException };

    /// <summary>
    /// A download of exactly <c>length</c> bytes. Disposing it closes the data connection and reads the transfer's
    /// final reply (226, or 426 when a range stopped early), so the control connection can be reused.
    /// </summary>
    private sealed class DownloadStream(Stream data, long length, ConnectionPool<FtpConnection>.Lease lease) : ReadOnlyStream
    {
        private long _remaining = length;
        private bool _finished;

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_remaining <= 0)
            {
                return 0;
            }

            var read = await data.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _remaining)], cancellationToken);
            _remaining -= read;
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask DisposeAsync()
        {
            _finished = true;
            try
            {
                await data.DisposeAsync();
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await lease.Connection.FinishDownloadAsync(timeout.Token);
            }
            catch (Exception ex) when (IsBackendFailure(ex) || ex is OperationCanceledException)
            {
                lease.Broken = true;
            }
            finally
            {
                lease.Dispose();
                await base.DisposeAsync();
            }
        }

        protected override void Dispose(bool disposing)
        {
            // Disposed without the final reply being read: the control connection is out of step, so drop it.
            if (disposing && !_finished)
            {
                _finished = true;
                data.Dispose();
                lease.Broken = true;
                lease.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}

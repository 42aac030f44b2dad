using Renci.SshNet;
using Renci.SshNet.Common;

namespace EdgeRouter.Storage.Sftp;

/// <summary>
/// Objects as files under a folder of an SFTP server. Uploads stream to a hidden temporary name in the target
/// folder and are renamed into place (posix-rename), so a half-written file is never visible at its key.
/// </summary>
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
            var counting = new CountingReadStream(content);
            await client.UploadFileAsync(counting, temp, cancellationToken);
            // posix-rename@openssh.com: replaces the target atomically (plain SFTP rename refuses an existing target).
            client.RenameFile(temp, path, isPosix: true);
            return new StoredObject(counting.Count);
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
            var stream = await lease.Connection.OpenAsync(PathOf(key), FileMode.Open, FileAccess.Read, cancellationToken);
            var total = stream.Length;
            if (range is not { } r)
            {
                return new ObjectContent(stream, total, total, lease);
            }

            stream.Position = r.Offset;
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
}

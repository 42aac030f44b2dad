namespace EdgeRouter.Storage.Local;

/// <summary>
/// Objects as files under <see cref="Root"/>. Writes go to a hidden temporary file in the target folder and are
/// renamed into place, so a reader never sees a half-written object at its key.
/// </summary>
internal sealed class LocalObjectStore : IObjectStore, IPhysicalObjectStore
{
    private const int CopyBufferSize = 128 * 1024;
    private readonly string _rootWithSeparator;
    private readonly TimeProvider _timeProvider;

    public LocalObjectStore(string root, TimeProvider timeProvider)
    {
        Root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        _rootWithSeparator = Root + Path.DirectorySeparatorChar;
        _timeProvider = timeProvider;
    }

    public string Root { get; }

    public async Task<StoredObject> PutAsync(string key, Stream content, ObjectWriteOptions options, CancellationToken cancellationToken)
    {
        var path = GetPhysicalPath(key);
        var directory = Path.GetDirectoryName(path)!;
        var temp = Path.Combine(directory, $".er-{Guid.NewGuid():N}.tmp");
        try
        {
            Directory.CreateDirectory(directory);
            long size;
            var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0, FileOptions.Asynchronous);
            await using (file.ConfigureAwait(false))
            {
                await content.CopyToAsync(file, CopyBufferSize, cancellationToken);
                size = file.Position;
            }

            try
            {
                File.Move(temp, path, options.Overwrite);
            }
            catch (IOException) when (!options.Overwrite && File.Exists(path))
            {
                throw new ObjectAlreadyExistsException(key);
            }

            return new StoredObject(size);
        }
        catch (Exception ex)
        {
            TryDelete(temp);
            if (ex is IOException or UnauthorizedAccessException)
            {
                throw new StorageException($"Local storage could not write '{key}': {ex.Message}", ex);
            }

            throw;
        }
    }

    public Task<ObjectContent?> OpenReadAsync(string key, ByteRange? range, CancellationToken cancellationToken)
    {
        var path = GetPhysicalPath(key);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, bufferSize: 0, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<ObjectContent?>(null);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StorageException($"Local storage could not open '{key}': {ex.Message}", ex);
        }

        var total = stream.Length;
        if (range is not { } r)
        {
            return Task.FromResult<ObjectContent?>(new ObjectContent(stream, total, total));
        }

        stream.Position = r.Offset;
        return Task.FromResult<ObjectContent?>(new ObjectContent(new BoundedReadStream(stream, r.Length), r.Length, total));
    }

    public Task<ObjectStat?> StatAsync(string key, CancellationToken cancellationToken)
    {
        var info = new FileInfo(GetPhysicalPath(key));
        return Task.FromResult(info.Exists ? new ObjectStat(info.Length, info.LastWriteTimeUtc) : null);
    }

    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken)
    {
        var path = GetPhysicalPath(key);
        try
        {
            if (!File.Exists(path))
            {
                return Task.FromResult(false);
            }

            File.Delete(path);
            return Task.FromResult(true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StorageException($"Local storage could not delete '{key}': {ex.Message}", ex);
        }
    }

    public async Task ProbeAsync(CancellationToken cancellationToken)
    {
        var probe = Path.Combine(Root, $".er-probe-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(Root);
            await File.WriteAllBytesAsync(probe, BitConverter.GetBytes(_timeProvider.GetUtcNow().UtcTicks), cancellationToken);
            File.Delete(probe);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            TryDelete(probe);
            throw new StorageException($"Local storage root '{Root}' is not writable: {ex.Message}", ex);
        }
    }

    public string GetPhysicalPath(string key)
    {
        if (ObjectKeys.Validate(key) is { } error)
        {
            throw new ArgumentException(error, nameof(key));
        }

        var path = Path.GetFullPath(Path.Join(Root, key));
        if (!path.StartsWith(_rootWithSeparator, StringComparison.Ordinal))
        {
            // Unreachable for a validated key; kept so the store is safe even if validation changes.
            throw new ArgumentException("The key resolves outside the storage root.", nameof(key));
        }

        return path;
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: a hidden temp file is never visible at a key.
        }
    }
}

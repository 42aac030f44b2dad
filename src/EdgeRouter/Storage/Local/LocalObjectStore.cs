namespace EdgeRouter.Storage.Local;

/// <summary>
/// Objects as files under <see cref="Root"/>. Writes go to a hidden temporary file in the target folder and are
/// renamed into place, so a reader never sees a half-written object at its key. With <c>syncToDisk</c>, the file is
/// flushed before the rename and its folders after it, so an acknowledged object survives a power loss.
/// </summary>
internal sealed partial class LocalObjectStore : IObjectStore, IPhysicalObjectStore
{
    private const int CopyBufferSize = 128 * 1024;
    private readonly string _rootWithSeparator;
    private readonly TimeProvider _timeProvider;
    private readonly bool _syncToDisk;
    private readonly FolderFlushes _folderFlushes = new(SyncDirectory);

    public LocalObjectStore(string root, TimeProvider timeProvider, bool syncToDisk = true)
    {
        Root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        _rootWithSeparator = Root + Path.DirectorySeparatorChar;
        _timeProvider = timeProvider;
        _syncToDisk = syncToDisk;
    }

    public string Root { get; }

    public async Task<StoredObject> PutAsync(string key, Stream content, ObjectWriteOptions options, CancellationToken cancellationToken)
    {
        var path = GetPhysicalPath(key);
        var directory = Path.GetDirectoryName(path)!;
        var temp = Path.Combine(directory, ObjectKeys.TemporaryFileName(key));
        try
        {
            var created = CreateDirectories(directory);
            long size;

            // Create, not CreateNew: the temporary name is the location's own, and a location has one writer at a time,
            // so a file already there is what an interrupted write of this location left.
            var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0, FileOptions.Asynchronous);
            await using (file.ConfigureAwait(false))
            {
                await content.CopyToAsync(file, CopyBufferSize, cancellationToken);
                size = file.Position;
                if (_syncToDisk && !options.DeferFlush)
                {
                    file.Flush(flushToDisk: true);
                }
            }

            try
            {
                File.Move(temp, path, options.Overwrite);
            }
            catch (IOException) when (!options.Overwrite && File.Exists(path))
            {
                throw new ObjectAlreadyExistsException(key);
            }

            if (_syncToDisk)
            {
                // The rename is an entry in its folder, and each folder this write created is one in its parent.
                if (!options.DeferFlush)
                {
                    await _folderFlushes.FlushAsync(directory);
                }

                for (var folder = directory; created is not null && folder != Path.GetDirectoryName(created);)
                {
                    folder = Path.GetDirectoryName(folder)!;
                    SyncDirectory(folder);
                }
            }

            return new StoredObject(size);
        }
        catch (Exception ex)
        {
            TryDelete(temp);
            if (ex is IOException or UnauthorizedAccessException)
            {
                throw new StorageException($"Local storage could not write '{key}': {ex.Message}", ex)
                {
                    IsInsufficientSpace = StorageException.IsDiskFull(ex),
                };
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

    public async Task AbortWriteAsync(string key, CancellationToken cancellationToken)
    {
        var path = GetPhysicalPath(key);
        TryDelete(Path.Combine(Path.GetDirectoryName(path)!, ObjectKeys.TemporaryFileName(key)));
        await DeleteAsync(key, cancellationToken);
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

    public IAsyncEnumerable<ListedObject> ListAsync(string prefix, string? startAfter, CancellationToken cancellationToken)
        => ObjectKeys.ValidatePrefix(prefix) is { } error
            ? throw new ArgumentException(error, nameof(prefix))
            : FolderListing.WalkAsync(ListFolder, prefix, startAfter, cancellationToken);

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

    /// <summary>A folder's files and subfolders; links are left out, so a listing never leads outside the root.</summary>
    private Task<IReadOnlyList<FolderEntry>?> ListFolder(string folder, CancellationToken cancellationToken)
    {
        var directory = new DirectoryInfo(Path.Join(Root, folder));
        try
        {
            if (!directory.Exists)
            {
                return Task.FromResult<IReadOnlyList<FolderEntry>?>(null);
            }

            IReadOnlyList<FolderEntry> entries = [.. directory.EnumerateFileSystemInfos()
                .Where(i => (i.Attributes & FileAttributes.ReparsePoint) == 0)
                .Select(i => new FolderEntry(i.Name, i is DirectoryInfo, (i as FileInfo)?.Length ?? 0, i.LastWriteTimeUtc))];
            return Task.FromResult<IReadOnlyList<FolderEntry>?>(entries);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StorageException($"Local storage could not list '{folder}': {ex.Message}", ex);
        }
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

    /// <summary>Creates <paramref name="directory"/> and its missing parents; returns the topmost one it created, if any.</summary>
    private static string? CreateDirectories(string directory)
    {
        string? topmost = null;
        for (var folder = directory; folder is not null && !Directory.Exists(folder); folder = Path.GetDirectoryName(folder))
        {
            topmost = folder;
        }

        Directory.CreateDirectory(directory);
        return topmost;
    }

    /// <summary>
    /// The deferred flushes of a batch of writes: every file at once (the disk and the journal then take them together),
    /// then each of their folders once, for the renames.
    /// </summary>
    public async Task FlushAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
    {
        if (!_syncToDisk || keys.Count == 0)
        {
            return;
        }

        var paths = keys.Select(GetPhysicalPath).ToList();
        try
        {
            await Parallel.ForEachAsync(paths, new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = cancellationToken }, (path, _) =>
            {
                // As a write flushes its file when it is not deferred; FileStream flushes to disk only when it may write.
                using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);
                file.Flush(flushToDisk: true);
                return ValueTask.CompletedTask;
            });
            await Task.WhenAll(paths.Select(Path.GetDirectoryName).Distinct(StringComparer.Ordinal).Select(folder => _folderFlushes.FlushAsync(folder!)));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StorageException($"Local storage could not flush its writes: {ex.Message}", ex);
        }
    }

    /// <summary>fsync of a folder, so the entries just made in it (a rename, a new folder) survive a power loss.</summary>
    private static void SyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD())
        {
            return; // Windows has no folder handles to flush; NTFS journals its metadata.
        }

        var fd = Native.Open(directory, Native.ReadOnlyDirectory);
        if (fd < 0)
        {
            throw new IOException($"Could not open folder '{directory}' to flush it (errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}).");
        }

        try
        {
            if (Native.Fsync(fd) != 0)
            {
                throw new IOException($"Could not flush folder '{directory}' (errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            _ = Native.Close(fd);
        }
    }

    private static partial class Native
    {
        // O_RDONLY | O_DIRECTORY (Linux: 0x10000; the flag only guards against opening a file by mistake).
        public static readonly int ReadOnlyDirectory = OperatingSystem.IsLinux() ? 0x10000 : 0;

        [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "open", StringMarshalling = System.Runtime.InteropServices.StringMarshalling.Utf8, SetLastError = true)]
        public static partial int Open(string path, int flags);

        [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
        public static partial int Fsync(int fd);

        [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
        public static partial int Close(int fd);
    }
}

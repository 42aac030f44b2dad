using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using EdgeRouter.Observability;
using EdgeRouter.Storage;
using Microsoft.Win32.SafeHandles;

namespace EdgeRouter.Serving.Cache;

/// <summary>
/// The origin cache's disk tier: verified bodies as files under <c>OriginCache:DiskPath</c>, each named by a hash of
/// its cache key, within a byte budget. It survives restarts: the files found at start are indexed unverified, and
/// each is checked against its record's SHA-256 on its first read; one that fails (cut short, changed) is deleted and
/// never served. A file enters the tier only by a rename, after its length and SHA-256 were checked.
/// </summary>
internal sealed partial class DiskTier
{
    private const int CopyBytes = 64 * 1024;

    private readonly ConcurrentDictionary<string, DiskEntry> _entries = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly IEvictionPolicy _policy;
    private readonly string _root;
    private readonly string _temp;
    private readonly long _capacity;
    private readonly ILogger _logger;
    private long _used;

    public DiskTier(string root, long capacity, string eviction, ILogger logger)
    {
        _root = Path.GetFullPath(root);
        _temp = Path.Combine(_root, "tmp");
        _capacity = capacity;
        _policy = EvictionPolicies.Create(eviction);
        _logger = logger;

        // What a crash left half-written is not an entry.
        if (Directory.Exists(_temp))
        {
            Directory.Delete(_temp, recursive: true);
        }

        Directory.CreateDirectory(_temp);
        var found = new DirectoryInfo(_root).EnumerateFiles("*", SearchOption.AllDirectories)
            .Where(f => f.Directory?.FullName != _temp && f.Name.Length == 64 && f.Directory?.Name == f.Name[..2])
            .OrderBy(f => f.LastWriteTimeUtc);
        foreach (var file in found)
        {
            Track(new DiskEntry(file.Name, file.Length));
        }
    }

    public long UsedBytes => Volatile.Read(ref _used);

    public int Count => _entries.Count;

    /// <summary>
    /// An open handle on the verified file of <paramref name="key"/>, or null: none, or one from before a restart
    /// whose bytes are not the record's (then it is deleted). The handle reads on even if the entry is evicted.
    /// </summary>
    public async ValueTask<SafeFileHandle?> OpenAsync(CacheKey key, long length, CancellationToken cancellationToken)
    {
        var name = NameOf(key);
        if (!_entries.TryGetValue(name, out var entry))
        {
            return null;
        }

        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(PathOf(name), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, FileOptions.Asynchronous);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            Forget(entry, delete: false);
            return null;
        }

        if (!entry.Verified)
        {
            if (RandomAccess.GetLength(handle) != length || !await HashMatchesAsync(handle, key.Sha256, cancellationToken))
            {
                handle.Dispose();
                Log.Corrupt(_logger, name, key.StorageId);
                Forget(entry, delete: true);
                return null;
            }

            entry.Verified = true;
        }

        _policy.OnHit(entry);
        return handle;
    }

    /// <summary>Keeps a body that was already checked against its record, from memory.</summary>
    public async Task AddAsync(CacheKey key, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        var temp = Path.Combine(_temp, Guid.NewGuid().ToString("N"));
        try
        {
            await File.WriteAllBytesAsync(temp, body, cancellationToken);
            Commit(key, temp, body.Length);
        }
        finally
        {
            TryDelete(temp);
        }
    }

    /// <summary>
    /// Streams a backend's body into the tier, hashing it on the way; it enters the tier only when its length and
    /// SHA-256 are the record's. <paramref name="pending"/> hears of each write, and can read the file meanwhile.
    /// Returns the kept file's path.
    /// </summary>
    /// <exception cref="StorageException">The bytes are not the record's; nothing was kept.</exception>
    /// <exception cref="DiskTierException">The tier's own disk failed (full, gone); the object can still be read uncached.</exception>
    public async Task<string> FillAsync(CacheKey key, long length, Stream source, string describe, PendingFill? pending, CancellationToken cancellationToken)
    {
        var temp = Path.Combine(_temp, Guid.NewGuid().ToString("N"));
        try
        {
            using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            await using (var file = Disk(() => new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.Read | FileShare.Delete, 0, FileOptions.Asynchronous)))
            {
                pending?.Start(temp);
                var buffer = new byte[CopyBytes];
                long copied = 0;
                int read;
                while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    copied += read;
                    if (copied > length)
                    {
                        throw RecordCheck.TooLong(describe, length);
                    }

                    sha256.AppendData(buffer.AsSpan(0, read));
                    try
                    {
                        await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    }
                    catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                    {
                        throw new DiskTierException(ex);
                    }

                    pending?.Advance(copied);
                }

                if (copied != length)
                {
                    throw RecordCheck.EndedEarly(describe, copied, length);
                }
            }

            if (!RecordCheck.Matches(sha256.GetHashAndReset(), key.Sha256))
            {
                throw RecordCheck.NotTheRecords(describe);
            }

            return Disk(() => Commit(key, temp, length));
        }
        finally
        {
            TryDelete(temp);
        }
    }

    /// <summary>A file operation of the tier's own disk, whose failure is the tier's, not the backend's.</summary>
    private static T Disk<T>(Func<T> operation)
    {
        try
        {
            return operation();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new DiskTierException(ex);
        }
    }

    private string Commit(CacheKey key, string temp, long length)
    {
        var name = NameOf(key);
        var path = PathOf(name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.Move(temp, path, overwrite: true);
        if (_entries.TryGetValue(name, out var existing))
        {
            existing.Verified = true;
            return path;
        }

        Track(new DiskEntry(name, length) { Verified = true });
        return path;
    }

    private void Track(DiskEntry entry)
    {
        lock (_lock)
        {
            while (_used + entry.Length > _capacity && _policy.Evict() is DiskEntry victim)
            {
                // A forgotten entry was uncounted already, and its name may belong to a newer one.
                if (_entries.TryRemove(new KeyValuePair<string, DiskEntry>(victim.Name, victim)))
                {
                    _used -= victim.Length;
                    TryDelete(PathOf(victim.Name));
                }
            }

            if (_entries.TryAdd(entry.Name, entry))
            {
                _policy.OnAdd(entry);
                _used += entry.Length;
            }
        }
    }

    private void Forget(DiskEntry entry, bool delete)
    {
        lock (_lock)
        {
            if (!_entries.TryRemove(new KeyValuePair<string, DiskEntry>(entry.Name, entry)))
            {
                return;
            }

            // The policy lets go of it when its turn comes; it is no longer counted or found.
            _used -= entry.Length;
            if (delete)
            {
                TryDelete(PathOf(entry.Name));
            }
        }
    }

    private static async Task<bool> HashMatchesAsync(SafeFileHandle handle, string sha256, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[CopyBytes];
        long offset = 0;
        int read;
        while ((read = await RandomAccess.ReadAsync(handle, buffer, offset, cancellationToken)) > 0)
        {
            hash.AppendData(buffer.AsSpan(0, read));
            offset += read;
        }

        return RecordCheck.Matches(hash.GetHashAndReset(), sha256);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Gone already, or held by a reader on a platform that forbids it: a later start indexes and checks it.
        }
    }

    /// <summary>A file name that no key can steer: the hex SHA-256 of the key's parts.</summary>
    private static string NameOf(CacheKey key)
        => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', key.StorageId, key.Location, key.Sha256))));

    private string PathOf(string name) => Path.Combine(_root, name[..2], name);

    private sealed class DiskEntry(string name, long length) : EvictionNode
    {
        public string Name { get; } = name;

        public long Length { get; } = length;

        public volatile bool Verified;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.OriginCacheDiskEntryCorrupt, Level = LogLevel.Warning, Message = "The origin cache's disk entry {Name} (storage {StorageId}) is not its record's bytes; deleted, and read from the backend again")]
        public static partial void Corrupt(ILogger logger, string name, string storageId);
    }
}

/// <summary>The disk tier's own folder failed (full, removed, read-only): a cache failure, never a read's.</summary>
internal sealed class DiskTierException(Exception inner) : IOException($"The origin cache's disk tier failed: {inner.Message}", inner);

using EdgeRouter.Catalog;
using EdgeRouter.Configuration;
using EdgeRouter.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace EdgeRouter.Tests.TestUtilities;

/// <summary>
/// A storage API (<c>api: "failing"</c>) whose writes fail part-way, as a backend that drops the connection
/// mid-upload does, while its health probe still passes (as a full disk's does), so placement really tries it.
/// </summary>
public sealed class FailingStorageProvider : IStorageProvider
{
    public string Api => "failing";

    public static void Register(IServiceCollection services)
        => services.TryAddEnumerable(ServiceDescriptor.Singleton<IStorageProvider, FailingStorageProvider>());

    public void Validate(StorageConfig config, StorageValidationContext context)
    {
    }

    public IObjectStore Create(StorageConfig config, StorageProviderContext context) => new FailingStore();

    public sealed class FailingStore : IObjectStore
    {
        private int _putAttempts;

        public int PutAttempts => _putAttempts;

        public async Task<StoredObject> PutAsync(string key, Stream content, ObjectWriteOptions options, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _putAttempts);
            await content.ReadAtLeastAsync(new byte[4096], 1, throwOnEndOfStream: false, cancellationToken);
            throw new StorageException("connection reset by backend");
        }

        public Task<ObjectContent?> OpenReadAsync(string key, ByteRange? range, CancellationToken cancellationToken) => throw new StorageException("backend down");

        public Task<ObjectStat?> StatAsync(string key, CancellationToken cancellationToken) => throw new StorageException("backend down");

        public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken) => throw new StorageException("backend down");

        public Task ProbeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public IAsyncEnumerable<ListedObject> ListAsync(string prefix, string? startAfter, CancellationToken cancellationToken) => throw new StorageException("backend down");
    }
}

/// <summary>A catalog whose commits fail, as a database that went away between the backend write and the commit.</summary>
internal sealed class CommitFailingCatalog(IObjectCatalog inner) : DelegatingCatalog(inner)
{
    public override Task<CatalogWriteResult> AddAsync(ObjectRecord record, bool overwrite, EdgeRouter.Cdn.PurgeRequest? notify, CancellationToken cancellationToken)
        => throw new CatalogUnavailableException("database is locked");
}

/// <summary>Seeded randomness, so placement tests give the same answer on every run.</summary>
internal sealed class SeededRandomFactory(int seed) : EdgeRouter.Placement.IRandomFactory
{
    private readonly Random _random = new(seed);

    public Random CreateRandomInstance() => _random;
}

/// <summary>
/// A local storage (<c>api: "flaky"</c>, field <c>root</c>) whose deletes and probes can be made to fail at will,
/// as a backend that comes and goes.
/// </summary>
public sealed class FlakyStorageProvider : IStorageProvider
{
    public string Api => "flaky";

    public static void Register(IServiceCollection services)
        => services.TryAddEnumerable(ServiceDescriptor.Singleton<IStorageProvider, FlakyStorageProvider>());

    public void Validate(StorageConfig config, StorageValidationContext context)
    {
    }

    public IObjectStore Create(StorageConfig config, StorageProviderContext context)
        => new FlakyStore(new EdgeRouter.Storage.Local.LocalStorageProvider(TimeProvider.System, Microsoft.Extensions.Options.Options.Create(new EdgeRouter.Configuration.EdgeRouterOptions())).Create(config, context));

    /// <summary>A router with a flaky storage, id <c>f</c> (and, if asked, a healthy local one, id <c>local</c>), and the flaky store.</summary>
    public static (RouterFactory Factory, FlakyStore Store) CreateRouter(bool withHealthyLocal = false)
    {
        var local = withHealthyLocal ? """, { "id": "local", "api": "local", "root": "l", "read": "stream" }""" : string.Empty;
        var factory = new RouterFactory($$"""{ "storages": [ { "id": "f", "api": "flaky", "root": "f", "read": "stream" }{{local}} ] }""", Register);
        factory.CreateClient().Dispose();
        return (factory, factory.Services.GetRequiredService<IStorageRegistry>().Current.ById["f"].Store.As<FlakyStore>()!);
    }

    public sealed class FlakyStore(IObjectStore inner) : IObjectStore
    {
        private int _reads;

        public bool Down { get; set; }

        /// <summary>Reads opened so far.</summary>
        public int Reads => _reads;

        /// <summary>When set, each read waits for it before it answers: a slow backend.</summary>
        public Task? ReadGate { get; set; }

        /// <summary>When set, each read's body fails after this many bytes: a connection dropped mid-body.</summary>
        public int? FailReadsAfter { get; set; }

        /// <summary>When set, each read's body gives this many bytes, then waits for the task before the rest: a slow backend.</summary>
        public (int After, Task Resume)? PauseReads { get; set; }

        /// <summary>When set, each write stores its bytes with the last one flipped, as a backend that damages what it keeps.</summary>
        public bool CorruptsWrites { get; set; }

        /// <summary>When set, each write asked to be verified says it was, as a backend with its own digest does.</summary>
        public bool VouchesForWrites { get; set; }

        public async Task<StoredObject> PutAsync(string key, Stream content, ObjectWriteOptions options, CancellationToken cancellationToken)
        {
            if (CorruptsWrites)
            {
                var bytes = new MemoryStream();
                await content.CopyToAsync(bytes, cancellationToken);
                bytes.GetBuffer()[bytes.Length - 1] ^= 0xFF;
                bytes.Position = 0;
                content = bytes;
            }

            var stored = await inner.PutAsync(key, content, options, cancellationToken);
            return VouchesForWrites ? stored with { Verified = options.VerifyStored } : stored;
        }

        public async Task<ObjectContent?> OpenReadAsync(string key, ByteRange? range, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _reads);
            if (ReadGate is { } gate)
            {
                await gate.WaitAsync(cancellationToken);
            }

            var content = await inner.OpenReadAsync(key, range, cancellationToken);
            if (content is not null && PauseReads is { } pause)
            {
                return new ObjectContent(new Paused(content, pause.After, pause.Resume), content.Length, content.TotalLength);
            }

            if (content is null || FailReadsAfter is not { } limit)
            {
                return content;
            }

            var head = new byte[Math.Min(limit, content.Length)];
            await content.Content.ReadExactlyAsync(head, cancellationToken);
            await content.DisposeAsync();
            return new ObjectContent(new CutShort(head), content.Length, content.TotalLength);
        }

        public Task<ObjectStat?> StatAsync(string key, CancellationToken cancellationToken) => inner.StatAsync(key, cancellationToken);

        public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken)
            => Down ? throw new StorageException("backend unreachable") : inner.DeleteAsync(key, cancellationToken);

        public Task ProbeAsync(CancellationToken cancellationToken)
            => Down ? throw new StorageException("backend unreachable") : inner.ProbeAsync(cancellationToken);

        public IAsyncEnumerable<ListedObject> ListAsync(string prefix, string? startAfter, CancellationToken cancellationToken)
            => Down ? throw new StorageException("backend unreachable") : inner.ListAsync(prefix, startAfter, cancellationToken);

        /// <summary>When set, flushes of deferred writes fail, as a disk that reports a write error.</summary>
        public bool FlushFails { get; set; }

        public Task FlushAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
            => FlushFails ? throw new StorageException("Local storage could not flush its writes: Input/output error") : inner.FlushAsync(keys, cancellationToken);
    }
}

/// <summary>A body that gives its first bytes and then fails, as a backend connection reset mid-body.</summary>
internal sealed class CutShort(byte[] head) : MemoryStream(head, writable: false)
{
    public override int Read(byte[] buffer, int offset, int count) => Position < Length ? base.Read(buffer, offset, count) : throw new IOException("connection reset by peer");

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        => Position < Length ? base.ReadAsync(buffer, cancellationToken) : throw new IOException("connection reset by peer");

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
}

/// <summary>A body that gives its first bytes, then waits before the rest, as a slow backend.</summary>
internal sealed class Paused(ObjectContent inner, int after, Task resume) : Stream
{
    private long _position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => inner.Length;

    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_position >= after)
        {
            await resume.WaitAsync(cancellationToken);
        }
        else if (_position + buffer.Length > after)
        {
            buffer = buffer[..(int)(after - _position)];
        }

        var read = await inner.Content.ReadAsync(buffer, cancellationToken);
        _position += read;
        return read;
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        base.Dispose(disposing);
    }
}

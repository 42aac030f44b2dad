using System.Security.Cryptography;
using EdgeRouter.Storage;

namespace EdgeRouter.Tests.Storage;

/// <summary>
/// What every storage API must do, whatever its backend. Each API's tests subclass this with a fixture that
/// starts its real server, so a new backend gets the whole contract by adding one small class.
/// </summary>
public abstract class StorageContractTests
{
    protected static readonly ObjectWriteOptions Png = new("image/png", "public, max-age=60");

    /// <summary>The store under test, on a server the subclass's fixture started.</summary>
    protected abstract IObjectStore Store { get; }

    /// <summary>A key no other test uses, so tests can share one backend.</summary>
    protected static string NewKey(string suffix = ".png") => $"contract/{Guid.NewGuid():N}{suffix}";

    [Fact]
    public async Task Put_FromNonSeekableStream_ReadsBackTheSameBytes()
    {
        var key = NewKey();
        var bytes = RandomNumberGenerator.GetBytes(100_000);

        var stored = await Store.PutAsync(key, new NonSeekableStream(bytes), Png, CancellationToken.None);

        Assert.Equal(bytes.Length, stored.Size);
        Assert.Equal(bytes, await ReadAllAsync(key, null));
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(0, 1024)]
    [InlineData(4096, 10)]
    [InlineData(99_990, 10)]
    public async Task OpenRead_WithRange_ReturnsExactlyThoseBytes(long offset, long length)
    {
        var key = NewKey();
        var bytes = RandomNumberGenerator.GetBytes(100_000);
        await Store.PutAsync(key, new MemoryStream(bytes), Png, CancellationToken.None);

        await using var content = await Store.OpenReadAsync(key, new ByteRange(offset, length), CancellationToken.None);

        Assert.NotNull(content);
        Assert.Equal(length, content.Length);
        Assert.Equal(bytes.Length, content.TotalLength);
        Assert.Equal(bytes.AsSpan((int)offset, (int)length).ToArray(), await ReadToEndAsync(content.Content));
    }

    [Fact]
    public async Task Stat_ReportsSize_AndNullForMissingKey()
    {
        var key = NewKey();
        await Store.PutAsync(key, new MemoryStream(new byte[1234]), Png, CancellationToken.None);

        var stat = await Store.StatAsync(key, CancellationToken.None);

        Assert.NotNull(stat);
        Assert.Equal(1234, stat.Size);
        Assert.Null(await Store.StatAsync(NewKey(), CancellationToken.None));
    }

    [Fact]
    public async Task Delete_RemovesTheObject_AndReportsWhetherItExisted()
    {
        var key = NewKey();
        await Store.PutAsync(key, new MemoryStream(new byte[10]), Png, CancellationToken.None);

        Assert.True(await Store.DeleteAsync(key, CancellationToken.None));
        Assert.Null(await Store.OpenReadAsync(key, null, CancellationToken.None));
        Assert.False(await Store.DeleteAsync(key, CancellationToken.None));
    }

    [Fact]
    public async Task OpenRead_MissingKey_ReturnsNull()
    {
        Assert.Null(await Store.OpenReadAsync(NewKey(), null, CancellationToken.None));
        Assert.Null(await Store.OpenReadAsync(NewKey(), new ByteRange(0, 10), CancellationToken.None));
    }

    [Fact]
    public async Task Put_WithoutOverwrite_RefusesAnExistingKey_AndKeepsTheFirstObject()
    {
        var key = NewKey();
        var first = RandomNumberGenerator.GetBytes(64);
        await Store.PutAsync(key, new MemoryStream(first), Png, CancellationToken.None);

        await Assert.ThrowsAsync<ObjectAlreadyExistsException>(
            () => Store.PutAsync(key, new MemoryStream(new byte[32]), Png, CancellationToken.None));

        Assert.Equal(first, await ReadAllAsync(key, null));
    }

    [Fact]
    public async Task Put_WithOverwrite_ReplacesTheObject()
    {
        var key = NewKey();
        await Store.PutAsync(key, new MemoryStream(new byte[64]), Png, CancellationToken.None);
        var second = RandomNumberGenerator.GetBytes(32);

        await Store.PutAsync(key, new MemoryStream(second), Png with { Overwrite = true }, CancellationToken.None);

        Assert.Equal(second, await ReadAllAsync(key, null));
    }

    [Fact]
    public async Task Put_TwentyMegabytes_RoundTripsByHash()
    {
        var key = NewKey();
        var bytes = RandomNumberGenerator.GetBytes(20 * 1024 * 1024);

        var stored = await Store.PutAsync(key, new NonSeekableStream(bytes), Png with { Length = bytes.Length }, CancellationToken.None);

        Assert.Equal(bytes.Length, stored.Size);
        Assert.Equal(SHA256.HashData(bytes), SHA256.HashData(await ReadAllAsync(key, null)));
        Assert.Equal(bytes.AsSpan(10_000_000, 100).ToArray(), await ReadAllAsync(key, new ByteRange(10_000_000, 100)));
    }

    [Theory]
    [InlineData("with space/file name.png")]
    [InlineData("ünïcødé/日本語の画像.png")]
    [InlineData("emoji/😀 smile.png")]
    [InlineData("symbols/a+b=c&d;e,f@g!h'(i)[j].png")]
    [InlineData("percent/100% sure.png")]
    public async Task Put_KeyWithSpacesAndNonAscii_RoundTrips(string keySuffix)
    {
        var key = $"contract/{Guid.NewGuid():N}/{keySuffix}";
        var bytes = RandomNumberGenerator.GetBytes(100);

        await Store.PutAsync(key, new MemoryStream(bytes), Png, CancellationToken.None);

        Assert.Equal(bytes, await ReadAllAsync(key, null));
        Assert.True(await Store.DeleteAsync(key, CancellationToken.None));
    }

    [Theory]
    [MemberData(nameof(HostileKeys.Data), MemberType = typeof(HostileKeys))]
    public async Task HostileKey_IsRefused_AndNothingIsWritten(string key)
    {
        var before = await BackendNamesAsync();

        await Assert.ThrowsAnyAsync<ArgumentException>(
            () => Store.PutAsync(key, new MemoryStream(new byte[8]), Png, CancellationToken.None));

        Assert.Equal(before?.Order(StringComparer.Ordinal), (await BackendNamesAsync())?.Order(StringComparer.Ordinal));
        await AssertNothingEscapedAsync();
    }

    [Fact]
    public async Task Put_WhenTheSourceThrows_LeavesNothingAtTheKey_AndPropagatesTheError()
    {
        var key = NewKey();
        var failing = new FailingStream(bytesBeforeFailure: 70_000);

        var thrown = await Assert.ThrowsAsync<InvalidDataException>(() => Store.PutAsync(key, failing, Png, CancellationToken.None));

        Assert.Same(failing.Error, thrown);
        Assert.Null(await Store.StatAsync(key, CancellationToken.None));
        Assert.Null(await Store.OpenReadAsync(key, null, CancellationToken.None));
    }

    [Fact]
    public async Task Probe_SucceedsOnAWorkingBackend()
    {
        await Store.ProbeAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Probe_FailsWithAStorageError_WhenTheBackendRefusesTheStorage()
    {
        var store = CreateRefusedStore();
        try
        {
            await Assert.ThrowsAsync<StorageException>(() => store.ProbeAsync(CancellationToken.None));
        }
        finally
        {
            if (store is IAsyncDisposable disposable)
            {
                await disposable.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Stat_SaysWhenTheObjectWasWritten()
    {
        var key = NewKey();
        var before = DateTimeOffset.UtcNow;

        await Store.PutAsync(key, new MemoryStream(new byte[10]), Png, CancellationToken.None);

        // Backends keep whole seconds (FTP's MDTM, HTTP dates), so the bounds are widened by one.
        var modified = (await Store.StatAsync(key, CancellationToken.None))!.LastModified;
        Assert.NotNull(modified);
        Assert.InRange(modified.Value, before.AddSeconds(-2), DateTimeOffset.UtcNow.AddSeconds(2));
    }

    [Fact]
    public async Task AnEmptyObject_RoundTrips()
    {
        var key = NewKey();

        var stored = await Store.PutAsync(key, new NonSeekableStream([]), Png, CancellationToken.None);

        Assert.Equal(0, stored.Size);
        Assert.Equal(0, (await Store.StatAsync(key, CancellationToken.None))!.Size);
        Assert.Empty(await ReadAllAsync(key, null));
    }

    [Fact]
    public async Task List_GivesEveryObjectUnderThePrefix_WithItsSize_InOrder_FromAfterTheStart()
    {
        // '-' sorts before '/' and '0' after it: the order of locations, not of folders then files.
        var prefix = $"list/{Guid.NewGuid():N}/";
        string[] locations = [prefix + "a-b.png", prefix + "a/x.png", prefix + "a/y/z.png", prefix + "a0.png", prefix + "b.png"];
        for (var i = 0; i < locations.Length; i++)
        {
            await Store.PutAsync(locations[i], new MemoryStream(new byte[(i * 100) + 1]), Png, CancellationToken.None);
        }

        var all = await ListAsync(prefix, null);
        if (!ListsInOrder)
        {
            all = [.. all.OrderBy(o => o.Location, StringComparer.Ordinal)];
        }

        Assert.Equal(locations, all.Select(o => o.Location));
        Assert.Equal([1L, 101, 201, 301, 401], all.Select(o => o.Size));
        Assert.All(all, o => Assert.InRange(o.LastModified!.Value, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(1)));
        Assert.Equal(locations[2..], (await ListAsync(prefix, locations[1])).Select(o => o.Location).Order(StringComparer.Ordinal));
        Assert.Equal(locations[1..3], (await ListAsync(prefix + "a/", null)).Select(o => o.Location));
        Assert.Equal(locations[..4], (await ListAsync(prefix + "a", null)).Select(o => o.Location).Order(StringComparer.Ordinal));
        Assert.Empty(await ListAsync(prefix + "c", null));
    }

    [Fact]
    public async Task List_NeverGivesTheRoutersOwnObjects()
    {
        var own = $".edgerouter/list-{Guid.NewGuid():N}";
        await Store.PutAsync(own, new MemoryStream(new byte[3]), Png, CancellationToken.None);

        Assert.Empty(await ListAsync(".edgerouter/", null));
        Assert.DoesNotContain(await ListAsync(string.Empty, null), o => o.Location == own);
    }

    [Theory]
    [InlineData("../")]
    [InlineData("/etc/")]
    [InlineData("a\\..\\")]
    public async Task List_RefusesAPrefixThatCouldLeaveTheRoot(string prefix)
        => await Assert.ThrowsAsync<ArgumentException>(async () => await ListAsync(prefix, null));

    protected async Task<List<ListedObject>> ListAsync(string prefix, string? startAfter)
    {
        var listed = new List<ListedObject>();
        await foreach (var o in Store.ListAsync(prefix, startAfter, CancellationToken.None))
        {
            listed.Add(o);
        }

        return listed;
    }

    /// <summary>
    /// Whether the backend lists in ordinal (byte) order, as S3, GCS, Azure, Swift and the folder walks do; s3rver, the
    /// S3 emulator the S3-family tests run on, lists folders before the names that sort before them.
    /// </summary>
    protected virtual bool ListsInOrder => true;

    /// <summary>A store of the same API whose backend refuses it (wrong credentials, or nothing listening).</summary>
    protected abstract IObjectStore CreateRefusedStore();

    /// <summary>
    /// Every name the whole backend holds (not only under the store's prefix), so a hostile key must leave it exactly
    /// as it was; null for the APIs that check their file system in <see cref="AssertNothingEscapedAsync"/> instead.
    /// </summary>
    protected virtual Task<IReadOnlyCollection<string>?> BackendNamesAsync() => Task.FromResult<IReadOnlyCollection<string>?>(null);

    /// <summary>Asserts that no file or object exists outside the storage's root after the hostile-key attempts.</summary>
    protected virtual Task AssertNothingEscapedAsync() => Task.CompletedTask;

    protected async Task<byte[]> ReadAllAsync(string key, ByteRange? range)
    {
        await using var content = await Store.OpenReadAsync(key, range, CancellationToken.None);
        Assert.NotNull(content);
        return await ReadToEndAsync(content.Content);
    }

    private static async Task<byte[]> ReadToEndAsync(Stream stream)
    {
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer);
        return buffer.ToArray();
    }

    /// <summary>A request body as a store sees it: forward-only, no length.</summary>
    protected sealed class NonSeekableStream(byte[] bytes) : ReadOnlyStream
    {
        private readonly MemoryStream _inner = new(bytes);

        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, Math.Min(count, 8192));
    }

    /// <summary>A body that breaks part-way, as a client that disconnects does.</summary>
    protected sealed class FailingStream(int bytesBeforeFailure) : ReadOnlyStream
    {
        private int _sent;

        public InvalidDataException Error { get; } = new("client went away");

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_sent >= bytesBeforeFailure)
            {
                throw Error;
            }

            var n = Math.Min(count, bytesBeforeFailure - _sent);
            buffer.AsSpan(offset, n).Fill(0x42);
            _sent += n;
            return n;
        }
    }
}

/// <summary>
/// The contract of object stores (S3 family, GCS, Azure, Swift): headers kept with each object, and a server that
/// settles two writers of one key (see <see cref="AssertTwoWritersOfOneKeyLeaveOneWholeAsync"/>). The router never lets two uploads write one location (an upload's intent claims
/// it first), so the file-based stores, which name a write's temporary file after its location, are not asked to.
/// </summary>
public abstract class ObjectStoreContractTests : StorageContractTests
{
    /// <summary>
    /// Two create-only writers of one key: the loser is told, and the object is the winner's bytes, never a mix. Not
    /// a test of its own for the S3 family: s3rver writes concurrent PUTs of one key into one file, unlocked (its
    /// stored MD5 then disagrees with the bytes), while the real services settle them (<c>If-None-Match: *</c>).
    /// </summary>
    protected async Task AssertTwoWritersOfOneKeyLeaveOneWholeAsync()
    {
        var key = NewKey();
        var bodies = new[] { RandomNumberGenerator.GetBytes(300_000), RandomNumberGenerator.GetBytes(300_000) };

        var outcomes = await Task.WhenAll(bodies.Select(async body =>
        {
            try
            {
                await Store.PutAsync(key, new NonSeekableStream(body), Png, CancellationToken.None);
                return body;
            }
            catch (ObjectAlreadyExistsException)
            {
                return null;
            }
        }));

        // A create-only write that loses says so; the object is one winner's bytes, never a mix.
        var winners = outcomes.OfType<byte[]>().ToList();
        Assert.NotEmpty(winners);
        var stored = await ReadAllAsync(key, null);
        Assert.Contains(winners, w => w.AsSpan().SequenceEqual(stored));
    }

    [Fact]
    public async Task Put_KeepsTheContentTypeAndCacheControl_OnTheObject()
    {
        var key = NewKey();

        await Store.PutAsync(key, new MemoryStream(new byte[10]), new ObjectWriteOptions("image/webp", "public, max-age=4321"), CancellationToken.None);

        Assert.Equal(("image/webp", "public, max-age=4321"), await StoredHeadersAsync(key));
    }

    /// <summary>The Content-Type and Cache-Control the backend keeps for <paramref name="key"/>, read around the store.</summary>
    protected abstract Task<(string? ContentType, string? CacheControl)> StoredHeadersAsync(string key);
}

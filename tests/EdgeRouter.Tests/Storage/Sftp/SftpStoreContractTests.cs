using EdgeRouter.Storage;

namespace EdgeRouter.Tests.Storage.Sftp;

/// <summary>The storage contract on a real OpenSSH server, with key authentication and a pinned host key.</summary>
[Collection(SshdGroup.Name)]
public sealed class SftpStoreContractTests(SshdFixture sshd) : StorageContractTests, IAsyncDisposable
{
    private readonly IObjectStore _store = sshd.CreateStore();

    protected override IObjectStore CreateRefusedStore() => sshd.CreateStore(password: "not-the-password");

    protected override IObjectStore Store => _store;

    [Fact]
    public async Task PasswordAuthentication_Works()
    {
        var store = sshd.CreateStore(password: SshdFixture.Password);
        var key = NewKey();

        await store.PutAsync(key, new MemoryStream(new byte[500]), new ObjectWriteOptions("image/png", "x"), CancellationToken.None);

        Assert.Equal(500, (await store.StatAsync(key, CancellationToken.None))!.Size);
        await ((IAsyncDisposable)store).DisposeAsync();
    }

    [Fact]
    public async Task AWrongPassword_IsAStorageFailure()
    {
        var store = sshd.CreateStore(password: "not-the-password");

        var error = await Assert.ThrowsAsync<StorageException>(() => store.ProbeAsync(CancellationToken.None));

        Assert.Contains("Permission denied", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("not-the-password", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AHostKeyThatDoesNotMatchTheFingerprint_IsRefused_AndNothingIsWritten()
    {
        var store = sshd.CreateStore(fingerprint: "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        var key = NewKey();

        await Assert.ThrowsAsync<StorageException>(() => store.PutAsync(key, new MemoryStream(new byte[10]), new ObjectWriteOptions("image/png", "x"), CancellationToken.None));

        Assert.False(File.Exists(Path.Combine(sshd.Root, key)));
    }

    [Fact]
    public async Task Put_LeavesNoTemporaryFileBehind()
    {
        var key = NewKey();

        await Store.PutAsync(key, new MemoryStream(new byte[70_000]), new ObjectWriteOptions("image/png", "x"), CancellationToken.None);

        var folder = Path.GetDirectoryName(Path.Combine(sshd.Root, key))!;
        Assert.DoesNotContain(Directory.GetFiles(folder), f => Path.GetFileName(f).StartsWith(".er-", StringComparison.Ordinal));
    }

    public async ValueTask DisposeAsync() => await ((IAsyncDisposable)_store).DisposeAsync();

    protected override Task AssertNothingEscapedAsync()
    {
        var outside = Directory.GetFileSystemEntries(sshd.Base, "*", SearchOption.AllDirectories)
            .Where(p => !p.StartsWith(sshd.Root, StringComparison.Ordinal));
        Assert.Empty(outside);
        return Task.CompletedTask;
    }
}

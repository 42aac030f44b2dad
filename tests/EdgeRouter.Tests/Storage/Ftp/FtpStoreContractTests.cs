using EdgeRouter.Storage;

namespace EdgeRouter.Tests.Storage.Ftp;

/// <summary>The storage contract on a real FTP server, in plain FTP.</summary>
[Collection(FtpServersGroup.Name)]
public sealed class FtpStoreContractTests(FtpServersFixture ftp) : StorageContractTests, IAsyncDisposable
{
    private readonly IObjectStore _store = ftp.CreateStore();

    protected override IObjectStore CreateRefusedStore() => ftp.CreateStore(password: "not-the-password");

    protected override IObjectStore Store => _store;

    public async ValueTask DisposeAsync() => await ((IAsyncDisposable)_store).DisposeAsync();

    protected override Task AssertNothingEscapedAsync()
    {
        Assert.DoesNotContain(Directory.GetFileSystemEntries(ftp.Folder, "*", SearchOption.AllDirectories), p => !p.StartsWith(ftp.Home, StringComparison.Ordinal) && !p.EndsWith(".pem", StringComparison.Ordinal));
        Assert.DoesNotContain(Directory.GetFileSystemEntries(ftp.Home), p => p != ftp.Root);
        return Task.CompletedTask;
    }
}

/// <summary>The storage contract on a real FTPS server: explicit AUTH TLS, protected data channels, pinned certificate.</summary>
[Collection(FtpServersGroup.Name)]
public sealed class FtpsStoreContractTests(FtpServersFixture ftp) : StorageContractTests, IAsyncDisposable
{
    private readonly IObjectStore _store = ftp.CreateStore(tls: true);

    protected override IObjectStore CreateRefusedStore() => ftp.CreateStore(tls: true, password: "not-the-password");

    protected override IObjectStore Store => _store;

    [Fact]
    public async Task ACertificateThatDoesNotMatchThePin_IsRefused()
    {
        var store = ftp.CreateStore(tls: true, pin: new string('A', 64));

        var error = await Assert.ThrowsAsync<StorageException>(() => store.ProbeAsync(CancellationToken.None));

        Assert.Contains("could not connect", error.Message, StringComparison.Ordinal);
    }

    public async ValueTask DisposeAsync() => await ((IAsyncDisposable)_store).DisposeAsync();

    protected override Task AssertNothingEscapedAsync()
    {
        Assert.DoesNotContain(Directory.GetFileSystemEntries(ftp.Home), p => p != ftp.Root);
        return Task.CompletedTask;
    }
}

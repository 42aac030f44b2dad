using EdgeRouter.Storage.Ftp;

namespace EdgeRouter.Tests.Storage.Ftp;

/// <summary>The FTP client's own behaviour against a real server: replies it must handle, and errors that carry them.</summary>
[Collection(FtpServersGroup.Name)]
public sealed class FtpConnectionTests(FtpServersFixture ftp)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Connect_LogsIn_InBinaryMode_AndReadsTheServersFeatures(bool tls)
    {
        using var connection = await FtpConnection.ConnectAsync(ftp.Settings(tls), CancellationToken.None);

        Assert.Contains("EPSV", connection.Features);
        Assert.Contains("SIZE", connection.Features);
        Assert.Contains("MDTM", connection.Features);
        Assert.True(await connection.IsAliveAsync(CancellationToken.None));
        Assert.Equal(200, (await connection.CommandAsync("TYPE I", CancellationToken.None)).Code);
    }

    [Fact]
    public async Task AMissingFile_Answers550_WhichTheClientReportsAsAbsent()
    {
        using var connection = await FtpConnection.ConnectAsync(ftp.Settings(tls: false), CancellationToken.None);

        Assert.Null(await connection.SizeAsync("/objects/no/such/file.png", CancellationToken.None));
        Assert.False(await connection.DeleteAsync("/objects/no/such/file.png", CancellationToken.None));
        var error = await Assert.ThrowsAsync<FtpException>(() => connection.RenameAsync("/objects/no/such/file.png", "/objects/x.png", CancellationToken.None));
        Assert.Equal(550, error.Reply.Code);
        Assert.StartsWith("FTP RNFR /objects/no/such/file.png failed: 550 ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ANameTheServerRefuses_IsAnErrorCarryingItsReply()
    {
        using var connection = await FtpConnection.ConnectAsync(ftp.Settings(tls: false), CancellationToken.None);

        // The server keeps a name that climbs out of the home inside it (its virtual root), where there is no 'etc'
        // folder: refused, and nothing written anywhere in or beside the server's tree.
        var before = Directory.GetFileSystemEntries(ftp.Folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();

        var error = await Assert.ThrowsAsync<FtpException>(() => connection.UploadAsync("/../../etc/escape.png", new MemoryStream(new byte[10]), CancellationToken.None));

        Assert.True(error.Reply.Code is 550 or 553, error.Message);
        Assert.Equal(before, Directory.GetFileSystemEntries(ftp.Folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal));
        Assert.False(Directory.Exists(Path.Combine(Path.GetDirectoryName(ftp.Folder)!, "etc")));
        Assert.False(File.Exists("/etc/escape.png"));
        Assert.True(await connection.IsAliveAsync(CancellationToken.None));
    }

    [Fact]
    public async Task AWrongPassword_Is530_AndTheMessageDoesNotEchoIt()
    {
        var settings = ftp.Settings(tls: false);
        settings.Password = "wrong-password-123";

        var error = await Assert.ThrowsAsync<FtpException>(() => FtpConnection.ConnectAsync(settings, CancellationToken.None));

        Assert.Equal(530, error.Reply.Code);
        Assert.StartsWith("FTP PASS failed: 530", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-password-123", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CommandsWithLineBreaks_AreRefused_SoAKeyCannotInjectACommand()
    {
        using var connection = await FtpConnection.ConnectAsync(ftp.Settings(tls: false), CancellationToken.None);

        await Assert.ThrowsAsync<ArgumentException>(() => connection.CommandAsync("SIZE a\r\nDELE /objects/x", CancellationToken.None));
    }
}

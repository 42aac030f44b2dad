using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.RegularExpressions;

namespace EdgeRouter.Storage.Ftp;

/// <summary>An FTP reply: its three-digit code and text (all lines of a multi-line reply).</summary>
public readonly record struct FtpReply(int Code, string Text)
{
    public bool IsPositive => Code is >= 100 and < 400;

    public override string ToString() => $"{Code} {Text}";
}

/// <summary>The server answered a command with an error; the message carries its reply code and text.</summary>
public sealed class FtpException : Exception
{
    public FtpException(string command, FtpReply reply)
        : base($"FTP {command} failed: {reply}")
    {
        Reply = reply;
    }

    public FtpException()
    {
    }

    public FtpException(string message)
        : base(message)
    {
    }

    public FtpException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public FtpReply Reply { get; }

    /// <summary>550/450: no such file or folder (or, for MKD, it exists already).</summary>
    public bool IsUnavailable => Reply.Code is 550 or 450;
}

/// <summary>
/// One FTP control connection (RFC 959, with EPSV of RFC 2428, SIZE/MDTM/REST of RFC 3659 and FTPS of RFC 4217).
/// Commands are sent one at a time; a data transfer opens its own passive connection, protected by TLS when the
/// control connection is.
/// </summary>
public sealed partial class FtpConnection : IDisposable
{
    private readonly FtpStorageSettings _settings;
    private readonly TcpClient _control = new() { NoDelay = true };
    private readonly byte[] _buffer = new byte[4096];
    private Stream _stream = Stream.Null;
    private IPAddress _serverAddress = IPAddress.Loopback;
    private int _start;
    private int _end;
    private bool _protectData;

    private FtpConnection(FtpStorageSettings settings)
    {
        _settings = settings;
    }

    public IReadOnlySet<string> Features { get; private set; } = new HashSet<string>();

    /// <summary>Connects, secures (explicit or implicit TLS), logs in and sets binary mode.</summary>
    public static async Task<FtpConnection> ConnectAsync(FtpStorageSettings settings, CancellationToken cancellationToken)
    {
        var connection = new FtpConnection(settings);
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    public async Task<FtpReply> CommandAsync(string command, CancellationToken cancellationToken, params int[] accepted)
    {
        if (command.AsSpan().IndexOfAny('\r', '\n') >= 0)
        {
            throw new ArgumentException("FTP commands cannot contain line breaks.", nameof(command));
        }

        await _stream.WriteAsync(Encoding.UTF8.GetBytes(command + "\r\n"), cancellationToken);
        await _stream.FlushAsync(cancellationToken);
        var reply = await ReadReplyAsync(cancellationToken);
        return accepted.Length == 0 || accepted.Contains(reply.Code) ? reply : throw new FtpException(Describe(command), reply);
    }

    /// <summary>Sends <c>STOR</c> and streams <paramref name="content"/>; returns the bytes sent.</summary>
    public async Task<long> UploadAsync(string path, Stream content, CancellationToken cancellationToken)
    {
        using var data = await OpenDataAsync(cancellationToken);
        await CommandAsync($"STOR {path}", cancellationToken, 125, 150);
        var stream = await SecureDataAsync(data, cancellationToken);
        long sent = 0;
        try
        {
            var buffer = new byte[81920];
            int read;
            while ((read = await content.ReadAsync(buffer, cancellationToken)) > 0)
            {
                await stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                sent += read;
            }

            await CloseDataAsync(data, stream, cancellationToken);
        }
        finally
        {
            await stream.DisposeAsync();
        }

        await ExpectAsync("STOR", cancellationToken, 226, 250);
        return sent;
    }

    /// <summary>Opens <c>RETR</c> from <paramref name="offset"/> (REST). Dispose the stream, then call <see cref="FinishDownloadAsync"/>.</summary>
    public async Task<Stream> DownloadAsync(string path, long offset, CancellationToken cancellationToken)
    {
        var data = await OpenDataAsync(cancellationToken);
        try
        {
            if (offset > 0)
            {
                await CommandAsync($"REST {offset.ToString(CultureInfo.InvariantCulture)}", cancellationToken, 350);
            }

            await CommandAsync($"RETR {path}", cancellationToken, 125, 150);
            return await SecureDataAsync(data, cancellationToken);
        }
        catch
        {
            data.Dispose();
            throw;
        }
    }

    /// <summary>Reads the reply that ends a download: 226 when read to the end, 426/451 when closed early (a range).</summary>
    public Task FinishDownloadAsync(CancellationToken cancellationToken) => ExpectAsync("RETR", cancellationToken, 226, 250, 426, 450, 451);

    public async Task<long?> SizeAsync(string path, CancellationToken cancellationToken)
    {
        var reply = await CommandAsync($"SIZE {path}", cancellationToken);
        return reply.Code == 213 ? long.Parse(reply.Text.Trim(), CultureInfo.InvariantCulture)
            : reply.Code is 550 or 450 ? null
            : throw new FtpException("SIZE", reply);
    }

    public async Task<DateTimeOffset?> ModifiedAsync(string path, CancellationToken cancellationToken)
    {
        var reply = await CommandAsync($"MDTM {path}", cancellationToken);
        return reply.Code == 213 && DateTimeOffset.TryParseExact(reply.Text.Trim()[..14], "yyyyMMddHHmmss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var when)
            ? when
            : null;
    }

    /// <summary><c>mkdir -p</c>: creates each missing folder of <paramref name="folder"/>.</summary>
    public async Task CreateFoldersAsync(string folder, CancellationToken cancellationToken)
    {
        var path = string.Empty;
        foreach (var segment in folder.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            path += "/" + segment;
            var reply = await CommandAsync($"MKD {path}", cancellationToken);
            if (reply.Code != 257 && (await CommandAsync($"CWD {path}", cancellationToken)).Code != 250)
            {
                throw new FtpException("MKD", reply);
            }
        }
    }

    public async Task RenameAsync(string from, string to, CancellationToken cancellationToken)
    {
        await CommandAsync($"RNFR {from}", cancellationToken, 350);
        await CommandAsync($"RNTO {to}", cancellationToken, 250);
    }

    public async Task<bool> DeleteAsync(string path, CancellationToken cancellationToken)
    {
        var reply = await CommandAsync($"DELE {path}", cancellationToken);
        return reply.Code is 250 or 200 || (reply.Code is 550 or 450 ? false : throw new FtpException("DELE", reply));
    }

    /// <summary>
    /// The files and folders of <paramref name="path"/> by <c>MLSD</c> (RFC 3659: machine-readable, UTF-8, exact sizes
    /// and UTC times); null when the folder does not exist. Links are left out.
    /// </summary>
    internal async Task<IReadOnlyList<FolderEntry>?> ListFolderAsync(string path, CancellationToken cancellationToken)
    {
        if (!Features.Any(f => f.StartsWith("MLST", StringComparison.OrdinalIgnoreCase)))
        {
            throw new FtpException($"The FTP server does not list folders in RFC 3659 form (no MLST in its FEAT reply); listing needs MLSD.");
        }

        using var data = await OpenDataAsync(cancellationToken);
        var reply = await CommandAsync($"MLSD {path}", cancellationToken);
        if (reply.Code is 550 or 450)
        {
            return null;
        }

        if (reply.Code is not (125 or 150))
        {
            throw new FtpException("MLSD", reply);
        }

        string text;
        var stream = await SecureDataAsync(data, cancellationToken);
        await using (stream)
        {
            using var reader = new StreamReader(stream, Encoding.UTF8);
            text = await reader.ReadToEndAsync(cancellationToken);
        }

        await ExpectAsync("MLSD", cancellationToken, 226, 250);
        var entries = new List<FolderEntry>();
        foreach (var line in text.Split("\r\n", StringSplitOptions.RemoveEmptyEntries))
        {
            // "type=file;size=1234;modify=20240131120000; name": the facts, one space, the name as it is.
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            if (space < 0)
            {
                continue;
            }

            string? type = null;
            long size = 0;
            DateTimeOffset? modified = null;
            foreach (var fact in line[..space].Split(';', StringSplitOptions.RemoveEmptyEntries))
            {
                var equals = fact.IndexOf('=', StringComparison.Ordinal);
                var (name, value) = equals < 0 ? (fact, string.Empty) : (fact[..equals].ToLowerInvariant(), fact[(equals + 1)..]);
                switch (name)
                {
                    case "type":
                        type = value.ToLowerInvariant();
                        break;
                    case "size":
                        size = long.TryParse(value, CultureInfo.InvariantCulture, out var bytes) ? bytes : 0;
                        break;
                    case "modify" when value.Length >= 14 && DateTimeOffset.TryParseExact(value[..14], "yyyyMMddHHmmss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var when):
                        modified = when;
                        break;
                }
            }

            if (type is "file" or "dir")
            {
                entries.Add(new FolderEntry(line[(space + 1)..], type == "dir", size, modified));
            }
        }

        return entries;
    }

    /// <summary>NOOP: true when the connection still answers.</summary>
    public async Task<bool> IsAliveAsync(CancellationToken cancellationToken)
    {
        if (!_control.Connected)
        {
            return false;
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            return (await CommandAsync("NOOP", timeout.Token)).Code == 200;
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or FtpException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        _stream.Dispose();
        _control.Dispose();
    }

    private async Task OpenAsync(CancellationToken cancellationToken)
    {
        await _control.ConnectAsync(_settings.Host!, _settings.Port, cancellationToken);
        _serverAddress = ((IPEndPoint)_control.Client.RemoteEndPoint!).Address;
        _stream = _control.GetStream();
        if (_settings.Tls == FtpTls.Implicit)
        {
            _stream = await AuthenticateAsync(_stream, cancellationToken);
        }

        await ExpectAsync("connect", cancellationToken, 220);
        if (_settings.Tls == FtpTls.Explicit)
        {
            await CommandAsync("AUTH TLS", cancellationToken, 234);
            if (_start != _end)
            {
                throw new FtpException("The server sent data before the TLS handshake.");
            }

            _stream = await AuthenticateAsync(_stream, cancellationToken);
        }

        var user = await CommandAsync($"USER {_settings.Username}", cancellationToken, 230, 331);
        if (user.Code == 331)
        {
            await CommandAsync($"PASS {_settings.Password}", cancellationToken, 230, 202);
        }

        if (_settings.Tls != FtpTls.None)
        {
            await CommandAsync("PBSZ 0", cancellationToken, 200);
            await CommandAsync("PROT P", cancellationToken, 200);
            _protectData = true;
        }

        var feat = await CommandAsync("FEAT", cancellationToken);
        Features = feat.Code == 211
            ? feat.Text.Split('\n').Skip(1).Select(l => l.Trim().Split(' ')[0].ToUpperInvariant()).Where(f => f.Length > 0).ToHashSet()
            : [];
        if (Features.Contains("UTF8"))
        {
            await CommandAsync("OPTS UTF8 ON", cancellationToken);
        }

        await CommandAsync("TYPE I", cancellationToken, 200);
    }

    private async Task<Stream> AuthenticateAsync(Stream inner, CancellationToken cancellationToken)
    {
        var tls = new SslStream(inner, leaveInnerStreamOpen: false, ValidateCertificate);

        // TLS 1.2 lets the data channels resume the control channel's session, which servers such as vsftpd require.
        await tls.AuthenticateAsClientAsync(
            new SslClientAuthenticationOptions { TargetHost = _settings.Host, EnabledSslProtocols = System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13 },
            cancellationToken);
        return tls;
    }

    private bool ValidateCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (string.IsNullOrEmpty(_settings.TlsCertificateSha256))
        {
            return errors == SslPolicyErrors.None;
        }

        // Pinned: exactly this certificate, whatever its issuer.
        var expected = _settings.TlsCertificateSha256.Replace(":", string.Empty, StringComparison.Ordinal);
        return certificate is not null
            && string.Equals(Convert.ToHexString(SHA256.HashData(certificate.GetRawCertData())), expected, StringComparison.OrdinalIgnoreCase);
    }

    private async Task<TcpClient> OpenDataAsync(CancellationToken cancellationToken)
    {
        int port;
        var epsv = await CommandAsync("EPSV", cancellationToken);
        if (epsv.Code == 229 && EpsvPort().Match(epsv.Text) is { Success: true } e)
        {
            port = int.Parse(e.Groups[1].Value, CultureInfo.InvariantCulture);
        }
        else
        {
            var pasv = await CommandAsync("PASV", cancellationToken, 227);
            var m = PasvAddress().Match(pasv.Text);
            if (!m.Success)
            {
                throw new FtpException("PASV", pasv);
            }

            // The address in the reply is ignored: a server behind NAT reports a private one, and a hostile one could
            // point the router at any host. The data connection goes where the control connection goes.
            port = (int.Parse(m.Groups[5].Value, CultureInfo.InvariantCulture) * 256) + int.Parse(m.Groups[6].Value, CultureInfo.InvariantCulture);
        }

        var data = new TcpClient { NoDelay = true };
        try
        {
            await data.ConnectAsync(_serverAddress, port, cancellationToken);
            return data;
        }
        catch
        {
            data.Dispose();
            throw;
        }
    }

    private async Task<Stream> SecureDataAsync(TcpClient data, CancellationToken cancellationToken)
        => _protectData ? await AuthenticateAsync(data.GetStream(), cancellationToken) : data.GetStream();

    /// <summary>
    /// Ends an upload so that the server keeps every byte: TLS close_notify (or a TCP half-close), then read the
    /// server's side to its end before closing. Closing with unread data (the server's close_notify) makes the
    /// kernel send a reset, and the server then drops what it had not read yet: a silently truncated file.
    /// </summary>
    private static async Task CloseDataAsync(TcpClient data, Stream stream, CancellationToken cancellationToken)
    {
        if (stream is SslStream tls)
        {
            await tls.ShutdownAsync();
        }
        else
        {
            data.Client.Shutdown(SocketShutdown.Send);
        }

        using var drain = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        drain.CancelAfter(TimeSpan.FromSeconds(30));
        var buffer = new byte[512];
        while (await stream.ReadAsync(buffer, drain.Token) > 0)
        {
        }
    }

    private async Task ExpectAsync(string command, CancellationToken cancellationToken, params int[] accepted)
    {
        var reply = await ReadReplyAsync(cancellationToken);
        if (!accepted.Contains(reply.Code))
        {
            throw new FtpException(command, reply);
        }
    }

    private async Task<FtpReply> ReadReplyAsync(CancellationToken cancellationToken)
    {
        var first = await ReadLineAsync(cancellationToken);
        if (first.Length < 3 || !int.TryParse(first.AsSpan(0, 3), NumberStyles.None, CultureInfo.InvariantCulture, out var code))
        {
            throw new FtpException($"The server sent a malformed reply: '{first}'.");
        }

        if (first.Length < 4 || first[3] != '-')
        {
            return new FtpReply(code, first.Length > 4 ? first[4..] : string.Empty);
        }

        // Multi-line: ends with the same code followed by a space.
        var text = new StringBuilder(first[4..]);
        string line;
        do
        {
            line = await ReadLineAsync(cancellationToken);
            text.Append('\n').Append(line);
        }
        while (!(line.Length >= 4 && line.StartsWith(first[..3], StringComparison.Ordinal) && line[3] == ' '));

        return new FtpReply(code, text.ToString());
    }

    private async Task<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        var line = new List<byte>(128);
        while (true)
        {
            if (_start == _end)
            {
                _start = 0;
                _end = await _stream.ReadAsync(_buffer, cancellationToken);
                if (_end == 0)
                {
                    throw new IOException("The FTP server closed the connection.");
                }
            }

            var b = _buffer[_start++];
            if (b == '\n')
            {
                return Encoding.UTF8.GetString(line.ToArray()).TrimEnd('\r');
            }

            line.Add(b);
        }
    }

    // Never echo a password into an error message.
    private static string Describe(string command) => command.StartsWith("PASS ", StringComparison.Ordinal) ? "PASS" : command;

    [GeneratedRegex(@"\(\|\|\|(\d+)\|\)")]
    private static partial Regex EpsvPort();

    [GeneratedRegex(@"(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)")]
    private static partial Regex PasvAddress();
}

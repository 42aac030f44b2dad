using System.Diagnostics;
using EdgeRouter.Storage;
using EdgeRouter.Storage.Ftp;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.Storage.Ftp;

/// <summary>
/// Two real FTP servers (pyftpdlib) on loopback, started once for all FTP tests: plain FTP, and FTPS with
/// explicit AUTH TLS required on control and data, using a self-signed certificate the client pins.
/// </summary>
public sealed class FtpServersFixture : IAsyncLifetime
{
    public const string User = "edgerouter";
    public const string Password = "ftp-test-password";

    private ServerProcess? _plain;
    private ServerProcess? _tls;

    public string Folder { get; } = Directory.CreateTempSubdirectory("edgerouter-ftp-").FullName;

    /// <summary>The user's home on the server; objects go under <c>/objects</c> inside it.</summary>
    public string Home => Path.Combine(Folder, "home");

    public string Root => Path.Combine(Home, "objects");

    public int PlainPort { get; } = ServerProcess.FreePort();

    public int TlsPort { get; } = ServerProcess.FreePort();

    public string CertificateSha256 { get; private set; } = string.Empty;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Home);
        Run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
            "-keyout", Path.Combine(Folder, "key.pem"), "-out", Path.Combine(Folder, "cert.pem"));
        CertificateSha256 = Run("openssl", "x509", "-in", Path.Combine(Folder, "cert.pem"), "-noout", "-fingerprint", "-sha256").Split('=')[1].Trim();
        await StartPlainAsync();
        _tls = Server("ftps", TlsPort, "--cert", Path.Combine(Folder, "cert.pem"), "--key", Path.Combine(Folder, "key.pem"));
        await _tls.StartAsync();
    }

    public async Task StartPlainAsync()
    {
        _plain = Server("ftp", PlainPort);
        await _plain.StartAsync();
    }

    /// <summary>Kills the plain server and its sessions at once, as a crash does.</summary>
    public Task KillPlainAsync() => _plain?.KillAsync() ?? Task.CompletedTask;

    public string StorageJson(string id = "ftp", bool tls = false, int weight = 1, string? password = null, string? pin = null) => $$"""
        { "id": "{{id}}", "api": "ftp", "read": "stream", "weight": {{weight}}, "host": "127.0.0.1", "port": {{(tls ? TlsPort : PlainPort)}},
          "username": "{{User}}", "password": "{{password ?? Password}}", "tls": "{{(tls ? "explicit" : "none")}}",
          {{(tls ? $"\"tlsCertificateSha256\": \"{pin ?? CertificateSha256}\"," : string.Empty)}}
          "root": "/objects", "poolSize": 4, "timeoutSeconds": 10 }
        """;

    public IObjectStore CreateStore(bool tls = false, string? password = null, string? pin = null)
        => TestStores.Create(new FtpStorageProvider(), StorageJson(tls: tls, password: password, pin: pin), Folder);

    public FtpStorageSettings Settings(bool tls) => new()
    {
        Host = "127.0.0.1",
        Port = tls ? TlsPort : PlainPort,
        Username = User,
        Password = Password,
        Tls = tls ? FtpTls.Explicit : FtpTls.None,
        TlsCertificateSha256 = tls ? CertificateSha256 : null,
        Root = "/objects",
    };

    public async Task DisposeAsync()
    {
        foreach (var server in new[] { _plain, _tls })
        {
            if (server is not null)
            {
                await server.KillAsync();
            }
        }

        Directory.Delete(Folder, recursive: true);
    }

    private ServerProcess Server(string name, int port, params string[] extra) => new(
        name,
        "/usr/bin/python3",
        [Path.Combine(Repository.Root, "tests", "servers", "ftp_server.py"), "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
         "--directory", Home, "--user", User, "--password", Password, .. extra],
        port);

    private static string Run(string file, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? output : throw new InvalidOperationException($"{file} failed: {error}");
    }
}

[CollectionDefinition(Name)]
public sealed class FtpServersGroup : ICollectionFixture<FtpServersFixture>
{
    public const string Name = "ftp servers";
}

using System.Diagnostics;
using EdgeRouter.Storage;
using EdgeRouter.Storage.Sftp;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.Storage.Sftp;

/// <summary>
/// A real OpenSSH sshd on loopback with its own config, host key and test user, started once for all SFTP tests.
/// The user is confined with <c>ForceCommand internal-sftp -d</c> (a chroot needs root-owned parents, which a temp
/// folder does not have). Needs root, as CI has, to create the test user.
/// </summary>
public sealed class SshdFixture : IAsyncLifetime
{
    public const string User = "edgerouter-sftp";
    public const string Password = "Sftp-Test-Pass-1";

    private ServerProcess? _server;

    public string Folder { get; } = Directory.CreateTempSubdirectory("edgerouter-sshd-").FullName;

    /// <summary>The folder the test user writes under; objects go to <see cref="Root"/> inside it.</summary>
    public string Base => Path.Combine(Folder, "base");

    public string Root => Path.Combine(Base, "objects");

    public int Port { get; } = ServerProcess.FreePort();

    public string HostKeyFingerprint { get; private set; } = string.Empty;

    public string ClientKeyPath => Path.Combine(Folder, "client");

    public async Task InitializeAsync()
    {
        if (!string.Equals(Environment.UserName, "root", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("The SFTP tests create a system user for sshd and need root (CI runs as root).");
        }

        File.SetUnixFileMode(Folder, (UnixFileMode)0x1ED);
        Commands.Run("ssh-keygen", "-q", "-t", "ed25519", "-N", string.Empty, "-f", Path.Combine(Folder, "hostkey"));
        Commands.Run("ssh-keygen", "-q", "-t", "ed25519", "-N", string.Empty, "-f", ClientKeyPath);
        File.Copy(ClientKeyPath + ".pub", Path.Combine(Folder, "authorized_keys"));
        File.SetUnixFileMode(Path.Combine(Folder, "authorized_keys"), (UnixFileMode)0x1A4);
        if (Commands.Run("id", User).ExitCode != 0)
        {
            Commands.Run("useradd", "-M", "-s", "/usr/sbin/nologin", User);
        }

        Commands.Run("sh", "-c", $"echo '{User}:{Password}' | chpasswd");
        Directory.CreateDirectory(Base);
        Commands.Run("chown", User, Base);
        Directory.CreateDirectory("/run/sshd");
        HostKeyFingerprint = Commands.Run("ssh-keygen", "-lf", Path.Combine(Folder, "hostkey.pub")).Output.Split(' ')[1];
        await File.WriteAllTextAsync(Path.Combine(Folder, "sshd_config"), $"""
            Port {Port}
            ListenAddress 127.0.0.1
            HostKey {Folder}/hostkey
            PidFile {Folder}/sshd.pid
            AuthorizedKeysFile {Folder}/authorized_keys
            PasswordAuthentication yes
            PubkeyAuthentication yes
            KbdInteractiveAuthentication no
            UsePAM no
            StrictModes no
            MaxStartups 100
            MaxSessions 100
            AllowUsers {User}
            Subsystem sftp internal-sftp
            ForceCommand internal-sftp -d {Base}
            """);
        await StartAsync();
    }

    public async Task StartAsync()
    {
        _server = new ServerProcess("sshd", "/usr/sbin/sshd", ["-D", "-e", "-f", Path.Combine(Folder, "sshd_config")], Port);
        await _server.StartAsync();
    }

    /// <summary>Kills sshd and every open session at once, as a crash does.</summary>
    public Task KillAsync() => _server?.KillAsync() ?? Task.CompletedTask;

    /// <summary>A storages.json entry for this server, with key authentication unless a password is given.</summary>
    public string StorageJson(string id = "sftp", string read = "stream", int weight = 1, string? password = null, string? fingerprint = null) => $$"""
        { "id": "{{id}}", "api": "sftp", "read": "{{read}}", "weight": {{weight}}, "host": "127.0.0.1", "port": {{Port}}, "username": "{{User}}",
          {{(password is null ? $"\"privateKey\": \"{ClientKeyPath}\"" : $"\"password\": \"{password}\"")}},
          "hostKeyFingerprint": "{{fingerprint ?? HostKeyFingerprint}}", "root": "{{Root}}", "poolSize": 4, "timeoutSeconds": 10 }
        """;

    /// <summary>A store built from <see cref="StorageJson"/> through the production provider.</summary>
    public IObjectStore CreateStore(string? password = null, string? fingerprint = null)
        => TestStores.Create(new SftpStorageProvider(), StorageJson(password: password, fingerprint: fingerprint), Folder);

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.KillAsync();
        }

        Directory.Delete(Folder, recursive: true);
    }

}

[CollectionDefinition(Name)]
public sealed class SshdGroup : ICollectionFixture<SshdFixture>
{
    public const string Name = "sshd";
}

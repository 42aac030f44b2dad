using System.Text;
using EdgeRouter.Configuration;
using Renci.SshNet;

namespace EdgeRouter.Storage.Sftp;

/// <summary>The <c>sftp</c> API (SSH.NET): password and/or key authentication, pinned host key, a small client pool.</summary>
internal sealed class SftpStorageProvider : IStorageProvider
{
    public string Api => StorageProviders.Sftp;

    public void Validate(StorageConfig config, StorageValidationContext context)
    {
        if (StorageSettings.Bind<SftpStorageSettings>(config, context) is not { } s)
        {
            return;
        }

        if (string.IsNullOrWhiteSpace(s.Host))
        {
            context.AddError("host", "is required.");
        }

        if (s.Port is < 1 or > 65535)
        {
            context.AddError("port", "must be between 1 and 65535.");
        }

        if (string.IsNullOrWhiteSpace(s.Username))
        {
            context.AddError("username", "is required.");
        }

        if (string.IsNullOrEmpty(s.Password) && string.IsNullOrEmpty(s.PrivateKey))
        {
            context.AddError("password", "or 'privateKey' is required.");
        }

        if (string.IsNullOrWhiteSpace(s.HostKeyFingerprint) && !s.TrustAnyHostKey)
        {
            context.AddError("hostKeyFingerprint", "is required (SHA256:… as 'ssh-keygen -lf' prints it), unless 'trustAnyHostKey' is set explicitly.");
        }

        if (string.IsNullOrWhiteSpace(s.Root) || !s.Root.StartsWith('/'))
        {
            context.AddError("root", "must be an absolute folder on the server, e.g. /var/www/images.");
        }

        if (s.PoolSize is < 1 or > 64)
        {
            context.AddError("poolSize", "must be between 1 and 64.");
        }
    }

    public IObjectStore Create(StorageConfig config, StorageProviderContext context)
    {
        var s = StorageSettings.Bind<SftpStorageSettings>(config, null)!;
        var root = s.Root!.TrimEnd('/');
        var pool = new ConnectionPool<SftpClient>(
            async cancellationToken =>
            {
                var client = CreateClient(s, context.ContentRoot);
                try
                {
                    // Connected with the blocking call, on the thread pool. SSH.NET's ConnectAsync waits for the key
                    // exchange with a blocking wait inside the socket's completion; with inline socket completions
                    // (the shipped setting) that completion runs on the socket thread that must deliver the
                    // server's answer, and every SSH connection stalled until its timeout. A socket never used
                    // asynchronously reads with plain blocking calls, on SSH.NET's own listener thread.
                    await Task.Run(client.Connect, cancellationToken);
                    return client;
                }
                catch
                {
                    client.Dispose();
                    throw;
                }
            },
            (client, _) => Task.FromResult(client.IsConnected),
            s.PoolSize);
        return new SftpObjectStore(config.Id!, root.Length == 0 ? "/" : root, pool);
    }

    private static SftpClient CreateClient(SftpStorageSettings s, string contentRoot)
    {
        var methods = new List<AuthenticationMethod>();
        if (!string.IsNullOrEmpty(s.PrivateKey))
        {
            var keyText = s.PrivateKey.Contains("PRIVATE KEY", StringComparison.Ordinal)
                ? s.PrivateKey
                : File.ReadAllText(Path.GetFullPath(s.PrivateKey, contentRoot));
            using var keyStream = new MemoryStream(Encoding.UTF8.GetBytes(keyText));
            methods.Add(new PrivateKeyAuthenticationMethod(s.Username, new PrivateKeyFile(keyStream, s.PrivateKeyPassphrase)));
        }

        if (!string.IsNullOrEmpty(s.Password))
        {
            methods.Add(new PasswordAuthenticationMethod(s.Username, s.Password));
        }

        var connection = new Renci.SshNet.ConnectionInfo(s.Host!, s.Port, s.Username!, [.. methods]) { Timeout = TimeSpan.FromSeconds(s.TimeoutSeconds) };
        var client = new SftpClient(connection) { OperationTimeout = TimeSpan.FromSeconds(s.TimeoutSeconds) };
        var expected = Normalize(s.HostKeyFingerprint);
        client.HostKeyReceived += (_, e) =>
            e.CanTrust = s.TrustAnyHostKey || string.Equals(Normalize(e.FingerPrintSHA256), expected, StringComparison.Ordinal);
        return client;
    }

    /// <summary><c>SHA256:abc=</c> and <c>abc</c> name the same key: compare the bare base64 without padding.</summary>
    internal static string? Normalize(string? fingerprint)
        => fingerprint?.Trim().Replace("SHA256:", string.Empty, StringComparison.OrdinalIgnoreCase).TrimEnd('=');
}

namespace EdgeRouter.Storage.Sftp;

/// <summary>The <c>sftp</c> API's fields in storages.json.</summary>
public sealed class SftpStorageSettings
{
    public string? Host { get; set; }

    public int Port { get; set; } = 22;

    public string? Username { get; set; }

    public string? Password { get; set; }

    /// <summary>A private key, PEM/OpenSSH text inline or the path of a key file.</summary>
    public string? PrivateKey { get; set; }

    public string? PrivateKeyPassphrase { get; set; }

    /// <summary>The server's host key as <c>ssh-keygen -lf</c> prints it: <c>SHA256:base64</c>. A different key is refused.</summary>
    public string? HostKeyFingerprint { get; set; }

    /// <summary>Accept whatever host key the server presents. Off: only for a network you trust end to end.</summary>
    public bool TrustAnyHostKey { get; set; }

    /// <summary>Absolute folder on the server under which objects are written.</summary>
    public string? Root { get; set; }

    /// <summary>Connected clients kept open for reuse.</summary>
    public int PoolSize { get; set; } = 4;

    public int TimeoutSeconds { get; set; } = 30;
}

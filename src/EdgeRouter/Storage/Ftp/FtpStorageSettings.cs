using System.Text.Json.Serialization;

namespace EdgeRouter.Storage.Ftp;

/// <summary>How the FTP connection is protected.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<FtpTls>))]
public enum FtpTls
{
    /// <summary>Plain FTP: credentials and files travel in clear text.</summary>
    None,

    /// <summary>FTPS by <c>AUTH TLS</c> on the normal port (RFC 4217), with protected data channels.</summary>
    Explicit,

    /// <summary>FTPS with TLS from the first byte (usually port 990).</summary>
    Implicit,
}

/// <summary>The <c>ftp</c> API's fields in storages.json.</summary>
public sealed class FtpStorageSettings
{
    public string? Host { get; set; }

    public int Port { get; set; } = 21;

    public string? Username { get; set; }

    public string? Password { get; set; }

    public FtpTls Tls { get; set; } = FtpTls.None;

    /// <summary>Passive mode (EPSV, falling back to PASV). Active mode is not supported: it does not cross NAT or firewalls.</summary>
    public bool Passive { get; set; } = true;

    /// <summary>SHA-256 of the server's certificate (hex, colons allowed), to trust a self-signed certificate. Without it the system's trust applies.</summary>
    public string? TlsCertificateSha256 { get; set; }

    /// <summary>Absolute folder on the server under which objects are written.</summary>
    public string? Root { get; set; }

    public int PoolSize { get; set; } = 4;

    public int TimeoutSeconds { get; set; } = 30;
}

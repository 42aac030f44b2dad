using System.Text.RegularExpressions;
using EdgeRouter.Configuration;

namespace EdgeRouter.Storage.Ftp;

/// <summary>The <c>ftp</c> API: a focused FTP/FTPS client (<see cref="FtpConnection"/>) with a small connection pool.</summary>
internal sealed partial class FtpStorageProvider : IStorageProvider
{
    public string Api => StorageProviders.Ftp;

    public void Validate(StorageConfig config, StorageValidationContext context)
    {
        if (StorageSettings.Bind<FtpStorageSettings>(config, context) is not { } s)
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

        if (string.IsNullOrWhiteSpace(s.Username) || s.Password is null)
        {
            context.AddError("username", "and 'password' are required.");
        }

        if (!s.Passive)
        {
            context.AddError("passive", "must be true: active mode needs the server to connect back through firewalls and NAT, which is not supported.");
        }

        if (s.TlsCertificateSha256 is { } pin && !Sha256Hex().IsMatch(pin.Replace(":", string.Empty, StringComparison.Ordinal)))
        {
            context.AddError("tlsCertificateSha256", "must be 64 hex digits (colons allowed), as 'openssl x509 -fingerprint -sha256' prints.");
        }

        if (s.TlsCertificateSha256 is not null && s.Tls == FtpTls.None)
        {
            context.AddError("tlsCertificateSha256", "needs 'tls' set to 'explicit' or 'implicit'.");
        }

        if (string.IsNullOrWhiteSpace(s.Root) || !s.Root.StartsWith('/'))
        {
            context.AddError("root", "must be an absolute folder on the server, e.g. /public_html/images.");
        }

        if (s.PoolSize is < 1 or > 64)
        {
            context.AddError("poolSize", "must be between 1 and 64.");
        }
    }

    public IObjectStore Create(StorageConfig config, StorageProviderContext context)
    {
        var s = StorageSettings.Bind<FtpStorageSettings>(config, null)!;
        var timeout = TimeSpan.FromSeconds(s.TimeoutSeconds);
        var pool = new ConnectionPool<FtpConnection>(
            async cancellationToken =>
            {
                using var connecting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                connecting.CancelAfter(timeout);
                try
                {
                    return await FtpConnection.ConnectAsync(s, connecting.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new TimeoutException($"Connecting to {s.Host}:{s.Port} took longer than {timeout.TotalSeconds:0} s.");
                }
            },
            (connection, cancellationToken) => connection.IsAliveAsync(cancellationToken),
            s.PoolSize);
        return new FtpObjectStore(config.Id!, s.Root!.TrimEnd('/'), pool);
    }

    [GeneratedRegex("^[0-9a-fA-F]{64}$")]
    private static partial Regex Sha256Hex();
}

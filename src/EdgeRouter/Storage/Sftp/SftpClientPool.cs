using System.Collections.Concurrent;
using Renci.SshNet;
using Renci.SshNet.Common;

namespace EdgeRouter.Storage.Sftp;

/// <summary>
/// A few connected SFTP clients, reused across requests instead of a connection per request. A client that
/// dropped is reconnected when rented; one that failed mid-operation is discarded, not returned.
/// </summary>
internal sealed class SftpClientPool(Func<SftpClient> create, int size) : IDisposable
{
    private readonly ConcurrentBag<SftpClient> _idle = [];
    private readonly SemaphoreSlim _slots = new(size, size);

    public async Task<Lease> RentAsync(CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken);
        try
        {
            while (_idle.TryTake(out var idle))
            {
                if (idle.IsConnected)
                {
                    return new Lease(this, idle);
                }

                idle.Dispose();
            }

            var client = create();
            try
            {
                await client.ConnectAsync(cancellationToken);
            }
            catch
            {
                client.Dispose();
                throw;
            }

            return new Lease(this, client);
        }
        catch
        {
            _slots.Release();
            throw;
        }
    }

    public void Dispose()
    {
        while (_idle.TryTake(out var client))
        {
            client.Dispose();
        }

        _slots.Dispose();
    }

    private void Return(SftpClient client, bool healthy)
    {
        if (healthy && client.IsConnected)
        {
            _idle.Add(client);
        }
        else
        {
            client.Dispose();
        }

        _slots.Release();
    }

    /// <summary>One rented client. Mark it <see cref="Broken"/> when an operation failed in a way that may have left it unusable.</summary>
    public sealed class Lease(SftpClientPool pool, SftpClient client) : IDisposable
    {
        private int _returned;

        public SftpClient Client { get; } = client;

        public bool Broken { get; set; }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _returned, 1) == 0)
            {
                pool.Return(Client, !Broken);
            }
        }
    }

    /// <summary>Failures that mean the connection itself is gone, not just one file operation.</summary>
    public static bool IsConnectionFailure(Exception ex) => ex is SshConnectionException or ObjectDisposedException or System.Net.Sockets.SocketException or SshOperationTimeoutException;
}

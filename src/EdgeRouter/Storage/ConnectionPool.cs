using System.Collections.Concurrent;

namespace EdgeRouter.Storage;

/// <summary>
/// A few open connections to a backend (SFTP, FTP), reused across requests instead of one per request. A
/// connection that dropped is replaced when rented; one that failed mid-operation is discarded, not returned.
/// </summary>
internal sealed class ConnectionPool<T>(Func<CancellationToken, Task<T>> connect, Func<T, CancellationToken, Task<bool>> isAlive, int size) : IDisposable
    where T : class, IDisposable
{
    private readonly ConcurrentBag<T> _idle = [];
    private readonly SemaphoreSlim _slots = new(size, size);

    public async Task<Lease> RentAsync(CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken);
        try
        {
            while (_idle.TryTake(out var idle))
            {
                if (await isAlive(idle, cancellationToken))
                {
                    return new Lease(this, idle);
                }

                idle.Dispose();
            }

            return new Lease(this, await connect(cancellationToken));
        }
        catch
        {
            _slots.Release();
            throw;
        }
    }

    public void Dispose()
    {
        while (_idle.TryTake(out var connection))
        {
            connection.Dispose();
        }

        _slots.Dispose();
    }

    private void Return(T connection, bool healthy)
    {
        if (healthy)
        {
            _idle.Add(connection);
        }
        else
        {
            connection.Dispose();
        }

        _slots.Release();
    }

    /// <summary>One rented connection. Set <see cref="Broken"/> when an operation may have left it unusable.</summary>
    public sealed class Lease(ConnectionPool<T> pool, T connection) : IDisposable
    {
        private int _returned;

        public T Connection { get; } = connection;

        public bool Broken { get; set; }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _returned, 1) == 0)
            {
                pool.Return(Connection, !Broken);
            }
        }
    }
}

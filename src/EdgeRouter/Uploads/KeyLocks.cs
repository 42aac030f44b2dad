namespace EdgeRouter.Uploads;

/// <summary>A lock on a key held across instances, so a write in one cannot interleave with a delete in another.</summary>
public interface IDistributedKeyLock
{
    ValueTask<IAsyncDisposable> AcquireAsync(string key, CancellationToken cancellationToken);
}

/// <summary>
/// Serialises writes and deletes of one key within this instance (striped, so memory stays fixed), so a check in
/// the catalog and the write that follows it cannot interleave with another writer of the same key. With a shared
/// catalog, the key is also locked across instances (<see cref="IDistributedKeyLock"/>).
/// </summary>
public sealed class KeyLocks(IDistributedKeyLock? distributed = null)
{
    private readonly SemaphoreSlim[] _stripes = Enumerable.Range(0, 256).Select(_ => new SemaphoreSlim(1, 1)).ToArray();

    public async ValueTask<IAsyncDisposable> AcquireAsync(string key, CancellationToken cancellationToken)
    {
        var stripe = _stripes[(uint)StringComparer.Ordinal.GetHashCode(key) % (uint)_stripes.Length];
        await stripe.WaitAsync(cancellationToken);
        try
        {
            return new Releaser(stripe, distributed is null ? null : await distributed.AcquireAsync(key, cancellationToken));
        }
        catch
        {
            stripe.Release();
            throw;
        }
    }

    private sealed class Releaser(SemaphoreSlim stripe, IAsyncDisposable? shared) : IAsyncDisposable
    {
        private int _released;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                try
                {
                    if (shared is not null)
                    {
                        await shared.DisposeAsync();
                    }
                }
                finally
                {
                    stripe.Release();
                }
            }
        }
    }
}

using EdgeRouter.Catalog;

namespace EdgeRouter.Placement;

/// <summary>
/// Bytes and objects per storage, loaded once from the catalog and kept current by this instance's writes, plus
/// the bytes of uploads in flight, so concurrent uploads cannot together overfill a storage.
/// </summary>
public sealed class StorageUsageTracker(IObjectCatalog catalog, ICapacityLedger? ledger = null) : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, (StorageUsage Usage, long Reserved)> _usage = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _loadGate = new(1, 1);
    private volatile bool _loaded;

    public async ValueTask EnsureLoadedAsync(CancellationToken cancellationToken)
    {
        if (_loaded)
        {
            return;
        }

        await _loadGate.WaitAsync(cancellationToken);
        try
        {
            if (_loaded)
            {
                return;
            }

            var usage = await catalog.GetUsageAsync(cancellationToken);
            lock (_lock)
            {
                foreach (var (id, value) in usage)
                {
                    _usage[id] = (value, _usage.GetValueOrDefault(id).Reserved);
                }
            }

            _loaded = true;
        }
        finally
        {
            _loadGate.Release();
        }
    }

    public void Dispose() => _loadGate.Dispose();

    /// <summary>Runs <paramref name="choose"/> under the tracker's lock, so a choice and its reservation are one step.</summary>
    internal T WithLock<T>(Func<Func<string, (StorageUsage Usage, long Reserved)>, T> choose)
    {
        lock (_lock)
        {
            return choose(id => _usage.GetValueOrDefault(id));
        }
    }

    /// <summary>Holds <paramref name="bytes"/> on a storage for an upload in flight. Call under <see cref="WithLock{T}"/>.</summary>
    internal void ReserveLocked(string storageId, long bytes)
    {
        var current = _usage.GetValueOrDefault(storageId);
        _usage[storageId] = (current.Usage, current.Reserved + bytes);
    }

    public void Release(string storageId, long reservedBytes) => Apply(storageId, 0, 0, reservedBytes);

    /// <summary>Gives back a placement's room: here and, with a shared catalog, in the ledger.</summary>
    public async ValueTask ReleaseAsync(Placement placement)
    {
        Release(placement.Storage!.Id, placement.Reserved);
        await ReleaseSharedAsync(placement);
    }

    /// <summary>Turns a placement's reservation into stored bytes; the shared catalog counts them from its records.</summary>
    public async ValueTask CommitAsync(Placement placement, long storedBytes)
    {
        Apply(placement.Storage!.Id, storedBytes, 1, placement.Reserved);
        await ReleaseSharedAsync(placement);
    }

    /// <summary>Counts an object found on its storage (an import): the catalog's records already count it.</summary>
    public void Add(string storageId, long bytes) => Apply(storageId, bytes, 1, 0);

    /// <summary>Takes a deleted or replaced object off its storage.</summary>
    public void Remove(string storageId, long bytes) => Apply(storageId, -bytes, -1, 0);

    private async ValueTask ReleaseSharedAsync(Placement placement)
    {
        if (ledger is not null && placement.SharedReservation is { } reservation)
        {
            try
            {
                await ledger.ReleaseAsync(reservation, CancellationToken.None);
            }
            catch (CatalogUnavailableException)
            {
                // The reservation expires on its own; holding a little room a while longer is the safe side.
            }
        }
    }

    /// <summary>Whether the usage has been read from the catalog (before that, <see cref="UsageOf"/> knows nothing).</summary>
    public bool Loaded => _loaded;

    /// <summary>What the storage holds, as this instance knows it (its own writes since the catalog was read).</summary>
    public StorageUsage UsageOf(string storageId)
    {
        lock (_lock)
        {
            return _usage.GetValueOrDefault(storageId).Usage;
        }
    }

    private void Apply(string storageId, long bytes, long objects, long releasedReservation)
    {
        lock (_lock)
        {
            var (usage, reserved) = _usage.GetValueOrDefault(storageId);
            _usage[storageId] = (new StorageUsage(usage.Bytes + bytes, usage.Objects + objects), Math.Max(0, reserved - releasedReservation));
        }
    }
}

using System.Collections.Frozen;
using EdgeRouter.Configuration;
using EdgeRouter.Health;
using EdgeRouter.Storage;
using Microsoft.Extensions.Options;

namespace EdgeRouter.Placement;

public enum PlacementFailure
{
    None,

    /// <summary>No storage is active and weighted above 0, or every one of them failed this upload (503).</summary>
    NoStorageAvailable,

    /// <summary>Storages could take uploads but none has room for this one (507).</summary>
    InsufficientStorage,
}

/// <summary>
/// A storage chosen for an upload, with the bytes reserved on it until the upload commits or fails; with a shared
/// catalog, also the reservation in the <see cref="ICapacityLedger"/>.
/// </summary>
public readonly record struct Placement(StorageDefinition? Storage, long Reserved, PlacementFailure Failure, Guid? SharedReservation = null);

/// <summary>Filters the storages that may take an upload, lets the configured policy choose, and reserves room.</summary>
public sealed class StoragePlacer
{
    private readonly IStorageRegistry _registry;
    private readonly IStorageHealth _health;
    private readonly StorageUsageTracker _usage;
    private readonly IPlacementPolicy _policy;
    private readonly ICapacityLedger? _ledger;

    public StoragePlacer(IStorageRegistry registry, IStorageHealth health, StorageUsageTracker usage, IEnumerable<IPlacementPolicy> policies, IOptions<EdgeRouterOptions> options, ICapacityLedger? ledger = null)
    {
        _ledger = ledger;
        _registry = registry;
        _health = health;
        _usage = usage;
        var lookup = policies.ToFrozenDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
        var name = options.Value.PlacementPolicy;
        _policy = lookup.TryGetValue(name, out var policy)
            ? policy
            : throw new InvalidOperationException($"EdgeRouter:PlacementPolicy: '{name}' is not a known policy (known: {string.Join(", ", lookup.Keys)}).");
    }

    /// <summary>Chooses a storage for an object of about <paramref name="size"/> bytes, skipping <paramref name="excluded"/>.</summary>
    public async ValueTask<Placement> PlaceAsync(long size, IReadOnlySet<string> excluded, CancellationToken cancellationToken)
    {
        await _usage.EnsureLoadedAsync(cancellationToken);
        var refused = new HashSet<string>(excluded, StringComparer.Ordinal);
        while (true)
        {
            var placement = PlaceLocally(size, refused);
            if (placement.Storage is not { Capacity: { } capacity } storage || _ledger is null)
            {
                // A storage the shared ledger refused was full, whatever this instance's counts said.
                return placement.Failure == PlacementFailure.NoStorageAvailable && refused.Count > excluded.Count
                    ? placement with { Failure = PlacementFailure.InsufficientStorage }
                    : placement;
            }

            // This instance's counts chose; the ledger, which sees every instance's uploads, decides.
            if (await _ledger.TryReserveAsync(storage.Id, size, capacity, cancellationToken) is { } reservation)
            {
                return placement with { SharedReservation = reservation };
            }

            _usage.Release(storage.Id, size);
            refused.Add(storage.Id);
        }
    }

    private Placement PlaceLocally(long size, HashSet<string> excluded)
    {
        var storages = _registry.Current.Storages;
        return _usage.WithLock(usageOf =>
        {
            var candidates = new List<PlacementCandidate>(storages.Count);
            var lastResort = new List<PlacementCandidate>();
            var full = false;
            foreach (var storage in storages)
            {
                if (!storage.Active || storage.Weight <= 0 || excluded.Contains(storage.Id))
                {
                    continue;
                }

                var (usage, reserved) = usageOf(storage.Id);
                if (storage.Capacity is { } capacity && usage.Bytes + reserved + size > capacity)
                {
                    full = true;
                    continue;
                }

                (_health.IsHealthy(storage.Id) ? candidates : lastResort).Add(new PlacementCandidate(storage, usage, reserved));
            }

            // When every storage that could take the upload is marked unhealthy, try them rather than refuse
            // untried: a storage marked down by a slow probe may well take the write (YARP does the same).
            if (candidates.Count == 0)
            {
                candidates = lastResort;
            }

            if (candidates.Count == 0)
            {
                return new Placement(null, 0, full ? PlacementFailure.InsufficientStorage : PlacementFailure.NoStorageAvailable);
            }

            var chosen = _policy.Pick(candidates);
            _usage.ReserveLocked(chosen.Id, size);
            return new Placement(chosen, size, PlacementFailure.None);
        });
    }
}

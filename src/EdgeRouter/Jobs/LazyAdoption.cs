using System.Collections.Concurrent;
using EdgeRouter.Catalog;
using EdgeRouter.Configuration;
using EdgeRouter.Storage;
using Microsoft.Extensions.Options;

namespace EdgeRouter.Jobs;

/// <summary>
/// Lazy adoption: a key the catalog does not know is looked for on the storages with <c>"adopt": true</c> (one stat
/// each, in storages.json order), and an object found is adopted on the fly (<see cref="ObjectAdopter"/>) and served.
/// A key found nowhere is not asked again for <c>Catalog:NegativeCacheTtl</c>, and concurrent misses of one key share
/// one search, so a 404 storm costs one stat per key and storage per TTL.
/// </summary>
internal sealed class LazyAdoption(IStorageRegistry registry, ObjectAdopter adopter, IObjectCatalog catalog, IOptions<EdgeRouterOptions> options, TimeProvider timeProvider)
{
    private readonly UnknownKeys _notFound = new(2_000, timeProvider);
    private readonly TimeSpan _notFoundTtl = options.Value.Catalog.NegativeCacheTtl;
    private readonly ConcurrentDictionary<string, Task<ObjectRecord?>> _searches = new(StringComparer.Ordinal);
    private (long Version, StorageDefinition[] Storages) _adopting = (-1, []);

    /// <summary>The storages that adopt, as configured now (recomputed only when storages.json changes).</summary>
    private StorageDefinition[] Adopting
    {
        get
        {
            var snapshot = registry.Current;
            var adopting = _adopting;
            if (adopting.Version != snapshot.Version)
            {
                _adopting = adopting = (snapshot.Version, [.. snapshot.Storages.Where(s => s.Config.Adopt)]);
            }

            return adopting.Storages;
        }
    }

    /// <summary>The record of <paramref name="key"/> once adopted from a storage, or null when no storage that adopts has it.</summary>
    public ValueTask<ObjectRecord?> FindAsync(string key, CancellationToken cancellationToken)
    {
        if (Adopting.Length == 0 || _notFound.Contains(key))
        {
            return ValueTask.FromResult<ObjectRecord?>(null);
        }

        return new(SearchAsync(key).WaitAsync(cancellationToken));
    }

    private Task<ObjectRecord?> SearchAsync(string key)
    {
        var mine = new TaskCompletionSource<ObjectRecord?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var search = _searches.GetOrAdd(key, mine.Task);
        if (search == mine.Task)
        {
            _ = RunAsync(key, mine);
        }

        return search;
    }

    private async Task RunAsync(string key, TaskCompletionSource<ObjectRecord?> result)
    {
        try
        {
            // No caller's token: the search is shared, and one caller leaving must not fail the others.
            foreach (var storage in Adopting)
            {
                if (await storage.Store.StatAsync(key, CancellationToken.None) is not { } stat)
                {
                    continue;
                }

                var adopted = await adopter.AdoptAsync(storage, key, stat.LastModified, CancellationToken.None);
                if (adopted.Outcome is AdoptOutcome.Adopted or AdoptOutcome.Known && await catalog.FindAsync(key, CancellationToken.None) is { } record)
                {
                    result.SetResult(record);
                    return;
                }
            }

            _notFound.Add(key, _notFoundTtl);
            result.SetResult(null);
        }
        catch (Exception ex)
        {
            result.SetException(ex);
        }
        finally
        {
            _searches.TryRemove(new KeyValuePair<string, Task<ObjectRecord?>>(key, result.Task));
        }
    }
}

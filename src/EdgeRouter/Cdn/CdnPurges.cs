using EdgeRouter.Catalog;
using EdgeRouter.Storage;

namespace EdgeRouter.Cdn;

/// <summary>An operator's purges (one key, every key under a prefix, or a whole storage by its tag), and the outbox as the admin shows it.</summary>
public sealed class CdnPurges(IPurgeOutbox outbox, CdnTargets targets, IObjectCatalog catalog, IStorageRegistry registry)
{
    /// <summary>The most keys a prefix purge names one by one; beyond it, purge the storage (one tag).</summary>
    public const int MaxPrefixKeys = 10_000;

    public IReadOnlyList<string> Targets => targets.PurgeNames;

    /// <summary>Records the purge on every target; the problems say why nothing was recorded.</summary>
    public async Task<(int Recorded, IReadOnlyList<string> Problems)> PurgeAsync(string? key, string? prefix, string? storage, CancellationToken cancellationToken)
    {
        if (targets.PurgeNames.Count == 0)
        {
            return (0, ["No purge targets are configured (EdgeRouter:Cdn:Targets)."]);
        }

        if (new[] { key, prefix, storage }.Count(v => v is not null) != 1)
        {
            return (0, ["Give exactly one of 'key', 'prefix' or 'storage'."]);
        }

        List<PurgeRequest> requests = [];
        if (key is not null)
        {
            if (!ObjectKeys.IsValid(key))
            {
                return (0, [$"'key': '{key}' is not a valid key."]);
            }

            var record = await catalog.FindCurrentAsync(key, cancellationToken);
            requests.Add(new PurgeRequest(PurgeEvents.Manual, PurgeScopes.Key, key, record?.StorageId));
        }
        else if (prefix is not null)
        {
            if (ObjectKeys.ValidatePrefix(prefix) is { } problem)
            {
                return (0, [$"'prefix': {problem}"]);
            }

            string? after = null;
            while (requests.Count <= MaxPrefixKeys)
            {
                var page = await catalog.ListAsync(prefix, after, 1_000, cancellationToken);
                requests.AddRange(page.Select(r => new PurgeRequest(PurgeEvents.Manual, PurgeScopes.Key, r.Key, r.StorageId)));
                if (page.Count < 1_000)
                {
                    break;
                }

                after = page[^1].Key;
            }

            if (requests.Count > MaxPrefixKeys)
            {
                return (0, [$"'prefix': more than {MaxPrefixKeys} keys start with '{prefix}'; purge a narrower prefix, or the storage (by its tag)."]);
            }
        }
        else if (!registry.Current.ById.ContainsKey(storage!))
        {
            return (0, [$"'storage': there is no storage '{storage}'."]);
        }
        else
        {
            requests.Add(new PurgeRequest(PurgeEvents.Manual, PurgeScopes.Storage, storage!, storage));
        }

        await outbox.EnqueuePurgesAsync(targets.PurgeNames, requests, cancellationToken);
        return (requests.Count * targets.PurgeNames.Count, []);
    }
}

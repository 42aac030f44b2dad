using EdgeRouter.Storage;

namespace EdgeRouter.Placement;

internal sealed class WeightedPlacementPolicy(IRandomFactory randomFactory) : IPlacementPolicy
{
    public string Name => PlacementPolicies.Weighted;

    public StorageDefinition Pick(IReadOnlyList<PlacementCandidate> candidates)
    {
        var total = 0d;
        foreach (var candidate in candidates)
        {
            total += candidate.Storage.Weight;
        }

        var point = randomFactory.CreateRandomInstance().NextDouble() * total;
        foreach (var candidate in candidates)
        {
            point -= candidate.Storage.Weight;
            if (point < 0)
            {
                return candidate.Storage;
            }
        }

        // Floating-point rounding can leave the point at the very end.
        return candidates[^1].Storage;
    }
}

internal sealed class FillFirstPlacementPolicy : IPlacementPolicy
{
    public string Name => PlacementPolicies.FillFirst;

    public StorageDefinition Pick(IReadOnlyList<PlacementCandidate> candidates) => candidates[0].Storage;
}

internal sealed class LeastUsedPlacementPolicy : IPlacementPolicy
{
    public string Name => PlacementPolicies.LeastUsed;

    public StorageDefinition Pick(IReadOnlyList<PlacementCandidate> candidates)
    {
        var best = candidates[0];
        var bestShare = Share(best);
        for (var i = 1; i < candidates.Count; i++)
        {
            var share = Share(candidates[i]);
            if (share < bestShare)
            {
                (best, bestShare) = (candidates[i], share);
            }
        }

        return best.Storage;
    }

    // Unlimited storages compare by bytes held, after every storage with a capacity has filled up.
    private static double Share(PlacementCandidate candidate) => candidate.Storage.Capacity is { } capacity and > 0
        ? (double)(candidate.Usage.Bytes + candidate.Reserved) / capacity
        : 1 + (candidate.Usage.Bytes + candidate.Reserved);
}

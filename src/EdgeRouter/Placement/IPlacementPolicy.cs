using EdgeRouter.Catalog;
using EdgeRouter.Storage;

namespace EdgeRouter.Placement;

/// <summary>A storage that may take the upload, with what it holds now (in-flight uploads included).</summary>
public readonly record struct PlacementCandidate(StorageDefinition Storage, StorageUsage Usage, long Reserved);

/// <summary>
/// Chooses which storage takes a new object. Candidates are already filtered (active, weight above 0, healthy,
/// room for the object); a policy only chooses among them. Registered by <see cref="Name"/>.
/// </summary>
public interface IPlacementPolicy
{
    string Name { get; }

    /// <summary>Picks one of <paramref name="candidates"/>, which is never empty.</summary>
    StorageDefinition Pick(IReadOnlyList<PlacementCandidate> candidates);
}

/// <summary>Names of the built-in policies, as written in <c>EdgeRouter:PlacementPolicy</c>.</summary>
public static class PlacementPolicies
{
    /// <summary>Random, in proportion to each storage's weight (the default).</summary>
    public const string Weighted = "weighted";

    /// <summary>The first storage in storages.json order that has room.</summary>
    public const string FillFirst = "fill-first";

    /// <summary>The storage with the lowest share of its capacity used.</summary>
    public const string LeastUsed = "least-used";
}

/// <summary>The random source placement uses; tests give a seeded one.</summary>
public interface IRandomFactory
{
    Random CreateRandomInstance();
}

internal sealed class RandomFactory : IRandomFactory
{
    public Random CreateRandomInstance() => Random.Shared;
}

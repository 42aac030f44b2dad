using System.Text.Json.Nodes;
using EdgeRouter.Catalog;
using EdgeRouter.Health;
using EdgeRouter.Placement;
using EdgeRouter.Storage;

namespace EdgeRouter.Jobs;

/// <summary>
/// <c>{"kind": "rebalance", "tolerance": 0.1, "dryRun": true}</c>: moves objects so that each active, healthy
/// storage's used bytes follow its weight, within the tolerance (a share of its target). The plan (each storage's
/// used and target bytes, and the bytes to move between them) is in the report; with <c>dryRun</c> that is all it
/// does. A restart plans again from the usage as it is then, so a resumed rebalance never moves too much.
/// </summary>
internal sealed class RebalanceJob(IStorageRegistry registry, IObjectCatalog catalog, IStorageHealth health, ObjectMover mover, StorageUsageTracker usage) : IJob
{
    private const double DefaultTolerance = 0.1;

    public string Kind => "rebalance";

    public IReadOnlyList<string> Validate(JsonObject spec)
    {
        var problems = JobSpec.CommonProblems(spec);
        if (spec["tolerance"] is not null && JobSpec.Rate(spec, "tolerance") is not (> 0 and < 1))
        {
            problems.Add("'tolerance' must be a number between 0 and 1 (a share of each storage's target, 0.1 by default).");
        }

        return problems;
    }

    public async Task RunAsync(JobContext context)
    {
        var tolerance = JobSpec.Rate(context.Spec, "tolerance") ?? DefaultTolerance;
        var (shares, moves) = await PlanAsync(tolerance, context.CancellationToken);
        context.Set("plan", new JsonObject
        {
            ["tolerance"] = tolerance,
            ["storages"] = new JsonArray([.. shares.Select(s => (JsonNode)new JsonObject { ["id"] = s.Id, ["weight"] = s.Weight, ["usedBytes"] = s.Used, ["targetBytes"] = s.Target })]),
            ["moves"] = new JsonArray([.. moves.Select(m => (JsonNode)new JsonObject { ["from"] = m.From, ["to"] = m.To, ["bytes"] = m.Bytes })]),
        });
        if (JobSpec.Flag(context.Spec, "dryRun") || moves.Count == 0)
        {
            context.SetTotal(0);
            return;
        }

        context.SetTotal(moves.Sum(m => m.Objects));
        await usage.EnsureLoadedAsync(context.CancellationToken);
        foreach (var source in moves.Select(m => m.From).Distinct(StringComparer.Ordinal))
        {
            // What each receiving storage may still take from this one.
            var owed = moves.Where(m => m.From == source).ToDictionary(m => m.To, m => m.Bytes, StringComparer.Ordinal);
            await foreach (var record in JobPages.StoredAsync(catalog, source, string.Empty, null, context.CancellationToken))
            {
                var (to, room) = owed.MaxBy(o => o.Value);
                if (room <= 0)
                {
                    break;
                }

                // One at a time: each move changes what is owed, which picks the next one's target.
                var before = context.Progress.Bytes;
                await JobPages.MoveAsync(context, mover, [new Move(record, JobSpec.StorageOf(registry, source), record.Location, new Placement.Placement(JobSpec.StorageOf(registry, to), 0, PlacementFailure.None))], context.CancellationToken);
                owed[to] = room - (context.Progress.Bytes - before);
            }
        }
    }

    private async Task<(List<Share> Shares, List<Transfer> Moves)> PlanAsync(double tolerance, CancellationToken cancellationToken)
    {
        var used = await catalog.GetUsageAsync(cancellationToken);
        var storages = registry.Current.Storages.Where(s => s.Active && s.Weight > 0 && health.IsHealthy(s.Id)).ToList();
        var total = storages.Sum(s => used.GetValueOrDefault(s.Id).Bytes);
        var weights = storages.Sum(s => s.Weight);
        var shares = storages.Select(s =>
        {
            var usage = used.GetValueOrDefault(s.Id);
            var target = (long)(total * s.Weight / weights);
            return new Share(s.Id, s.Weight, usage.Bytes, s.Capacity is { } capacity ? Math.Min(target, capacity) : target, usage.Objects);
        }).ToList();

        // Only storages outside the tolerance give; every storage under its target may take.
        var givers = shares.Where(s => s.Used > s.Target * (1 + tolerance)).Select(s => (s.Id, Excess: s.Used - s.Target, Average: s.Objects > 0 ? Math.Max(1, s.Used / s.Objects) : 1)).ToList();
        var takers = shares.Where(s => s.Used < s.Target).Select(s => (s.Id, Deficit: s.Target - s.Used)).ToList();
        var moves = new List<Transfer>();
        foreach (var giver in givers.OrderByDescending(g => g.Excess))
        {
            var excess = giver.Excess;
            for (var i = 0; i < takers.Count && excess > 0; i++)
            {
                var amount = Math.Min(excess, takers[i].Deficit);
                if (amount <= 0)
                {
                    continue;
                }

                moves.Add(new Transfer(giver.Id, takers[i].Id, amount, (amount + giver.Average - 1) / giver.Average));
                takers[i] = (takers[i].Id, takers[i].Deficit - amount);
                excess -= amount;
            }
        }

        return (shares, moves);
    }

    private sealed record Share(string Id, double Weight, long Used, long Target, long Objects);

    private sealed record Transfer(string From, string To, long Bytes, long Objects);
}

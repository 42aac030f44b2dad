using EdgeRouter.Catalog;

namespace EdgeRouter.Tests.Catalog;

/// <summary>What every catalog must do. SQLite subclasses it here; a shared database subclasses it the same way.</summary>
public abstract class CatalogContractTests
{
    protected abstract IObjectCatalog Catalog { get; }

    private static ObjectRecord Record(string key, string storage = "s1", long size = 100, string sha = "aa")
        => new(key, storage, size, "image/png", sha, new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task Add_ThenFind_ReturnsTheSameRecord()
    {
        var record = Record("k/" + Guid.NewGuid());

        var result = await Catalog.AddAsync(record, overwrite: false, CancellationToken.None);

        Assert.Equal(CatalogWriteOutcome.Added, result.Outcome);
        Assert.Equal(record, await Catalog.FindAsync(record.Key, CancellationToken.None));
        Assert.Null(await Catalog.FindAsync("k/unknown", CancellationToken.None));
    }

    [Fact]
    public async Task Lookups_SeeEveryCommittedChange_IncludingThoseBetweenTwoLookups()
    {
        var key = "k/" + Guid.NewGuid();
        var first = Record(key, "s1", 100, "aa");
        var second = Record(key, "s2", 300, "bb");

        Assert.Null(await Catalog.FindAsync(key, CancellationToken.None));
        await Catalog.AddAsync(first, false, CancellationToken.None);
        Assert.Equal(first, await Catalog.FindAsync(key, CancellationToken.None));
        await Catalog.AddAsync(second, true, CancellationToken.None);
        Assert.Equal(second, await Catalog.FindAsync(key, CancellationToken.None));
        Assert.True(await Catalog.RemoveAsync(second, CancellationToken.None));
        Assert.Null(await Catalog.FindAsync(key, CancellationToken.None));
    }

    [Fact]
    public async Task Add_AnExistingKey_ConflictsUnlessOverwriting()
    {
        var key = "k/" + Guid.NewGuid();
        var first = Record(key, "s1", 100, "aa");
        var second = Record(key, "s2", 300, "bb");
        await Catalog.AddAsync(first, false, CancellationToken.None);

        var conflict = await Catalog.AddAsync(second, false, CancellationToken.None);
        var replaced = await Catalog.AddAsync(second, true, CancellationToken.None);

        Assert.Equal(new CatalogWriteResult(CatalogWriteOutcome.Conflict, first), conflict);
        Assert.Equal(new CatalogWriteResult(CatalogWriteOutcome.Replaced, first), replaced);
        Assert.Equal(second, await Catalog.FindAsync(key, CancellationToken.None));

        // The replaced object on the other storage is queued for deletion in the same transaction.
        Assert.Contains(new PendingDelete("s1", key), await Catalog.GetPendingDeletesAsync(1000, CancellationToken.None));
    }

    [Fact]
    public async Task ConcurrentWritersOfOneKey_EndWithOneRecord_OneUsageCount_AndTheLosersQueuedForDeletion()
    {
        var key = "race/" + Guid.NewGuid();
        var prefix = "w" + Guid.NewGuid().ToString("N")[..6];

        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(
            () => Catalog.AddAsync(Record(key, $"{prefix}-{i}", 100 + i, $"sha{i}"), overwrite: true, CancellationToken.None))));

        var winner = await Catalog.FindAsync(key, CancellationToken.None);
        Assert.NotNull(winner);
        Assert.Equal(1, results.Count(r => r.Outcome == CatalogWriteOutcome.Added));
        var usage = await Catalog.GetUsageAsync(CancellationToken.None);
        Assert.Equal(1, Enumerable.Range(0, 16).Sum(i => usage.GetValueOrDefault($"{prefix}-{i}").Objects));
        var queued = (await Catalog.GetPendingDeletesAsync(10_000, CancellationToken.None)).Where(p => p.Key == key).Select(p => p.StorageId).ToHashSet();
        Assert.DoesNotContain(winner.StorageId, queued);
        Assert.Equal(15, queued.Count);
    }

    [Fact]
    public async Task Usage_FollowsAddsReplacementsAndRemovals()
    {
        var storage = "u-" + Guid.NewGuid().ToString("N")[..8];
        var other = storage + "-other";
        await Catalog.AddAsync(Record("u/" + storage + "/1", storage, 100), false, CancellationToken.None);
        await Catalog.AddAsync(Record("u/" + storage + "/2", storage, 250), false, CancellationToken.None);
        await Catalog.AddAsync(Record("u/" + storage + "/2", other, 40, "cc"), true, CancellationToken.None);
        await Catalog.RemoveAsync(Record("u/" + storage + "/1", storage, 100), CancellationToken.None);

        var usage = await Catalog.GetUsageAsync(CancellationToken.None);

        Assert.Equal(new StorageUsage(0, 0), usage[storage]);
        Assert.Equal(new StorageUsage(40, 1), usage[other]);
    }

    [Fact]
    public async Task Remove_OnlyRemovesTheExpectedVersion_AndQueuesItsObject()
    {
        var key = "r/" + Guid.NewGuid();
        var record = Record(key, "s1", 10, "aa");
        await Catalog.AddAsync(record, false, CancellationToken.None);

        Assert.False(await Catalog.RemoveAsync(record with { Sha256 = "other" }, CancellationToken.None));
        Assert.True(await Catalog.RemoveAsync(record, CancellationToken.None));
        Assert.Null(await Catalog.FindAsync(key, CancellationToken.None));

        var pending = new PendingDelete("s1", key);
        Assert.Contains(pending, await Catalog.GetPendingDeletesAsync(1000, CancellationToken.None));
        await Catalog.CompletePendingDeleteAsync(pending, CancellationToken.None);
        Assert.DoesNotContain(pending, await Catalog.GetPendingDeletesAsync(1000, CancellationToken.None));
    }

    [Fact]
    public async Task ReAddingAKeyToTheSameStorage_CancelsItsQueuedDeletion()
    {
        var key = "q/" + Guid.NewGuid();
        await Catalog.AddAsync(Record(key, "s1"), false, CancellationToken.None);
        await Catalog.RemoveAsync(Record(key, "s1"), CancellationToken.None);

        await Catalog.AddAsync(Record(key, "s1", sha: "new"), false, CancellationToken.None);

        Assert.DoesNotContain(new PendingDelete("s1", key), await Catalog.GetPendingDeletesAsync(1000, CancellationToken.None));
    }

    [Fact]
    public async Task List_ReturnsKeysWithThePrefix_InOrder_Paged()
    {
        var prefix = "list-" + Guid.NewGuid().ToString("N")[..8] + "/";
        foreach (var name in new[] { "c", "a", "b", "d" })
        {
            await Catalog.AddAsync(Record(prefix + name), false, CancellationToken.None);
        }

        await Catalog.AddAsync(Record(prefix.TrimEnd('/') + "x"), false, CancellationToken.None);

        var page1 = await Catalog.ListAsync(prefix, null, 3, CancellationToken.None);
        var page2 = await Catalog.ListAsync(prefix, page1[^1].Key, 3, CancellationToken.None);

        Assert.Equal([prefix + "a", prefix + "b", prefix + "c"], page1.Select(r => r.Key));
        Assert.Equal([prefix + "d"], page2.Select(r => r.Key));
    }

    [Fact]
    public async Task ConcurrentWriters_OfOneKey_EndWithOneAdd_AndTheRestConflicting()
    {
        var key = "c/" + Guid.NewGuid();

        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(i =>
            Task.Run(() => Catalog.AddAsync(Record(key, "s" + i, sha: "v" + i), false, CancellationToken.None))));

        Assert.Single(results, r => r.Outcome == CatalogWriteOutcome.Added);
        Assert.Equal(15, results.Count(r => r.Outcome == CatalogWriteOutcome.Conflict));
    }

    [Fact]
    public async Task ConcurrentWriters_OfManyKeys_AllLand_AndUsageAddsUp()
    {
        var storage = "cc-" + Guid.NewGuid().ToString("N")[..8];

        await Task.WhenAll(Enumerable.Range(0, 200).Select(i =>
            Task.Run(() => Catalog.AddAsync(Record($"{storage}/{i}", storage, 10), false, CancellationToken.None))));

        Assert.Equal(new StorageUsage(2000, 200), (await Catalog.GetUsageAsync(CancellationToken.None))[storage]);
    }
}

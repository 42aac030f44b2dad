using EdgeRouter.Catalog;
using Microsoft.Extensions.Time.Testing;

namespace EdgeRouter.Tests.Catalog;

/// <summary>What every catalog must do. SQLite subclasses it here; a shared database subclasses it the same way.</summary>
public abstract class CatalogContractTests
{
    /// <summary>The catalog's clock: intents expire and queued deletions fall due by it. Its delete grace is <see cref="Grace"/>.</summary>
    protected FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.Zero));

    protected static TimeSpan Grace => TimeSpan.FromHours(1);

    /// <summary>The CDN targets the catalogs under test are configured with: each change of a key records one purge for each.</summary>
    protected static IReadOnlyList<string> PurgeTargets { get; } = ["cdn-a", "cdn-b"];

    protected static void AddPurgeTargets(EdgeRouter.Configuration.EdgeRouterOptions options)
    {
        foreach (var name in PurgeTargets)
        {
            options.Cdn.Targets.Add(new EdgeRouter.Cdn.CdnTargetOptions { Name = name, Kind = "webhook" });
        }
    }

    protected abstract IObjectCatalog Catalog { get; }

    private static ObjectRecord Record(string key, string storage = "s1", long size = 100, string sha = "aa", string? location = null)
        => new(key, storage, size, "image/png", sha, new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.Zero)) { Location = location ?? key };

    private UploadIntent IntentFor(ObjectRecord record, TimeSpan? lifetime = null)
        => new(record.StorageId, record.Location, record.Key, Clock.GetUtcNow() + (lifetime ?? TimeSpan.FromMinutes(10)));

    /// <summary>An upload as the router makes it: the intent, then the commit.</summary>
    private async Task<CatalogWriteResult> CommitAsync(ObjectRecord record, bool overwrite)
    {
        Assert.True(await Catalog.TryBeginUploadAsync(IntentFor(record), CancellationToken.None), $"{record.StorageId}/{record.Location} was taken");
        return await Catalog.AddAsync(record, overwrite, CancellationToken.None);
    }

    private async Task<IReadOnlyList<PendingDelete>> DueAsync() => await Catalog.GetPendingDeletesAsync(10_000, CancellationToken.None);

    [Fact]
    public async Task Add_ThenFind_ReturnsTheSameRecord_WithItsLocation()
    {
        var record = Record("k/" + Guid.NewGuid(), location: "k/elsewhere-" + Guid.NewGuid());

        var result = await CommitAsync(record, overwrite: false);

        Assert.Equal(CatalogWriteOutcome.Added, result.Outcome);
        var found = await Catalog.FindAsync(record.Key, CancellationToken.None);
        Assert.Equal(record, found);
        Assert.Equal(record.Location, found!.Location);
        Assert.Null(await Catalog.FindAsync("k/unknown", CancellationToken.None));
    }

    [Fact]
    public async Task Lookups_SeeEveryCommittedChange_IncludingThoseBetweenTwoLookups()
    {
        var key = "k/" + Guid.NewGuid();
        var first = Record(key, "s1", 100, "aa");
        var second = Record(key, "s2", 300, "bb");

        Assert.Null(await Catalog.FindAsync(key, CancellationToken.None));
        await CommitAsync(first, false);
        Assert.Equal(first, await Catalog.FindAsync(key, CancellationToken.None));
        await CommitAsync(second, true);
        Assert.Equal(second, await Catalog.FindAsync(key, CancellationToken.None));
        Assert.True(await Catalog.RemoveAsync(second, immediate: false, CancellationToken.None));
        Assert.Null(await Catalog.FindAsync(key, CancellationToken.None));
    }

    [Fact]
    public async Task Add_AnExistingKey_ConflictsUnlessOverwriting_AndTheReplacedLocationFallsDueAfterTheGrace()
    {
        var key = "k/" + Guid.NewGuid();
        var first = Record(key, "s1", 100, "aa");
        var second = Record(key, "s1", 300, "bb", location: key + "~v2");
        await CommitAsync(first, false);

        var conflict = await CommitAsync(second, false);
        var replaced = await Catalog.AddAsync(second, true, CancellationToken.None);

        Assert.Equal(new CatalogWriteResult(CatalogWriteOutcome.Conflict, first), conflict);
        Assert.Equal(new CatalogWriteResult(CatalogWriteOutcome.Replaced, first), replaced);
        Assert.Equal(second, await Catalog.FindAsync(key, CancellationToken.None));

        // The replaced version's location is queued in the same transaction, and falls due once the grace is over.
        var old = new PendingDelete("s1", key);
        Assert.DoesNotContain(old, await DueAsync());
        Clock.Advance(Grace);
        Assert.Contains(old, await DueAsync());
        Assert.DoesNotContain(new PendingDelete("s1", second.Location), await DueAsync());
    }

    [Fact]
    public async Task ConcurrentWritersOfOneKey_EndWithOneRecord_OneUsageCount_AndTheLosersQueuedForDeletion()
    {
        var key = "race/" + Guid.NewGuid();
        var prefix = "w" + Guid.NewGuid().ToString("N")[..6];
        var records = Enumerable.Range(0, 16).Select(i => Record(key, $"{prefix}-{i}", 100 + i, $"sha{i}")).ToList();
        foreach (var record in records)
        {
            Assert.True(await Catalog.TryBeginUploadAsync(IntentFor(record), CancellationToken.None));
        }

        var results = await Task.WhenAll(records.Select(r => Task.Run(() => Catalog.AddAsync(r, overwrite: true, CancellationToken.None))));

        var winner = await Catalog.FindAsync(key, CancellationToken.None);
        Assert.NotNull(winner);
        Assert.Equal(1, results.Count(r => r.Outcome == CatalogWriteOutcome.Added));
        var usage = await Catalog.GetUsageAsync(CancellationToken.None);
        Assert.Equal(1, Enumerable.Range(0, 16).Sum(i => usage.GetValueOrDefault($"{prefix}-{i}").Objects));
        Clock.Advance(Grace);
        var queued = (await DueAsync()).Where(p => p.Location == key).Select(p => p.StorageId).ToHashSet();
        Assert.DoesNotContain(winner.StorageId, queued);
        Assert.Equal(15, queued.Count);
    }

    [Fact]
    public async Task Usage_FollowsAddsReplacementsAndRemovals()
    {
        var storage = "u-" + Guid.NewGuid().ToString("N")[..8];
        var other = storage + "-other";
        await CommitAsync(Record("u/" + storage + "/1", storage, 100), false);
        await CommitAsync(Record("u/" + storage + "/2", storage, 250), false);
        await CommitAsync(Record("u/" + storage + "/2", other, 40, "cc"), true);
        await Catalog.RemoveAsync(Record("u/" + storage + "/1", storage, 100), immediate: false, CancellationToken.None);

        var usage = await Catalog.GetUsageAsync(CancellationToken.None);

        Assert.Equal(new StorageUsage(0, 0), usage[storage]);
        Assert.Equal(new StorageUsage(40, 1), usage[other]);
    }

    [Fact]
    public async Task Remove_OnlyRemovesTheExpectedVersion_AndQueuesItsLocation_AfterTheGraceOrAtOnce()
    {
        var key = "r/" + Guid.NewGuid();
        var record = Record(key, "s1", 10, "aa", location: key + "~a");
        await CommitAsync(record, false);

        Assert.False(await Catalog.RemoveAsync(record with { Sha256 = "other" }, immediate: false, CancellationToken.None));
        Assert.False(await Catalog.RemoveAsync(record with { Location = key }, immediate: false, CancellationToken.None));
        Assert.True(await Catalog.RemoveAsync(record, immediate: false, CancellationToken.None));
        Assert.Null(await Catalog.FindAsync(key, CancellationToken.None));

        var pending = new PendingDelete("s1", record.Location);
        Assert.DoesNotContain(pending, await DueAsync());
        Clock.Advance(Grace);
        Assert.Contains(pending, await DueAsync());
        await Catalog.CompletePendingDeleteAsync(pending, CancellationToken.None);
        Assert.DoesNotContain(pending, await DueAsync());

        var takedown = Record("r/" + Guid.NewGuid(), "s1");
        await CommitAsync(takedown, false);
        Assert.True(await Catalog.RemoveAsync(takedown, immediate: true, CancellationToken.None));
        Assert.Contains(new PendingDelete("s1", takedown.Location), await DueAsync());
    }

    [Fact]
    public async Task ALocation_IsNeverClaimedTwice_NorWhileARecordOrAQueuedDeletionNamesIt()
    {
        var key = "q/" + Guid.NewGuid();
        var record = Record(key, "s1");
        Assert.True(await Catalog.TryBeginUploadAsync(IntentFor(record), CancellationToken.None));

        // Another upload in flight holds it.
        Assert.False(await Catalog.TryBeginUploadAsync(IntentFor(record), CancellationToken.None));
        await Catalog.AddAsync(record, false, CancellationToken.None);

        // A record names it.
        Assert.False(await Catalog.TryBeginUploadAsync(IntentFor(record), CancellationToken.None));
        await Catalog.RemoveAsync(record, immediate: false, CancellationToken.None);

        // Its deletion is queued: a new upload of the key must go elsewhere, or the sweeper would delete it.
        Assert.False(await Catalog.TryBeginUploadAsync(IntentFor(record), CancellationToken.None));
        Clock.Advance(Grace);
        await Catalog.CompletePendingDeleteAsync(new PendingDelete("s1", key), CancellationToken.None);

        // Free again once the deletion is done, and on another storage all along.
        Assert.True(await Catalog.TryBeginUploadAsync(IntentFor(record), CancellationToken.None));
        Assert.True(await Catalog.TryBeginUploadAsync(IntentFor(record with { StorageId = "s2" }), CancellationToken.None));
    }

    [Fact]
    public async Task ACommit_NeedsItsIntent_Unexpired_AndNotCancelledByADeleteOfTheKey()
    {
        var key = "i/" + Guid.NewGuid();

        // No intent at all.
        Assert.Equal(CatalogWriteOutcome.Abandoned, (await Catalog.AddAsync(Record(key, location: key + "~0"), true, CancellationToken.None)).Outcome);

        // A delete of the key while the upload streamed cancels it; the intent stays for its uploader to clean up.
        var first = Record(key);
        await CommitAsync(first, false);
        var streaming = Record(key, sha: "bb", location: key + "~1");
        Assert.True(await Catalog.TryBeginUploadAsync(IntentFor(streaming), CancellationToken.None));
        Assert.True(await Catalog.RemoveAsync(first, immediate: false, CancellationToken.None));
        Assert.Equal(CatalogWriteOutcome.Abandoned, (await Catalog.AddAsync(streaming, true, CancellationToken.None)).Outcome);
        Assert.True(await Catalog.HasIntentAsync(IntentFor(streaming), CancellationToken.None));
        Assert.Null(await Catalog.FindAsync(key, CancellationToken.None));

        // An upload that began after the delete is not affected by it.
        var later = Record(key, sha: "cc", location: key + "~2");
        Assert.Equal(CatalogWriteOutcome.Added, (await CommitAsync(later, false)).Outcome);
        Assert.False(await Catalog.HasIntentAsync(IntentFor(later), CancellationToken.None));

        // An expired intent cannot commit: the janitor may be removing its bytes.
        var slow = Record(key, sha: "dd", location: key + "~3");
        Assert.True(await Catalog.TryBeginUploadAsync(IntentFor(slow, TimeSpan.FromMinutes(1)), CancellationToken.None));
        Clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(CatalogWriteOutcome.Abandoned, (await Catalog.AddAsync(slow, true, CancellationToken.None)).Outcome);
        Assert.Equal(later, await Catalog.FindAsync(key, CancellationToken.None));
    }

    [Fact]
    public async Task ExpiredIntents_AreListedForTheJanitor_UntilEnded()
    {
        var storage = "x-" + Guid.NewGuid().ToString("N")[..8];
        var soon = new UploadIntent(storage, "a.png", "a.png", Clock.GetUtcNow() + TimeSpan.FromMinutes(1));
        var late = new UploadIntent(storage, "b.png", "b.png", Clock.GetUtcNow() + TimeSpan.FromMinutes(30));
        Assert.True(await Catalog.TryBeginUploadAsync(soon, CancellationToken.None));
        Assert.True(await Catalog.TryBeginUploadAsync(late, CancellationToken.None));

        var expired = await Catalog.GetExpiredIntentsAsync(Clock.GetUtcNow() + TimeSpan.FromMinutes(5), 100, CancellationToken.None);

        Assert.Equal([soon], expired.Where(i => i.StorageId == storage).Select(i => i with { ExpiresAt = soon.ExpiresAt }));
        Assert.Equal(soon.ExpiresAt.ToUnixTimeMilliseconds(), expired.Single(i => i.StorageId == storage).ExpiresAt.ToUnixTimeMilliseconds());
        await Catalog.EndUploadAsync(soon, CancellationToken.None);
        Assert.DoesNotContain(await Catalog.GetExpiredIntentsAsync(Clock.GetUtcNow() + TimeSpan.FromMinutes(5), 100, CancellationToken.None), i => i.StorageId == storage);
        Assert.False(await Catalog.HasIntentAsync(soon, CancellationToken.None));
        Assert.True(await Catalog.HasIntentAsync(late, CancellationToken.None));
    }

    [Fact]
    public async Task TheMaintenanceLock_CanBeTaken()
    {
        await using var held = await Catalog.TryLockMaintenanceAsync(CancellationToken.None);

        Assert.NotNull(held);
    }

    [Fact]
    public async Task List_ReturnsKeysWithThePrefix_InOrder_Paged()
    {
        var prefix = "list-" + Guid.NewGuid().ToString("N")[..8] + "/";
        foreach (var name in new[] { "c", "a", "b", "d" })
        {
            await CommitAsync(Record(prefix + name), false);
        }

        await CommitAsync(Record(prefix.TrimEnd('/') + "x"), false);

        var page1 = await Catalog.ListAsync(prefix, null, 3, CancellationToken.None);
        var page2 = await Catalog.ListAsync(prefix, page1[^1].Key, 3, CancellationToken.None);

        Assert.Equal([prefix + "a", prefix + "b", prefix + "c"], page1.Select(r => r.Key));
        Assert.Equal([prefix + "d"], page2.Select(r => r.Key));
    }

    [Fact]
    public async Task ConcurrentWriters_OfOneKey_EndWithOneAdd_AndTheRestConflicting()
    {
        var key = "c/" + Guid.NewGuid();
        var records = Enumerable.Range(0, 16).Select(i => Record(key, "s" + i, sha: "v" + i)).ToList();
        foreach (var record in records)
        {
            Assert.True(await Catalog.TryBeginUploadAsync(IntentFor(record), CancellationToken.None));
        }

        var results = await Task.WhenAll(records.Select(r => Task.Run(() => Catalog.AddAsync(r, false, CancellationToken.None))));

        Assert.Single(results, r => r.Outcome == CatalogWriteOutcome.Added);
        Assert.Equal(15, results.Count(r => r.Outcome == CatalogWriteOutcome.Conflict));
    }

    [Fact]
    public async Task ConcurrentWriters_OfManyKeys_AllLand_AndUsageAddsUp()
    {
        var storage = "cc-" + Guid.NewGuid().ToString("N")[..8];

        await Task.WhenAll(Enumerable.Range(0, 200).Select(i => Task.Run(() => CommitAsync(Record($"{storage}/{i}", storage, 10), false))));

        Assert.Equal(new StorageUsage(2000, 200), (await Catalog.GetUsageAsync(CancellationToken.None))[storage]);
    }

    [Fact]
    public async Task Adopt_RecordsAnUnknownKey_OnlyWhereNothingNamesTheLocation_AndOnlyOnce()
    {
        var storage = "ad-" + Guid.NewGuid().ToString("N")[..8];
        var found = Record("a/" + Guid.NewGuid(), storage, 70);

        Assert.True(await Catalog.AdoptAsync(found, CancellationToken.None));
        Assert.Equal(found, await Catalog.FindAsync(found.Key, CancellationToken.None));
        Assert.False(await Catalog.AdoptAsync(found, CancellationToken.None));
        Assert.False(await Catalog.AdoptAsync(found with { StorageId = storage + "-b" }, CancellationToken.None));
        Assert.Equal(new StorageUsage(70, 1), (await Catalog.GetUsageAsync(CancellationToken.None))[storage]);

        // An upload's intent or a queued deletion at the location: never adopted, or the janitor would delete a live object.
        var claimed = Record("a/" + Guid.NewGuid(), storage);
        Assert.True(await Catalog.TryBeginUploadAsync(IntentFor(claimed), CancellationToken.None));
        Assert.False(await Catalog.AdoptAsync(claimed, CancellationToken.None));
        var deleted = Record("a/" + Guid.NewGuid(), storage);
        await CommitAsync(deleted, false);
        await Catalog.RemoveAsync(deleted, immediate: false, CancellationToken.None);
        Assert.False(await Catalog.AdoptAsync(deleted, CancellationToken.None));
        Assert.Null(await Catalog.FindAsync(deleted.Key, CancellationToken.None));
    }

    [Fact]
    public async Task RecordHash_SetsAPendingHash_OnlyWhileTheRecordStillNamesThatLocationWithoutOne()
    {
        var storage = "h-" + Guid.NewGuid().ToString("N")[..8];
        var pending = Record("h/" + Guid.NewGuid(), storage, 70, sha: string.Empty);
        Assert.True(await Catalog.AdoptAsync(pending, CancellationToken.None));
        Assert.True((await Catalog.FindAsync(pending.Key, CancellationToken.None))!.HashPending);

        Assert.False(await Catalog.RecordHashAsync(pending with { Location = "elsewhere" }, "bb", CancellationToken.None));
        Assert.False(await Catalog.RecordHashAsync(pending with { StorageId = storage + "-b" }, "bb", CancellationToken.None));
        Assert.True(await Catalog.RecordHashAsync(pending, "bb", CancellationToken.None));
        Assert.False(await Catalog.RecordHashAsync(pending, "cc", CancellationToken.None));

        var hashed = await Catalog.FindCurrentAsync(pending.Key, CancellationToken.None);
        Assert.Equal("bb", hashed!.Sha256);
        Assert.Equal("\"bb\"", hashed.ETag);
        Assert.Equal(pending.Location, hashed.Location);
    }

    [Fact]
    public async Task Relocate_SwitchesTheRecordToTheCopy_OnlyIfItIsStillTheCopiedVersion_AndQueuesTheOldLocationAfterTheGrace()
    {
        var key = "m/" + Guid.NewGuid();
        var record = Record(key, "from", 50, "aa");
        await CommitAsync(record, false);
        var copy = new UploadIntent("to", key, key, Clock.GetUtcNow() + TimeSpan.FromMinutes(10));
        Assert.True(await Catalog.TryBeginUploadAsync(copy, CancellationToken.None));

        Assert.False(await Catalog.RelocateAsync(record with { Sha256 = "other" }, copy, CancellationToken.None));
        Assert.True(await Catalog.RelocateAsync(record, copy, CancellationToken.None));

        Assert.Equal(record with { StorageId = "to" }, await Catalog.FindAsync(key, CancellationToken.None));
        Assert.False(await Catalog.HasIntentAsync(copy, CancellationToken.None));
        Assert.Equal([new PendingDelete("from", key)], await Catalog.FindFormerLocationsAsync(key, CancellationToken.None));
        Assert.DoesNotContain(new PendingDelete("from", key), await DueAsync());
        Clock.Advance(Grace);
        Assert.Contains(new PendingDelete("from", key), await DueAsync());
    }

    [Fact]
    public async Task Relocate_LosesToAnOverwriteOrADeleteThatCameDuringTheCopy()
    {
        var key = "m/" + Guid.NewGuid();
        var record = Record(key, "from", 50, "aa");
        await CommitAsync(record, false);
        var copy = new UploadIntent("to", key, key, Clock.GetUtcNow() + TimeSpan.FromMinutes(10));
        Assert.True(await Catalog.TryBeginUploadAsync(copy, CancellationToken.None));
        var overwrite = Record(key, "from", 60, "bb", location: key + "~new");
        await CommitAsync(overwrite, true);

        Assert.False(await Catalog.RelocateAsync(record, copy, CancellationToken.None));
        Assert.Equal(overwrite, await Catalog.FindAsync(key, CancellationToken.None));
        Assert.True(await Catalog.HasIntentAsync(copy, CancellationToken.None));

        // A delete cancels the copy's intent: even the current version cannot move onto it afterwards.
        var second = copy with { Location = key + "~copy2" };
        Assert.True(await Catalog.TryBeginUploadAsync(second, CancellationToken.None));
        Assert.True(await Catalog.RemoveAsync(overwrite, immediate: false, CancellationToken.None));
        Assert.False(await Catalog.RelocateAsync(overwrite, second, CancellationToken.None));
        Assert.Null(await Catalog.FindAsync(key, CancellationToken.None));
    }

    [Fact]
    public async Task ListStored_GivesOneStoragesRecords_InKeyOrder_Paged()
    {
        var storage = "ls-" + Guid.NewGuid().ToString("N")[..8];
        foreach (var name in new[] { "c", "a", "d", "b" })
        {
            await CommitAsync(Record($"{storage}/{name}", name == "b" ? storage + "-other" : storage), false);
        }

        var page1 = await Catalog.ListStoredAsync(storage, storage + "/", null, 2, CancellationToken.None);
        var page2 = await Catalog.ListStoredAsync(storage, storage + "/", page1[^1].Key, 2, CancellationToken.None);

        Assert.Equal([$"{storage}/a", $"{storage}/c"], page1.Select(r => r.Key));
        Assert.Equal([$"{storage}/d"], page2.Select(r => r.Key));
    }

    [Fact]
    public async Task FindLocations_TellsRecordsFromIntentsAndQueuedDeletions_AndLeavesOrphansOut()
    {
        var storage = "fl-" + Guid.NewGuid().ToString("N")[..8];
        var live = Record($"{storage}/live", storage, location: $"{storage}/live~1");
        await CommitAsync(live, false);
        var uploading = Record($"{storage}/uploading", storage);
        Assert.True(await Catalog.TryBeginUploadAsync(IntentFor(uploading), CancellationToken.None));
        var gone = Record($"{storage}/gone", storage);
        await CommitAsync(gone, false);
        await Catalog.RemoveAsync(gone, immediate: false, CancellationToken.None);
        var locations = Enumerable.Range(0, 600).Select(i => $"{storage}/orphan{i}").Concat([live.Location, uploading.Location, gone.Location]).ToList();

        var named = await Catalog.FindLocationsAsync(storage, locations, CancellationToken.None);

        Assert.Equal(3, named.Count);
        Assert.Equal(live, named[live.Location]);
        Assert.Null(named[uploading.Location]);
        Assert.Null(named[gone.Location]);
        Assert.Empty(await Catalog.FindLocationsAsync(storage + "-other", locations, CancellationToken.None));
    }

    [Fact]
    public async Task QueueOrphan_QueuesOnlyALocationNothingNames()
    {
        var storage = "qo-" + Guid.NewGuid().ToString("N")[..8];
        var live = Record($"{storage}/live", storage);
        await CommitAsync(live, false);

        Assert.False(await Catalog.QueueOrphanAsync(storage, live.Location, CancellationToken.None));
        Assert.True(await Catalog.QueueOrphanAsync(storage, $"{storage}/orphan", CancellationToken.None));
        Assert.False(await Catalog.QueueOrphanAsync(storage, $"{storage}/orphan", CancellationToken.None));
        Assert.DoesNotContain(new PendingDelete(storage, $"{storage}/orphan"), await DueAsync());
        Clock.Advance(Grace);
        Assert.Contains(new PendingDelete(storage, $"{storage}/orphan"), await DueAsync());
        Assert.DoesNotContain(new PendingDelete(storage, live.Location), await DueAsync());
    }

    [Fact]
    public async Task AJob_IsClaimedByOneOwner_UntilItsLeaseRunsOut_ThenTakenOver_AndTheOldOwnerLearnsItLostIt()
    {
        var jobs = (EdgeRouter.Jobs.IJobStore)Catalog;
        var lease = TimeSpan.FromSeconds(30);
        var job = new EdgeRouter.Jobs.JobRecord("j-" + Guid.NewGuid().ToString("N"), "verify", "{}", EdgeRouter.Jobs.JobStates.Queued, Clock.GetUtcNow());
        await jobs.CreateJobAsync(job, CancellationToken.None);

        var first = await ClaimUntilAsync(jobs, "a", job.Id, lease);
        Assert.Equal(EdgeRouter.Jobs.JobStates.Running, first.State);
        Assert.Null(await ClaimAsync(jobs, "b", job.Id, lease));
        var progress = new EdgeRouter.Jobs.JobProgress(40, 100, 4096, 1, "k/040", """{"moved":39}""");
        Assert.Equal(EdgeRouter.Jobs.JobLease.Held, await jobs.SaveJobAsync(job.Id, "a", progress, Clock.GetUtcNow() + lease, CancellationToken.None));

        Clock.Advance(lease + TimeSpan.FromSeconds(1));
        var second = await ClaimUntilAsync(jobs, "b", job.Id, lease);

        Assert.Equal(progress, second.Progress);
        Assert.Equal(first.StartedAt, second.StartedAt);
        Assert.Equal(EdgeRouter.Jobs.JobLease.Lost, await jobs.SaveJobAsync(job.Id, "a", progress, Clock.GetUtcNow() + lease, CancellationToken.None));
        Assert.False(await jobs.FinishJobAsync(job.Id, "a", EdgeRouter.Jobs.JobStates.Succeeded, progress, Clock.GetUtcNow(), CancellationToken.None));
        Assert.True(await jobs.FinishJobAsync(job.Id, "b", EdgeRouter.Jobs.JobStates.Succeeded, progress with { Processed = 100 }, Clock.GetUtcNow(), CancellationToken.None));
        var done = await jobs.GetJobAsync(job.Id, CancellationToken.None);
        Assert.Equal((EdgeRouter.Jobs.JobStates.Succeeded, 100L), (done!.State, done.Progress.Processed));
        Assert.NotNull(done.FinishedAt);
        Assert.Null(await ClaimAsync(jobs, "c", job.Id, lease));
    }

    [Fact]
    public async Task Cancel_EndsAQueuedJobAtOnce_AndTellsARunningJobsOwnerAtItsNextSave()
    {
        var jobs = (EdgeRouter.Jobs.IJobStore)Catalog;
        var queued = new EdgeRouter.Jobs.JobRecord("j-" + Guid.NewGuid().ToString("N"), "import", "{}", EdgeRouter.Jobs.JobStates.Queued, Clock.GetUtcNow());
        await jobs.CreateJobAsync(queued, CancellationToken.None);

        Assert.True(await jobs.CancelJobAsync(queued.Id, Clock.GetUtcNow(), CancellationToken.None));
        Assert.Equal(EdgeRouter.Jobs.JobStates.Cancelled, (await jobs.GetJobAsync(queued.Id, CancellationToken.None))!.State);
        Assert.False(await jobs.CancelJobAsync(queued.Id, Clock.GetUtcNow(), CancellationToken.None));
        Assert.Null(await ClaimAsync(jobs, "a", queued.Id, TimeSpan.FromSeconds(30)));

        var running = queued with { Id = "j-" + Guid.NewGuid().ToString("N") };
        await jobs.CreateJobAsync(running, CancellationToken.None);
        await ClaimUntilAsync(jobs, "a", running.Id, TimeSpan.FromSeconds(30));
        Assert.True(await jobs.CancelJobAsync(running.Id, Clock.GetUtcNow(), CancellationToken.None));
        Assert.Equal(EdgeRouter.Jobs.JobLease.CancelRequested, await jobs.SaveJobAsync(running.Id, "a", default, Clock.GetUtcNow() + TimeSpan.FromSeconds(30), CancellationToken.None));
        Assert.False(await jobs.CancelJobAsync("j-unknown", Clock.GetUtcNow(), CancellationToken.None));
    }

    [Fact]
    public async Task EveryChangeThatAltersAnAnswer_RecordsOnePurgePerTarget_AndAChangeThatDidNotHappenRecordsNone()
    {
        var outbox = (EdgeRouter.Cdn.IPurgeOutbox)Catalog;
        var replaced = Record("c/" + Guid.NewGuid(), "s1");
        var deleted = Record("c/" + Guid.NewGuid(), "s1");
        var moved = Record("c/" + Guid.NewGuid(), "s1");
        foreach (var record in new[] { replaced, deleted, moved })
        {
            await CommitAsync(record, false);
        }

        Assert.Empty(await outbox.ListPurgesAsync(null, 100, CancellationToken.None));
        await CommitAsync(Record(replaced.Key, "s2", 20, "bb"), overwrite: true);
        Assert.False(await Catalog.RemoveAsync(deleted with { Location = "elsewhere" }, immediate: false, CancellationToken.None));
        Assert.True(await Catalog.RemoveAsync(deleted, immediate: false, CancellationToken.None));
        var copy = new UploadIntent("s3", moved.Key + ".copy", moved.Key, Clock.GetUtcNow() + TimeSpan.FromMinutes(10));
        Assert.True(await Catalog.TryBeginUploadAsync(copy, CancellationToken.None));
        Assert.True(await Catalog.RelocateAsync(moved, copy, CancellationToken.None));

        var purges = await outbox.ListPurgesAsync(EdgeRouter.Cdn.PurgeStates.Pending, 100, CancellationToken.None);
        Assert.Equal(
            new[] { (replaced.Key, "replaced"), (deleted.Key, "deleted"), (moved.Key, "moved") }.SelectMany(c => PurgeTargets.Select(t => (t, c.Key, c.Item2, "s1"))).Order(),
            purges.Select(p => (p.Target, p.Subject, p.Event, p.StorageId!)).Order());
        Assert.All(purges, p => Assert.Equal((EdgeRouter.Cdn.PurgeScopes.Key, 0, Clock.GetUtcNow()), (p.Scope, p.Attempts, p.DueAt)));
    }

    [Fact]
    public async Task Purges_AreClaimedByOneSender_RetriedWhenDue_DeadLetteredAfterTheLastTry_RequeuedByHand_AndPrunedOnceSent()
    {
        var outbox = (EdgeRouter.Cdn.IPurgeOutbox)Catalog;
        await outbox.EnqueuePurgesAsync(["t"], [new("purge", "key", "k/1", null), new("purge", "key", "k/2", null), new("purge", "storage", "s1", "s1")], CancellationToken.None);
        var now = Clock.GetUtcNow();
        var lease = TimeSpan.FromMinutes(2);

        var claimed = await outbox.ClaimPurgesAsync("a", now, now + lease, 10, CancellationToken.None);
        Assert.Equal(["k/1", "k/2", "s1"], claimed.Select(p => p.Subject));
        Assert.Empty(await outbox.ClaimPurgesAsync("b", now, now + lease, 10, CancellationToken.None));

        await outbox.CompletePurgesAsync([claimed[0].Id], now, CancellationToken.None);
        await outbox.RetryPurgesAsync([claimed[1].Id], now + TimeSpan.FromSeconds(5), "HTTP 503: busy", countAttempt: true, maxAttempts: 2, CancellationToken.None);
        await outbox.DeadLetterPurgesAsync([claimed[2].Id], "HTTP 403: bad token", CancellationToken.None);
        Assert.Equal(new EdgeRouter.Cdn.PurgeStats(1, 1, 1, now), await outbox.PurgeStatsAsync(CancellationToken.None));
        Assert.Empty(await outbox.ClaimPurgesAsync("b", now, now + lease, 10, CancellationToken.None));

        // Due again: claimed once more, fails its last try, and is dead-lettered with the answer.
        Clock.Advance(TimeSpan.FromSeconds(5));
        var again = Assert.Single(await outbox.ClaimPurgesAsync("b", Clock.GetUtcNow(), Clock.GetUtcNow() + lease, 10, CancellationToken.None));
        Assert.Equal((claimed[1].Id, 1, "HTTP 503: busy"), (again.Id, again.Attempts, again.LastError));
        await outbox.RetryPurgesAsync([again.Id], Clock.GetUtcNow(), "HTTP 500: down", countAttempt: true, maxAttempts: 2, CancellationToken.None);
        var dead = await outbox.ListPurgesAsync(EdgeRouter.Cdn.PurgeStates.Dead, 10, CancellationToken.None);
        Assert.Equal([(again.Id, 2, "HTTP 500: down"), (claimed[2].Id, 1, "HTTP 403: bad token")], dead.Select(p => (p.Id, p.Attempts, p.LastError)).Order());

        // A sender that outlived its lease loses the claim to another.
        Assert.True(await outbox.RequeuePurgeAsync(again.Id, Clock.GetUtcNow(), CancellationToken.None));
        Assert.False(await outbox.RequeuePurgeAsync(claimed[0].Id, Clock.GetUtcNow(), CancellationToken.None));
        Assert.Equal(0, Assert.Single(await outbox.ClaimPurgesAsync("c", Clock.GetUtcNow(), Clock.GetUtcNow() + lease, 10, CancellationToken.None)).Attempts);
        Clock.Advance(lease + TimeSpan.FromSeconds(1));
        Assert.Equal(again.Id, Assert.Single(await outbox.ClaimPurgesAsync("d", Clock.GetUtcNow(), Clock.GetUtcNow() + lease, 10, CancellationToken.None)).Id);

        Assert.Equal(0, await outbox.PruneSentPurgesAsync(now, CancellationToken.None));
        Assert.Equal(1, await outbox.PruneSentPurgesAsync(now + TimeSpan.FromMilliseconds(1), CancellationToken.None));
        Assert.Empty(await outbox.ListPurgesAsync(EdgeRouter.Cdn.PurgeStates.Sent, 10, CancellationToken.None));
    }

    [Fact]
    public async Task AnUploadToken_IsUsedAtMostItsCount_AndExpiredCountsAreForgotten()
    {
        var uses = (EdgeRouter.Uploads.Tokens.IUploadTokenUses)Catalog;
        var expires = Clock.GetUtcNow() + TimeSpan.FromMinutes(15);
        var once = "t-" + Guid.NewGuid();
        var twice = "t-" + Guid.NewGuid();

        Assert.True(await uses.TryUseUploadTokenAsync(once, 1, expires, CancellationToken.None));
        Assert.False(await uses.TryUseUploadTokenAsync(once, 1, expires, CancellationToken.None));
        Assert.True(await uses.TryUseUploadTokenAsync(twice, 2, expires, CancellationToken.None));
        Assert.True(await uses.TryUseUploadTokenAsync(twice, 2, expires, CancellationToken.None));
        Assert.False(await uses.TryUseUploadTokenAsync(twice, 2, expires, CancellationToken.None));

        // Past its expiry a token's count is pruned (the token itself is refused by then).
        Clock.Advance(TimeSpan.FromMinutes(16));
        Assert.True(await uses.TryUseUploadTokenAsync("t-" + Guid.NewGuid(), 1, Clock.GetUtcNow() + TimeSpan.FromMinutes(15), CancellationToken.None));
        Assert.True(await uses.TryUseUploadTokenAsync(once, 1, Clock.GetUtcNow() + TimeSpan.FromMinutes(15), CancellationToken.None));
    }

    [Fact]
    public async Task AResumableUpload_IsKeptFoundTouchedCompletedAndForgotten_AndExpiredOnesAreListed()
    {
        var store = (EdgeRouter.Uploads.Tus.IResumableUploadStore)Catalog;
        var now = Clock.GetUtcNow();
        var upload = new EdgeRouter.Uploads.Tus.ResumableUpload("r-" + Guid.NewGuid().ToString("N")[..20], 5_000, "filename cC5wbmc=", """{"jti":"t"}""", now, now + TimeSpan.FromMinutes(5));
        var stale = upload with { Id = "r-" + Guid.NewGuid().ToString("N")[..20], Metadata = null, Token = null, ExpiresAt = now + TimeSpan.FromMinutes(1) };

        await store.CreateResumableAsync(upload, CancellationToken.None);
        await store.CreateResumableAsync(stale, CancellationToken.None);

        Assert.Equal(upload, await store.FindResumableAsync(upload.Id, CancellationToken.None));
        Assert.Equal(stale, await store.FindResumableAsync(stale.Id, CancellationToken.None));
        Assert.Null(await store.FindResumableAsync("r-unknown", CancellationToken.None));
        await store.TouchResumableAsync(upload.Id, now + TimeSpan.FromMinutes(10), CancellationToken.None);
        Assert.Equal([stale.Id], await store.ExpiredResumablesAsync(now + TimeSpan.FromMinutes(6), 10, CancellationToken.None));

        await store.CompleteResumableAsync(upload.Id, "k/p.png", "https://img.example.com/k/p.png", CancellationToken.None);
        Assert.Equal(upload with { ExpiresAt = now + TimeSpan.FromMinutes(10), ObjectKey = "k/p.png", ObjectUrl = "https://img.example.com/k/p.png" }, await store.FindResumableAsync(upload.Id, CancellationToken.None));
        Assert.True(await store.DeleteResumableAsync(stale.Id, CancellationToken.None));
        Assert.False(await store.DeleteResumableAsync(stale.Id, CancellationToken.None));
        Assert.Empty(await store.ExpiredResumablesAsync(now + TimeSpan.FromMinutes(6), 10, CancellationToken.None));
    }

    /// <summary>Claims until this job is the one claimed (other tests' jobs in a shared database are claimed and finished on the way).</summary>
    private async Task<EdgeRouter.Jobs.JobRecord> ClaimUntilAsync(EdgeRouter.Jobs.IJobStore jobs, string owner, string id, TimeSpan lease)
        => await ClaimAsync(jobs, owner, id, lease) ?? throw new InvalidOperationException($"Job {id} could not be claimed by {owner}.");

    private async Task<EdgeRouter.Jobs.JobRecord?> ClaimAsync(EdgeRouter.Jobs.IJobStore jobs, string owner, string id, TimeSpan lease)
    {
        while (await jobs.TryClaimJobAsync(owner, Clock.GetUtcNow(), Clock.GetUtcNow() + lease, CancellationToken.None) is { } claimed)
        {
            if (claimed.Id == id)
            {
                return claimed;
            }

            await jobs.FinishJobAsync(claimed.Id, owner, EdgeRouter.Jobs.JobStates.Cancelled, claimed.Progress, Clock.GetUtcNow(), CancellationToken.None);
        }

        return null;
    }
}

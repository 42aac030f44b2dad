using System.Text.Json;
using System.Text.Json.Nodes;

namespace EdgeRouter.Admin;

/// <summary>
/// What the admin shows and does, provided by the host: the admin library knows nothing of the router's
/// internals, only this contract (as YARP's admin-free core exposes <c>IProxyConfigProvider</c>).
/// </summary>
public interface IAdminDataSource
{
    /// <summary>Every configured storage, with its usage and health. Settings are raw: the admin masks secrets itself.</summary>
    Task<IReadOnlyList<AdminStorage>> GetStoragesAsync(CancellationToken cancellationToken);

    /// <summary>Objects in key order from <paramref name="after"/>, whose keys start with <paramref name="prefix"/>.</summary>
    Task<IReadOnlyList<AdminObject>> ListObjectsAsync(string prefix, string? after, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Puts a small probe object on the storage, reads it back through its API and through its Storage URL, and deletes
    /// it; null when there is no such storage. Nothing is left behind, whatever step fails.
    /// </summary>
    Task<AdminConnectionTest?> TestStorageAsync(string storageId, CancellationToken cancellationToken);

    /// <summary>
    /// The same test for the storage as <paramref name="draft"/> would leave it, with nothing saved; the problems
    /// instead when the draft is not valid.
    /// </summary>
    Task<AdminDraftTest> TestDraftAsync(AdminStorageEdit draft, CancellationToken cancellationToken);

    /// <summary>
    /// Adds, changes or removes a storage where the configuration lives, validated as a hand edit is, and puts it in
    /// force. A storage that owns objects is not removed (it can be switched off).
    /// </summary>
    Task<AdminChangeResult> EditStorageAsync(AdminStorageEdit edit, CancellationToken cancellationToken);

    /// <summary>The last hour of traffic, minute by minute, from the router's own metrics.</summary>
    AdminTraffic GetTraffic();

    /// <summary>The storage APIs the router has (<c>s3</c>, <c>local</c>, …).</summary>
    IReadOnlyList<string> Apis { get; }

    /// <summary>Why the storage configuration cannot be edited here (a read-only file or mount), or null when it can.</summary>
    string? GetReadOnlyReason();

    /// <summary>
    /// Deletes an object as the public API's DELETE does (catalog first, then the storage after the delete grace, or at once
    /// when <paramref name="immediate"/>); null when there is no such object.
    /// </summary>
    Task<AdminObject?> DeleteObjectAsync(string key, bool immediate, CancellationToken cancellationToken);

    /// <summary>Queues the data-mobility job <paramref name="spec"/> describes (<c>kind</c>: import, migrate, drain, rebalance, verify); the problems instead when it cannot run.</summary>
    Task<AdminJobCreation> CreateJobAsync(JsonObject spec, CancellationToken cancellationToken);

    /// <summary>The newest jobs first.</summary>
    Task<IReadOnlyList<AdminJob>> ListJobsAsync(int limit, CancellationToken cancellationToken);

    Task<AdminJob?> GetJobAsync(string id, CancellationToken cancellationToken);

    /// <summary>Cancels a queued or running job; the job as it is then, or null when there is no such job.</summary>
    Task<AdminJob?> CancelJobAsync(string id, CancellationToken cancellationToken);

    /// <summary>The CDN purge outbox: its targets, counts by state, and its newest purges (of one state, or all).</summary>
    Task<AdminPurges> ListPurgesAsync(string? state, int limit, CancellationToken cancellationToken);

    /// <summary>A dead-lettered purge back to pending; false when there is no dead purge by that id.</summary>
    Task<bool> RetryPurgeAsync(long id, CancellationToken cancellationToken);

    /// <summary>Purges one key, every key under a prefix, or a storage (by its tag) on every target.</summary>
    Task<AdminPurgeResult> PurgeAsync(AdminPurgeRequest request, CancellationToken cancellationToken);
}

/// <summary>One purge of one target; <see cref="LastError"/> is the CDN's last answer when a try failed.</summary>
public sealed record AdminPurge(long Id, string Target, string Event, string Scope, string Subject, string? Storage, string State, int Attempts, DateTimeOffset CreatedAt, DateTimeOffset DueAt, DateTimeOffset? SentAt, string? LastError);

public sealed record AdminPurges(IReadOnlyList<string> Targets, long Pending, long Sent, long Dead, DateTimeOffset? OldestPending, IReadOnlyList<AdminPurge> Items);

/// <summary>Exactly one of the three.</summary>
public sealed record AdminPurgeRequest(string? Key, string? Prefix, string? Storage);

/// <summary>How many purges were recorded (one per key per target), or why none was.</summary>
public sealed record AdminPurgeResult(int Recorded, IReadOnlyList<string> Problems);

public sealed record AdminJobCreation(AdminJob? Job, IReadOnlyList<string> Problems);

/// <summary>A job as the admin API shows it; <see cref="Report"/> is the job's own JSON report (counts and lists).</summary>
public sealed record AdminJob(
    string Id,
    string Kind,
    string State,
    long Processed,
    long? Total,
    long Bytes,
    long Errors,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    bool CancelRequested,
    JsonObject Spec,
    JsonObject Report,
    string? Owner = null)
{
    /// <summary>Objects per second since the job started (or until it finished).</summary>
    public double? Rate(DateTimeOffset now)
        => StartedAt is { } started && ((FinishedAt ?? now) - started).TotalSeconds is > 0.5 and var seconds ? Processed / seconds : null;

    /// <summary>When the job should finish at its rate so far, while it runs.</summary>
    public TimeSpan? Remaining(DateTimeOffset now)
        => State == "running" && Total is { } total && Rate(now) is > 0 and var rate ? TimeSpan.FromSeconds(Math.Max(0, total - Processed) / rate) : null;
}

public enum AdminEditKind
{
    /// <summary>A new storage: <see cref="AdminStorageEdit.Entry"/> is its whole entry.</summary>
    Add,

    /// <summary><see cref="AdminStorageEdit.Entry"/> is the storage's whole new entry.</summary>
    Replace,

    /// <summary><see cref="AdminStorageEdit.Entry"/> holds the fields to change; a null field is removed.</summary>
    Merge,

    /// <summary>The storage is taken out of the configuration.</summary>
    Remove,
}

/// <summary>One edit of the storage list, in the terms of <c>storages.json</c> (the same field names and values).</summary>
/// <param name="Keep">Fields whose stored value stays as it is: secrets left blank or masked on a form.</param>
public sealed record AdminStorageEdit(AdminEditKind Kind, string Id, JsonObject? Entry = null, IReadOnlyCollection<string>? Keep = null)
{
    /// <summary>
    /// The storage's entry after this edit, from its <paramref name="current"/> one (null when there is none); null
    /// for a removal. Adds to <paramref name="problems"/> and names the <paramref name="refusal"/> when the edit
    /// cannot apply.
    /// </summary>
    public JsonObject? ApplyTo(JsonObject? current, List<string> problems, out AdminChangeOutcome refusal)
    {
        ArgumentNullException.ThrowIfNull(problems);
        refusal = AdminChangeOutcome.Invalid;
        if (current is null && Kind != AdminEditKind.Add)
        {
            refusal = AdminChangeOutcome.UnknownStorage;
            problems.Add($"There is no storage '{Id}'.");
            return null;
        }

        if (current is not null && Kind == AdminEditKind.Add)
        {
            refusal = AdminChangeOutcome.Conflict;
            problems.Add($"There is already a storage '{Id}'.");
            return null;
        }

        if (Entry?["id"] is { } id && (id.GetValueKind() != JsonValueKind.String || (string?)id != Id))
        {
            // Objects are recorded under their storage's id: a new id would orphan every one of them.
            problems.Add($"The id of storage '{Id}' cannot change: its objects are recorded under it. Add a storage with the new id instead.");
            return null;
        }

        switch (Kind)
        {
            case AdminEditKind.Remove:
                return null;
            case AdminEditKind.Merge:
                var merged = current!;
                foreach (var (field, value) in Entry ?? [])
                {
                    merged.Remove(field);
                    if (value is not null)
                    {
                        merged[field] = value.DeepClone();
                    }
                }

                return merged;
            default:
                var entry = Entry?.DeepClone().AsObject() ?? [];

                // In a whole entry, null and absent are the same: the field's default applies.
                foreach (var field in entry.Where(f => f.Value is null).Select(f => f.Key).ToList())
                {
                    entry.Remove(field);
                }

                foreach (var field in Keep ?? [])
                {
                    if (current?[field] is { } stored)
                    {
                        entry[field] = stored.DeepClone();
                    }
                }

                return entry;
        }
    }
}

/// <summary>A draft's connection test, or why the draft could not be tested.</summary>
public sealed record AdminDraftTest(IReadOnlyList<string> Problems, AdminConnectionTest? Test);

/// <summary>A storage as the admin shows it. <paramref name="Configured"/> holds its other fields as written in storages.json (name, cacheControl, keyLayout, …).</summary>
public sealed record AdminStorage(
    string Id,
    string Api,
    string Read,
    double Weight,
    bool Active,
    string StorageUrl,
    long? CapacityBytes,
    long UsedBytes,
    long Objects,
    AdminHealth Health,
    IReadOnlyDictionary<string, JsonElement> Settings,
    IReadOnlyDictionary<string, string> Configured);

/// <param name="Minutes">The last hour (since the start, if later), oldest first; the last one is the current, partial minute.</param>
/// <param name="UploadsLastHour">Uploads stored in those minutes, by storage.</param>
/// <param name="ReadsPerSecond">Object reads per second over the last 60 seconds.</param>
public sealed record AdminTraffic(IReadOnlyList<AdminTrafficMinute> Minutes, IReadOnlyDictionary<string, long> UploadsLastHour, double ReadsPerSecond, AdminOriginCache? OriginCache = null);

/// <summary>The origin cache since the router started; absent when it is off.</summary>
/// <param name="ServedBytes">Body bytes sent from the cache (not those a miss's first request got as they arrived).</param>
/// <param name="FilledBytes">Bytes read from backends into the cache.</param>
public sealed record AdminOriginCache(long Hits, long Misses, long ServedBytes, long FilledBytes, int Entries, long UsedBytes, long CapacityBytes)
{
    public double? HitRatio => Hits + Misses == 0 ? null : (double)Hits / (Hits + Misses);

    /// <summary>Bytes the backends did not have to send: every byte the cache served (a miss's first answer is not counted).</summary>
    public long BackendBytesSaved => ServedBytes;
}

/// <param name="Requests">Every HTTP request the router answered, admin and uploads included.</param>
/// <param name="Reads">Object reads.</param>
/// <param name="Bytes">Object bytes sent through the router (proxy and stream reads; a redirect sends none).</param>
/// <param name="P99Ms">The 99th percentile of the requests' durations, to within its bucket (+50%); null without requests.</param>
public sealed record AdminTrafficMinute(DateTimeOffset Start, long Requests, long Reads, long Bytes, long ClientErrors, long ServerErrors, double? P99Ms);

public sealed record AdminHealth(bool Healthy, DateTimeOffset? LastChecked, double? LatencyMs, string? LastError);

public sealed record AdminObject(string Key, string Storage, long Size, string ContentType, string? Sha256, DateTimeOffset CreatedAt, string SiteUrl, string StorageUrl);

public sealed record AdminConnectionTest(string Storage, bool Succeeded, IReadOnlyList<AdminTestStep> Steps);

public sealed record AdminTestStep(string Name, bool Succeeded, double Milliseconds, string? Error);

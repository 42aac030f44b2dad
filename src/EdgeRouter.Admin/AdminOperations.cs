using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace EdgeRouter.Admin;

/// <summary>
/// What an operator can see and do, shared by the JSON API and the pages, so both show the same figures, apply the
/// same rules and leave the same audit trail (who, what, before -> after).
/// </summary>
internal sealed partial class AdminOperations(IAdminDataSource data, ILoggerFactory loggers)
{
    /// <summary>The log category of the audit trail.</summary>
    public const string AuditCategory = "EdgeRouter.Admin.Audit";

    private readonly ILogger _audit = loggers.CreateLogger(AuditCategory);

    public async Task<AdminOverview> GetOverviewAsync(CancellationToken cancellationToken)
    {
        var storages = await data.GetStoragesAsync(cancellationToken);
        var weights = storages.Where(TakesUploads).Sum(s => s.Weight);
        var views = storages.Select(s => new AdminStorageView(
            s,
            TakesUploads(s) && weights > 0 ? Math.Round(100 * s.Weight / weights, 1) : 0,
            s.CapacityBytes is > 0 and var capacity ? Math.Round(100.0 * s.UsedBytes / capacity, 1) : null,
            SecretMasking.Apply(s.Settings))).ToList();
        return new AdminOverview(views, storages.Sum(s => s.UsedBytes), storages.Sum(s => s.Objects), storages.Count(s => s.Health.Healthy), data.GetReadOnlyReason());

        static bool TakesUploads(AdminStorage s) => s.Active && s.Weight > 0;
    }

    /// <summary>The storage with this id as the admin shows it (settings raw), or null.</summary>
    public async Task<AdminStorage?> FindStorageAsync(string id, CancellationToken cancellationToken)
        => (await data.GetStoragesAsync(cancellationToken)).FirstOrDefault(s => s.Id == id);

    public AdminTraffic GetTraffic() => data.GetTraffic();

    /// <summary>
    /// An edit from a form or an API body. A secret left blank or sent back masked keeps its stored value, so an
    /// operator never has to (and never can) read a secret to change something else.
    /// </summary>
    public static AdminStorageEdit Edit(AdminEditKind kind, string id, JsonObject? entry)
    {
        var keep = new List<string>();
        foreach (var (field, value) in entry?.ToList() ?? [])
        {
            // Null is not blank: in a change (PATCH) it removes the field, secret or not.
            if (SecretMasking.IsSecret(field) && value is not null && value.GetValueKind() == JsonValueKind.String && (string?)value is "" or SecretMasking.Mask)
            {
                entry!.Remove(field);
                keep.Add(field);
            }
        }

        return new AdminStorageEdit(kind, id, entry, keep);
    }

    public async Task<AdminChangeResult> EditStorageAsync(string who, AdminStorageEdit edit, CancellationToken cancellationToken)
    {
        var before = await FindStorageAsync(edit.Id, cancellationToken);
        var result = await data.EditStorageAsync(edit, cancellationToken);
        var audit = _audit;
        if (result.Outcome == AdminChangeOutcome.Done && audit.IsEnabled(LogLevel.Information))
        {
            var after = await FindStorageAsync(edit.Id, cancellationToken);
            var what = $"{edit.Kind.ToString().ToLowerInvariant()} storage {edit.Id}";
            var outcome = Describe(before, after);
            Log.Audit(audit, who, what, outcome);
        }

        return result;
    }

    public async Task<AdminDraftTest> TestDraftAsync(string who, AdminStorageEdit draft, CancellationToken cancellationToken)
    {
        var result = await data.TestDraftAsync(draft, cancellationToken);
        if (_audit.IsEnabled(LogLevel.Information))
        {
            var what = "test connection of a draft of storage " + draft.Id;
            var outcome = result.Test is { } test ? Outcome(test) : "not valid: " + string.Join(" ", result.Problems);
            Log.Audit(_audit, who, what, outcome);
        }

        return result;
    }

    // Every field that changed, secrets masked: "weight: 1 -> 2; secretKey: •••••••• -> •••••••• (changed)".
    private static string Describe(AdminStorage? before, AdminStorage? after)
    {
        var old = Fields(before);
        var now = Fields(after);
        var changes = old.Keys.Union(now.Keys).Order(StringComparer.Ordinal)
            .Where(field => old.GetValueOrDefault(field) != now.GetValueOrDefault(field))
            .Select(field => SecretMasking.IsSecret(field)
                ? $"{field}: {(old.ContainsKey(field) ? SecretMasking.Mask : "(none)")} -> {(now.ContainsKey(field) ? SecretMasking.Mask : "(none)")} (changed)"
                : $"{field}: {old.GetValueOrDefault(field) ?? "(none)"} -> {now.GetValueOrDefault(field) ?? "(none)"}");
        return string.Join("; ", changes) is { Length: > 0 } described ? described : "no change";

        static Dictionary<string, string?> Fields(AdminStorage? s)
        {
            if (s is null)
            {
                return [];
            }

            var fields = new Dictionary<string, string?>(StringComparer.Ordinal)
            {
                ["api"] = s.Api,
                ["read"] = s.Read,
                ["weight"] = s.Weight.ToString(CultureInfo.InvariantCulture),
                ["active"] = s.Active ? "true" : "false",
                ["storageUrl"] = s.StorageUrl,
                ["capacity"] = s.CapacityBytes?.ToString(CultureInfo.InvariantCulture),
            };
            foreach (var (field, value) in s.Configured)
            {
                fields[field] = value;
            }

            foreach (var (field, value) in s.Settings)
            {
                fields[field] = value.ToString();
            }

            return fields;
        }
    }

    private static string Outcome(AdminConnectionTest test) => test.Succeeded ? "passed" : "failed: " + test.Steps.FirstOrDefault(s => !s.Succeeded)?.Name;

    public async Task<AdminConnectionTest?> TestStorageAsync(string who, string id, CancellationToken cancellationToken)
    {
        var result = await data.TestStorageAsync(id, cancellationToken);
        if (result is null)
        {
            return null;
        }

        if (_audit.IsEnabled(LogLevel.Information))
        {
            var what = "test connection of storage " + id;
            var outcome = Outcome(result);
            Log.Audit(_audit, who, what, outcome);
        }

        return result;
    }

    public async Task<AdminObject?> DeleteObjectAsync(string who, string key, bool immediate, CancellationToken cancellationToken)
    {
        var deleted = await data.DeleteObjectAsync(key, immediate, cancellationToken);
        if (deleted is null)
        {
            return null;
        }

        var audit = _audit;
        if (audit.IsEnabled(LogLevel.Information))
        {
            var what = "delete object " + key;
            var outcome = $"{deleted.Size} bytes on {deleted.Storage} -> deleted" + (immediate ? ", bytes removed at once" : ", bytes removed after the grace");
            Log.Audit(audit, who, what, outcome);
        }

        return deleted;
    }

    public Task<IReadOnlyList<AdminObject>> ListObjectsAsync(string prefix, string? after, int limit, CancellationToken cancellationToken)
        => data.ListObjectsAsync(prefix, after, limit, cancellationToken);

    public async Task<AdminJobCreation> CreateJobAsync(string who, JsonObject spec, CancellationToken cancellationToken)
    {
        var created = await data.CreateJobAsync(spec, cancellationToken);
        if (_audit.IsEnabled(LogLevel.Information))
        {
            var what = "start job " + spec.ToJsonString();
            var outcome = created.Job is { } job ? "queued as " + job.Id : "refused: " + string.Join(" ", created.Problems);
            Log.Audit(_audit, who, what, outcome);
        }

        return created;
    }

    public async Task<AdminJob?> CancelJobAsync(string who, string id, CancellationToken cancellationToken)
    {
        var job = await data.CancelJobAsync(id, cancellationToken);
        if (_audit.IsEnabled(LogLevel.Information))
        {
            var what = "cancel job " + id;
            Log.Audit(_audit, who, what, job?.State ?? "no such job");
        }

        return job;
    }

    public Task<IReadOnlyList<AdminJob>> ListJobsAsync(int limit, CancellationToken cancellationToken) => data.ListJobsAsync(limit, cancellationToken);

    public Task<AdminPurges> ListPurgesAsync(string? state, int limit, CancellationToken cancellationToken) => data.ListPurgesAsync(state, limit, cancellationToken);

    public async Task<AdminPurgeResult> PurgeAsync(string who, AdminPurgeRequest request, CancellationToken cancellationToken)
    {
        var result = await data.PurgeAsync(request, cancellationToken);
        if (_audit.IsEnabled(LogLevel.Information))
        {
            var what = "purge " + (request.Key is not null ? "key " + request.Key : request.Prefix is not null ? "prefix " + request.Prefix : "storage " + request.Storage);
            Log.Audit(_audit, who, what, result.Problems.Count == 0 ? $"{result.Recorded} purges recorded" : "refused: " + string.Join(" ", result.Problems));
        }

        return result;
    }

    public async Task<bool> RetryPurgeAsync(string who, long id, CancellationToken cancellationToken)
    {
        var retried = await data.RetryPurgeAsync(id, cancellationToken);
        if (_audit.IsEnabled(LogLevel.Information))
        {
            var what = "retry purge " + id.ToString(System.Globalization.CultureInfo.InvariantCulture);
            Log.Audit(_audit, who, what, retried ? "pending again" : "no dead purge by that id");
        }

        return retried;
    }

    public Task<AdminJob?> GetJobAsync(string id, CancellationToken cancellationToken) => data.GetJobAsync(id, cancellationToken);

    private static partial class Log
    {
        [LoggerMessage(EventId = 900, Level = LogLevel.Information, Message = "admin {Who}: {What} -> {Outcome}")]
        public static partial void Audit(ILogger logger, string who, string what, string outcome);
    }
}

public sealed record AdminStorageView(AdminStorage Storage, double SharePercent, double? UsedPercent, IReadOnlyDictionary<string, object?> Settings);

public sealed record AdminOverview(IReadOnlyList<AdminStorageView> Storages, long TotalBytes, long TotalObjects, int Healthy, string? ReadOnlyReason);

public enum AdminChangeOutcome
{
    Done,
    UnknownStorage,
    Invalid,

    /// <summary>The storage exists already (add), or owns objects (remove).</summary>
    Conflict,
}

public sealed record AdminChangeResult(AdminChangeOutcome Outcome, IReadOnlyList<string> Problems)
{
    /// <summary>The HTTP status of a refused change, the same for the pages and the API.</summary>
    public int ProblemStatus => Outcome switch
    {
        AdminChangeOutcome.UnknownStorage => StatusCodes.Status404NotFound,
        AdminChangeOutcome.Conflict => StatusCodes.Status409Conflict,
        _ => StatusCodes.Status400BadRequest,
    };
}

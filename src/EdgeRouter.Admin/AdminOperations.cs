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

    public async Task<AdminChangeResult> UpdateStorageAsync(string who, string id, AdminStorageChange change, CancellationToken cancellationToken)
    {
        if (change.Weight is null && change.Active is null)
        {
            return new AdminChangeResult(AdminChangeOutcome.Invalid, ["Send 'weight' and/or 'active'."]);
        }

        var before = (await data.GetStoragesAsync(cancellationToken)).FirstOrDefault(s => s.Id == id);
        var problems = before is null ? null : await data.UpdateStorageAsync(id, change, cancellationToken);
        if (problems is null)
        {
            return new AdminChangeResult(AdminChangeOutcome.UnknownStorage, [$"There is no storage '{id}'."]);
        }

        if (problems.Count > 0)
        {
            return new AdminChangeResult(AdminChangeOutcome.Invalid, problems);
        }

        var audit = _audit;
        if (audit.IsEnabled(LogLevel.Information))
        {
            var what = "change storage " + id;
            var outcome = $"weight {before!.Weight} -> {change.Weight ?? before.Weight}, active {before.Active} -> {change.Active ?? before.Active}";
            Log.Audit(audit, who, what, outcome);
        }

        return new AdminChangeResult(AdminChangeOutcome.Done, []);
    }

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
            Log.Audit(_audit, who, what, result.Succeeded ? "passed" : "failed: " + result.Steps.FirstOrDefault(s => !s.Succeeded)?.Name);
        }

        return result;
    }

    public async Task<AdminObject?> DeleteObjectAsync(string who, string key, CancellationToken cancellationToken)
    {
        var deleted = await data.DeleteObjectAsync(key, cancellationToken);
        if (deleted is null)
        {
            return null;
        }

        var audit = _audit;
        if (audit.IsEnabled(LogLevel.Information))
        {
            var what = "delete object " + key;
            var outcome = $"{deleted.Size} bytes on {deleted.Storage} -> deleted";
            Log.Audit(audit, who, what, outcome);
        }

        return deleted;
    }

    public Task<IReadOnlyList<AdminObject>> ListObjectsAsync(string prefix, string? after, int limit, CancellationToken cancellationToken)
        => data.ListObjectsAsync(prefix, after, limit, cancellationToken);

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
}

public sealed record AdminChangeResult(AdminChangeOutcome Outcome, IReadOnlyList<string> Problems);

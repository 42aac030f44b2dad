using System.Text.Json.Nodes;
using EdgeRouter.Jobs;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using EdgeRouter.Admin;
using EdgeRouter.Catalog;
using EdgeRouter.Cdn;
using EdgeRouter.Configuration;
using EdgeRouter.Health;
using EdgeRouter.Observability;
using EdgeRouter.Storage;
using EdgeRouter.Uploads;

namespace EdgeRouter.Hosting;

/// <summary>The router's side of the admin contract: storages in force, their usage and health, the catalog, probes.</summary>
internal sealed class AdminDataSource(
    IStorageRegistry registry,
    StorageConfigManager configuration,
    IObjectCatalog catalog,
    IStorageHealth health,
    UploadHandler uploads,
    ObjectDeleter deleter,
    IEnumerable<IStorageProvider> providers,
    TrafficRecorder traffic,
    JobService jobs,
    IPurgeOutbox purges,
    CdnPurges manualPurges,
    TimeProvider timeProvider) : IAdminDataSource
{
    public async Task<AdminPurges> ListPurgesAsync(string? state, int limit, CancellationToken cancellationToken)
    {
        var stats = await purges.PurgeStatsAsync(cancellationToken);
        var items = await purges.ListPurgesAsync(state, limit, cancellationToken);
        return new AdminPurges(
            manualPurges.Targets,
            stats.Pending,
            stats.Sent,
            stats.Dead,
            stats.OldestPending,
            [.. items.Select(p => new AdminPurge(p.Id, p.Target, p.Event, p.Scope, p.Subject, p.StorageId, p.State, p.Attempts, p.CreatedAt, p.DueAt, p.SentAt, p.LastError))]);
    }

    public Task<bool> RetryPurgeAsync(long id, CancellationToken cancellationToken) => purges.RequeuePurgeAsync(id, timeProvider.GetUtcNow(), cancellationToken);

    public async Task<AdminPurgeResult> PurgeAsync(AdminPurgeRequest request, CancellationToken cancellationToken)
    {
        var (recorded, problems) = await manualPurges.PurgeAsync(request.Key, request.Prefix, request.Storage, cancellationToken);
        return new AdminPurgeResult(recorded, problems);
    }

    public async Task<AdminJobCreation> CreateJobAsync(JsonObject spec, CancellationToken cancellationToken)
    {
        var (job, problems) = await jobs.CreateAsync(spec, cancellationToken);
        return new AdminJobCreation(job is null ? null : ToAdmin(job), problems);
    }

    public async Task<IReadOnlyList<AdminJob>> ListJobsAsync(int limit, CancellationToken cancellationToken)
        => [.. (await jobs.ListAsync(limit, cancellationToken)).Select(ToAdmin)];

    public async Task<AdminJob?> GetJobAsync(string id, CancellationToken cancellationToken)
        => await jobs.GetAsync(id, cancellationToken) is { } job ? ToAdmin(job) : null;

    public async Task<AdminJob?> CancelJobAsync(string id, CancellationToken cancellationToken)
        => await jobs.CancelAsync(id, cancellationToken) is { } job ? ToAdmin(job) : null;

    private static AdminJob ToAdmin(JobRecord job) => new(
        job.Id,
        job.Kind,
        job.State,
        job.Progress.Processed,
        job.Progress.Total,
        job.Progress.Bytes,
        job.Progress.Errors,
        job.CreatedAt,
        job.StartedAt,
        job.FinishedAt,
        job.CancelRequested,
        JsonNode.Parse(job.Spec) as JsonObject ?? [],
        job.Progress.Report is { } report && JsonNode.Parse(report) is JsonObject parsed ? parsed : [],
        job.Owner);

    public AdminTraffic GetTraffic() => traffic.Snapshot();

    public IReadOnlyList<string> Apis { get; } = providers.Select(p => p.Api).Order(StringComparer.Ordinal).ToList();

    public string? GetReadOnlyReason() => configuration.GetReadOnlyReason();

    public async Task<AdminObject?> DeleteObjectAsync(string key, bool immediate, CancellationToken cancellationToken)
        => ObjectKeys.IsValid(key) && await deleter.DeleteAsync(key, immediate, cancellationToken) is { } record ? ToAdminObject(record) : null;

    public async Task<AdminChangeResult> EditStorageAsync(AdminStorageEdit edit, CancellationToken cancellationToken)
    {
        if (edit.Kind == AdminEditKind.Remove && registry.Current.ById.TryGetValue(edit.Id, out var storage))
        {
            // Switched off first, so no new upload can land on it between the count below and the removal.
            if (storage.Active)
            {
                return new AdminChangeResult(AdminChangeOutcome.Conflict, [$"Storage '{edit.Id}' is active: switch it off (active: false) before removing it, so no upload lands on it meanwhile."]);
            }

            if ((await catalog.GetUsageAsync(cancellationToken)).GetValueOrDefault(edit.Id) is { Objects: > 0 } owned)
            {
                return new AdminChangeResult(AdminChangeOutcome.Conflict, [$"Storage '{edit.Id}' owns {owned.Objects} object(s), so it cannot be removed; it can stay switched off."]);
            }
        }

        var refusal = AdminChangeOutcome.Invalid;
        var problems = configuration.EditStorage(edit.Id, (current, problems) => edit.ApplyTo(current, problems, out refusal));
        return new AdminChangeResult(problems.Count == 0 ? AdminChangeOutcome.Done : refusal, problems);
    }

    public async Task<AdminDraftTest> TestDraftAsync(AdminStorageEdit draft, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        var storage = configuration.BuildDraft(draft.Id, (current, problems) => draft.ApplyTo(current, problems, out _), problems);
        if (storage is null)
        {
            return new AdminDraftTest(problems, null);
        }

        try
        {
            return new AdminDraftTest([], await ProbeAsync(storage, cancellationToken));
        }
        finally
        {
            if (storage.Store.As<IAsyncDisposable>() is { } disposable)
            {
                await disposable.DisposeAsync();
            }
        }
    }

    private static readonly HttpClient StorageUrlClient = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { Timeout = TimeSpan.FromSeconds(10) };

    public async Task<IReadOnlyList<AdminStorage>> GetStoragesAsync(CancellationToken cancellationToken)
    {
        var usage = await catalog.GetUsageAsync(cancellationToken);
        return registry.Current.Storages.Select(s =>
        {
            var used = usage.GetValueOrDefault(s.Id);
            var status = health.GetStatus(s.Id);
            return new AdminStorage(
                s.Id,
                s.Api,
                s.Read.ToString().ToLowerInvariant(),
                s.Weight,
                s.Active,
                s.StorageUrl,
                s.Capacity,
                used.Bytes,
                used.Objects,
                new AdminHealth(status.Healthy, status.LastChecked, status.Latency?.TotalMilliseconds, status.LastError),
                s.Config.Settings ?? [],
                Configured(s.Config));
        }).ToList();
    }

    public async Task<IReadOnlyList<AdminObject>> ListObjectsAsync(string prefix, string? after, int limit, CancellationToken cancellationToken)
    {
        var records = await catalog.ListAsync(prefix, after, limit, cancellationToken);
        return records.Select(ToAdminObject).ToList();
    }

    // The fields an edit form shows as written (a blank one takes the default), beside the ones AdminStorage types.
    private static Dictionary<string, string> Configured(StorageConfig config)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["keyLayout"] = config.KeyLayout.ToString().ToLowerInvariant(),
            ["redirectStatus"] = config.RedirectStatus.ToString(CultureInfo.InvariantCulture),
        };
        Add("name", config.Name);
        Add("storageUrl", config.StorageUrl);
        Add("cacheControl", config.CacheControl);
        Add("capacity", config.Capacity is { ValueKind: JsonValueKind.String } text ? text.GetString() : config.Capacity?.GetRawText());
        return fields;

        void Add(string field, string? value)
        {
            if (value is not null)
            {
                fields[field] = value;
            }
        }
    }

    private AdminObject ToAdminObject(ObjectRecord record)
    {
        var response = uploads.ToResponse(record, registry.Current.ById.GetValueOrDefault(record.StorageId));
        return new AdminObject(record.Key, record.StorageId, record.Size, record.ContentType, record.HashPending ? null : record.Sha256, record.CreatedAt, response.Url, response.StorageUrl);
    }

    public async Task<AdminConnectionTest?> TestStorageAsync(string storageId, CancellationToken cancellationToken)
        => registry.Current.ById.TryGetValue(storageId, out var storage) ? await ProbeAsync(storage, cancellationToken) : null;

    private static async Task<AdminConnectionTest> ProbeAsync(StorageDefinition storage, CancellationToken cancellationToken)
    {
        var key = $"{ObjectKeys.InternalPrefix}admin-test-{Guid.NewGuid():N}.txt";
        var probe = "EdgeRouter connection test"u8.ToArray();
        var steps = new List<AdminTestStep>();
        var written = await StepAsync(steps, "put through the API", () => storage.Store.PutAsync(key, new MemoryStream(probe), new ObjectWriteOptions("text/plain", "no-store", probe.Length), cancellationToken));
        if (written)
        {
            await StepAsync(steps, "read back through the API", async () =>
            {
                await using var content = await storage.Store.OpenReadAsync(key, null, cancellationToken) ?? throw new InvalidOperationException("the object is not there");
                await ExpectAsync(content.Content, probe, cancellationToken);
            });
            await StepAsync(steps, storage.Read == ReadMode.Stream ? "read at the Storage URL (not used: read mode stream serves through the router)" : "read at the Storage URL", async () =>
            {
                if (storage.Read == ReadMode.Stream)
                {
                    return;
                }

                // The seed's set-up requires the mapped URL to resolve: that is what redirect and proxy reads hand out.
                var url = storage.Read == ReadMode.Presigned ? await storage.Store.As<IPresignedUrlStore>()!.GetPresignedReadUrlAsync(key, cancellationToken) : storage.MapUrl(key);
                using var response = await StorageUrlClient.GetAsync(url, cancellationToken);
                if (!response.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException($"{storage.MapUrl(key)} answered {(int)response.StatusCode}");
                }

                await ExpectAsync(await response.Content.ReadAsStreamAsync(cancellationToken), probe, cancellationToken);
            });
            await StepAsync(steps, "delete", () => storage.Store.DeleteAsync(key, CancellationToken.None));
        }

        return new AdminConnectionTest(storage.Id, steps.All(s => s.Succeeded), steps);
    }

    private static async Task<bool> StepAsync(List<AdminTestStep> steps, string name, Func<Task> step)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            await step();
            steps.Add(new AdminTestStep(name, true, clock.Elapsed.TotalMilliseconds, null));
            return true;
        }
        catch (Exception ex) when (ex is StorageException or InvalidOperationException or HttpRequestException or TaskCanceledException or IOException)
        {
            steps.Add(new AdminTestStep(name, false, clock.Elapsed.TotalMilliseconds, ex.Message));
            return false;
        }
    }

    private static async Task ExpectAsync(Stream content, byte[] expected, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await content.CopyToAsync(buffer, cancellationToken);
        if (!buffer.ToArray().AsSpan().SequenceEqual(expected))
        {
            throw new InvalidOperationException($"read {buffer.Length} bytes that are not the probe's {expected.Length}");
        }
    }
}

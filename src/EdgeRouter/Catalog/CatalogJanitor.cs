using EdgeRouter.Configuration;
using EdgeRouter.Observability;
using EdgeRouter.Storage;
using Microsoft.Extensions.Options;

namespace EdgeRouter.Catalog;

/// <summary>
/// Removes what the catalog has let go of, and what crashes left: locations of replaced and deleted objects once
/// their grace is over (queued in the same transaction that let go of them, so none is forgotten), and whatever an
/// upload that never committed wrote (its intent, recorded before the write, expires). Runs on one instance at a
/// time (the catalog's maintenance lock), every <see cref="CatalogOptions.JanitorInterval"/>; at start it also
/// removes spool files an older process left. Everything it removes is logged and counted.
/// </summary>
internal sealed partial class CatalogJanitor(
    IObjectCatalog catalog,
    IStorageRegistry registry,
    IOptions<EdgeRouterOptions> options,
    TimeProvider timeProvider,
    EdgeRouterMetrics metrics,
    ILogger<CatalogJanitor> logger) : BackgroundService
{
    private const int Batch = 500;
    private readonly EdgeRouterOptions _options = options.Value;

    /// <summary>Deletes one queued location now; false when it stays queued (the storage failed or is gone).</summary>
    public async Task<bool> TryDeleteAsync(PendingDelete pending, CancellationToken cancellationToken)
    {
        if (!registry.Current.ById.TryGetValue(pending.StorageId, out var storage))
        {
            Log.StorageGone(logger, pending.StorageId, pending.Location);
            return false;
        }

        try
        {
            await storage.Store.DeleteAsync(pending.Location, cancellationToken);
            await catalog.CompletePendingDeleteAsync(pending, cancellationToken);
            metrics.JanitorRemoved("object");
            Log.RemovedObject(logger, pending.StorageId, pending.Location);
            return true;
        }
        catch (Exception ex) when (ex is StorageException or CatalogUnavailableException)
        {
            Log.DeleteFailed(logger, pending.StorageId, pending.Location, ex.Message);
            return false;
        }
    }

    /// <summary>One round: due deletions, then expired uploads. Skipped when another instance holds the lock.</summary>
    public async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        await using var maintenance = await catalog.TryLockMaintenanceAsync(cancellationToken);
        if (maintenance is null)
        {
            return;
        }

        var left = 0;
        foreach (var pending in await catalog.GetPendingDeletesAsync(Batch, cancellationToken))
        {
            left += await TryDeleteAsync(pending, cancellationToken) ? 0 : 1;
        }

        metrics.DeletionsLeft(left);

        // An intent is only taken for abandoned a margin after it expired, in case this instance's clock runs ahead of
        // the uploader's; a commit refuses an expired intent, so none can commit while its bytes are being removed.
        var expiredBefore = timeProvider.GetUtcNow() - _options.Uploads.IntentMargin;
        foreach (var intent in await catalog.GetExpiredIntentsAsync(expiredBefore, Batch, cancellationToken))
        {
            if (!registry.Current.ById.TryGetValue(intent.StorageId, out var storage))
            {
                Log.StorageGone(logger, intent.StorageId, intent.Location);
                continue;
            }

            try
            {
                await storage.Store.AbortWriteAsync(intent.Location, cancellationToken);
                await catalog.EndUploadAsync(intent, cancellationToken);
                metrics.JanitorRemoved("upload");
                Log.RemovedUpload(logger, intent.StorageId, intent.Location, intent.Key);
            }
            catch (Exception ex) when (ex is StorageException or CatalogUnavailableException)
            {
                Log.DeleteFailed(logger, intent.StorageId, intent.Location, ex.Message);
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        RemoveOldSpoolFiles();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunOnceAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (CatalogUnavailableException ex)
            {
                Log.Failed(logger, ex.Message);
            }

            try
            {
                await Task.Delay(_options.Catalog.JanitorInterval, timeProvider, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Spool files are unlinked as soon as they are opened, so none is ever visible on Linux; these are what a process
    /// on another system, or an older version, left behind when it was killed.
    /// </summary>
    private void RemoveOldSpoolFiles()
    {
        var folder = _options.Uploads.SpoolDirectory ?? Path.Combine(Path.GetTempPath(), "edgerouter-spool");
        if (OperatingSystem.IsWindows() || !Directory.Exists(folder))
        {
            return;
        }

        var removed = 0;
        foreach (var file in Directory.EnumerateFiles(folder, "upload-*.spool"))
        {
            try
            {
                File.Delete(file);
                removed++;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Log.Failed(logger, ex.Message);
            }
        }

        if (removed > 0)
        {
            metrics.JanitorRemoved("spool", removed);
            Log.RemovedSpool(logger, removed);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.JanitorRemovedObject, Level = LogLevel.Information, Message = "Janitor: removed {Location} from storage {StorageId} (replaced or deleted, its grace over)")]
        public static partial void RemovedObject(ILogger logger, string storageId, string location);

        [LoggerMessage(EventId = EventIds.JanitorRemovedUpload, Level = LogLevel.Warning, Message = "Janitor: removed {Location} from storage {StorageId}, written by an upload of {Key} that never committed (a crash or a lost commit)")]
        public static partial void RemovedUpload(ILogger logger, string storageId, string location, string key);

        [LoggerMessage(EventId = EventIds.JanitorRemovedSpool, Level = LogLevel.Warning, Message = "Janitor: removed {Count} spool files an earlier process left")]
        public static partial void RemovedSpool(ILogger logger, int count);

        [LoggerMessage(EventId = EventIds.PendingDeleteFailed, Level = LogLevel.Warning, Message = "Could not delete {Location} from storage {StorageId}; it stays queued and will be retried: {Error}")]
        public static partial void DeleteFailed(ILogger logger, string storageId, string location, string error);

        [LoggerMessage(EventId = EventIds.PendingDeleteStorageGone, Level = LogLevel.Warning, Message = "Storage {StorageId} is no longer configured; {Location} stays queued for deletion until it is")]
        public static partial void StorageGone(ILogger logger, string storageId, string location);

        [LoggerMessage(EventId = EventIds.JanitorFailed, Level = LogLevel.Warning, Message = "Janitor: a round could not finish; the next one retries: {Error}")]
        public static partial void Failed(ILogger logger, string error);
    }
}

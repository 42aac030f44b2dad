using EdgeRouter.Catalog;
using EdgeRouter.Configuration;
using EdgeRouter.Observability;
using Microsoft.Extensions.Options;

namespace EdgeRouter.Uploads.Tus;

/// <summary>
/// Removes resumable uploads past their <c>Upload-Expires</c>: their bytes, then their state. A client that comes back
/// just after the expiry learns that it expired (410) for as long again (at most a minute) before the upload is gone (404).
/// </summary>
internal sealed partial class ResumableUploadSweeper(IResumableUploadStore store, TusHandler handler, IOptions<EdgeRouterOptions> options, TimeProvider timeProvider, EdgeRouterMetrics metrics, ILogger<ResumableUploadSweeper> logger) : BackgroundService
{
    private const int Batch = 200;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.Catalog.JanitorInterval < TimeSpan.FromMinutes(1) ? options.Value.Catalog.JanitorInterval : TimeSpan.FromMinutes(1);
        var expiry = options.Value.Uploads.Resumable.Expiry;
        var grace = expiry < TimeSpan.FromMinutes(1) ? expiry : TimeSpan.FromMinutes(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var removed = 0;
                foreach (var id in await store.ExpiredResumablesAsync(timeProvider.GetUtcNow() - grace, Batch, stoppingToken))
                {
                    removed += await handler.RemoveAsync(id) ? 1 : 0;
                }

                if (removed > 0)
                {
                    metrics.JanitorRemoved("resumable", removed);
                    Log.Removed(logger, removed);
                }

                await Task.Delay(interval, timeProvider, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (CatalogUnavailableException ex)
            {
                Log.Failed(logger, ex.Message);
                await Task.Delay(interval, timeProvider, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.ResumableSwept, Level = LogLevel.Information, Message = "Removed {Count} expired resumable uploads.")]
        public static partial void Removed(ILogger logger, int count);

        [LoggerMessage(EventId = EventIds.ResumableSweepFailed, Level = LogLevel.Warning, Message = "Expired resumable uploads could not be looked up; the next sweep retries: {Error}")]
        public static partial void Failed(ILogger logger, string error);
    }
}

using System.Text.Json.Nodes;
using EdgeRouter.Catalog;
using EdgeRouter.Configuration;
using EdgeRouter.Observability;
using Microsoft.Extensions.Options;

namespace EdgeRouter.Jobs;

/// <summary>
/// Runs the jobs this instance claims, one at a time: a queued job, or one whose instance died (its lease ran out),
/// from its checkpoint. While a job runs, its progress is saved and its lease renewed every second (or third of the lease time, if shorter);
/// a save that finds the job cancelled stops it, one that finds it taken over by another instance stops it silently.
/// On shutdown a running job is left as it is: its lease runs out and it resumes here or elsewhere. An idle runner
/// looks for jobs every <see cref="JobOptions.PollInterval"/>, and at once when one is queued through this instance.
/// </summary>
internal sealed partial class JobRunner(
    IJobStore store,
    IEnumerable<IJob> kinds,
    IOptions<EdgeRouterOptions> options,
    TimeProvider timeProvider,
    ILogger<JobRunner> logger) : BackgroundService
{
    private readonly JobOptions _options = options.Value.Jobs;
    private readonly Dictionary<string, IJob> _kinds = kinds.ToDictionary(k => k.Kind, StringComparer.Ordinal);

    private TaskCompletionSource _queued = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>This instance, as it signs its leases.</summary>
    public string Owner { get; } = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>A job was just queued here: an idle runner looks at once instead of at its next poll.</summary>
    public void JobQueued() => Volatile.Read(ref _queued).TrySetResult();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Enabled)
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            // A wake-up that came before this look is answered by it; one that comes after ends the wait below.
            var queued = Volatile.Read(ref _queued);
            if (queued.Task.IsCompleted)
            {
                Interlocked.CompareExchange(ref _queued, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), queued);
                queued = Volatile.Read(ref _queued);
            }

            JobRecord? job = null;
            try
            {
                var now = timeProvider.GetUtcNow();
                job = await store.TryClaimJobAsync(Owner, now, now + _options.LeaseTime, stoppingToken);
            }
            catch (CatalogUnavailableException ex)
            {
                Log.StoreUnavailable(logger, ex.Message);
            }

            if (job is not null)
            {
                await RunAsync(job, stoppingToken);
                continue;
            }

            using var idle = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            var poll = Task.Delay(_options.PollInterval, timeProvider, idle.Token);
            await Task.WhenAny(poll, queued.Task);
            await idle.CancelAsync();
        }
    }

    private async Task RunAsync(JobRecord job, CancellationToken stoppingToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var spec = JsonNode.Parse(job.Spec) as JsonObject ?? [];
        using var context = new JobContext(job, spec, Math.Max(1, _options.Parallelism), timeProvider, stop.Token);
        var cancelled = job.CancelRequested;
        var lost = false;
        context.Save = async progress =>
        {
            var lease = await store.SaveJobAsync(job.Id, Owner, progress, timeProvider.GetUtcNow() + _options.LeaseTime, CancellationToken.None);
            if (lease != JobLease.Held)
            {
                cancelled |= lease == JobLease.CancelRequested;
                lost |= lease == JobLease.Lost;
                await stop.CancelAsync();
            }
        };

        Log.Started(logger, job.Id, job.Kind, job.Progress.Checkpoint ?? "(start)");
        using var heartbeat = new CancellationTokenSource();
        var beating = HeartbeatAsync(context, heartbeat.Token);
        string state;
        try
        {
            if (cancelled)
            {
                throw new OperationCanceledException();
            }

            if (!_kinds.TryGetValue(job.Kind, out var kind))
            {
                throw new InvalidOperationException($"This router does not know jobs of kind '{job.Kind}'.");
            }

            await kind.RunAsync(context);
            state = JobStates.Succeeded;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested || cancelled)
        {
            state = cancelled ? JobStates.Cancelled : string.Empty;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            context.Set("failure", ex.Message);
            Log.Failed(logger, job.Id, job.Kind, ex);
            state = JobStates.Failed;
        }
        finally
        {
            await heartbeat.CancelAsync();
            await beating;
        }

        if (lost)
        {
            Log.Lost(logger, job.Id, job.Kind);
            return;
        }

        if (state.Length == 0)
        {
            // Shutting down: the job stays running under a lease that runs out, and resumes from its checkpoint.
            await SaveQuietlyAsync(context);
            return;
        }

        try
        {
            await store.FinishJobAsync(job.Id, Owner, state, context.Progress, timeProvider.GetUtcNow(), CancellationToken.None);
            Log.Finished(logger, job.Id, job.Kind, state, context.Progress.Processed, context.Progress.Errors);
        }
        catch (CatalogUnavailableException ex)
        {
            // The job runs again once its lease runs out, from its checkpoint.
            Log.StoreUnavailable(logger, ex.Message);
        }
    }

    private async Task HeartbeatAsync(JobContext context, CancellationToken cancellationToken)
    {
        // Each second at least: the admin's progress and rate stay current, and a cancel takes effect within a second.
        var period = TimeSpan.FromTicks(Math.Min(_options.LeaseTime.Ticks / 3, TimeSpan.TicksPerSecond));
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(period, timeProvider, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            await SaveQuietlyAsync(context);
        }
    }

    private async Task SaveQuietlyAsync(JobContext context)
    {
        try
        {
            await context.SaveAsync();
        }
        catch (CatalogUnavailableException ex)
        {
            // Saved at the next beat; a lease that runs out meanwhile hands the job to another instance.
            Log.StoreUnavailable(logger, ex.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.JobStarted, Level = LogLevel.Information, Message = "Job {JobId} ({Kind}) started, after {Checkpoint}.")]
        public static partial void Started(ILogger logger, string jobId, string kind, string checkpoint);

        [LoggerMessage(EventId = EventIds.JobFinished, Level = LogLevel.Information, Message = "Job {JobId} ({Kind}) {State}: {Processed} processed, {Errors} errors.")]
        public static partial void Finished(ILogger logger, string jobId, string kind, string state, long processed, long errors);

        [LoggerMessage(EventId = EventIds.JobFailed, Level = LogLevel.Error, Message = "Job {JobId} ({Kind}) failed.")]
        public static partial void Failed(ILogger logger, string jobId, string kind, Exception exception);

        [LoggerMessage(EventId = EventIds.JobLost, Level = LogLevel.Warning, Message = "Job {JobId} ({Kind}) was taken over by another instance (this one's lease ran out); it stopped here.")]
        public static partial void Lost(ILogger logger, string jobId, string kind);

        [LoggerMessage(EventId = EventIds.JobStoreUnavailable, Level = LogLevel.Warning, Message = "The job store (the catalog) is unavailable: {Message}")]
        public static partial void StoreUnavailable(ILogger logger, string message);
    }
}

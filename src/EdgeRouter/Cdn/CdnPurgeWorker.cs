using EdgeRouter.Catalog;
using EdgeRouter.Configuration;
using EdgeRouter.Observability;
using EdgeRouter.Placement;
using Microsoft.Extensions.Options;

namespace EdgeRouter.Cdn;

/// <summary>
/// Sends the outbox's purges: claims due ones under a lease, sends them to their targets in batches of one scope,
/// paced by each target's token bucket; a 429, 5xx or no answer is tried again after <c>Retry-After</c> or an
/// exponential backoff with jitter (the target's later batches wait as long), and the try that reaches
/// <c>Cdn:MaxAttempts</c>, or a refusal no retry mends, dead-letters the purge.
/// </summary>
internal sealed partial class CdnPurgeWorker(
    IPurgeOutbox outbox,
    CdnTargets targets,
    IOptions<EdgeRouterOptions> options,
    TimeProvider timeProvider,
    IRandomFactory randomFactory,
    EdgeRouterMetrics metrics,
    ILogger<CdnPurgeWorker> logger) : BackgroundService
{
    private const int ClaimLimit = 500;
    private static readonly TimeSpan PruneInterval = TimeSpan.FromHours(1);

    // The queue gauges count the outbox: often enough for a dashboard, rarely enough not to scan it every poll.
    private static readonly TimeSpan GaugeInterval = TimeSpan.FromSeconds(15);
    private readonly CdnOptions _options = options.Value.Cdn;
    private readonly string _owner = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";
    private readonly Random _random = randomFactory.CreateRandomInstance();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (targets.Names.Count == 0)
        {
            return;
        }

        var (pruned, counted) = (DateTimeOffset.MinValue, DateTimeOffset.MinValue);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var claimed = await SendDueAsync(stoppingToken);
                var now = timeProvider.GetUtcNow();
                if (now - pruned > PruneInterval)
                {
                    await outbox.PruneSentPurgesAsync(now - _options.SentRetention, stoppingToken);
                    pruned = now;
                }

                if (now - counted > GaugeInterval)
                {
                    var stats = await outbox.PurgeStatsAsync(stoppingToken);
                    metrics.PurgeQueue(stats.Pending, stats.OldestPending is { } oldest ? now - oldest : TimeSpan.Zero);
                    counted = now;
                }

                if (claimed < ClaimLimit)
                {
                    await Task.Delay(_options.PollInterval, timeProvider, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (CatalogUnavailableException ex)
            {
                Log.OutboxUnavailable(logger, ex.Message);
                await Task.Delay(_options.PollInterval, timeProvider, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>One round: the due purges this instance could claim, sent; returns how many it claimed.</summary>
    internal async Task<int> SendDueAsync(CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        var claimed = await outbox.ClaimPurgesAsync(_owner, now, now + _options.LeaseTime, ClaimLimit, cancellationToken);

        // A slow target (a low requestsPerSecond) must not hold its purges past the lease, or another instance would
        // send them too: what is not sent within half the lease is handed back, due at once, for the next round.
        var handBackAt = now + (_options.LeaseTime / 2);
        var handedBack = new List<long>();
        foreach (var forTarget in claimed.GroupBy(p => p.Target, StringComparer.Ordinal))
        {
            if (!targets.TryGet(forTarget.Key, out var target, out var limiter))
            {
                var orphaned = forTarget.Select(p => p.Id).ToList();
                await outbox.DeadLetterPurgesAsync(orphaned, $"No purge target named '{forTarget.Key}' is configured.", cancellationToken);
                metrics.Purges(forTarget.Key, "dead", orphaned.Count);
                continue;
            }

            var batches = forTarget.GroupBy(p => p.Scope, StringComparer.Ordinal).SelectMany(s => s.Chunk(target.BatchSize)).ToList();
            for (var i = 0; i < batches.Count; i++)
            {
                if (timeProvider.GetUtcNow() >= handBackAt)
                {
                    handedBack.AddRange(batches.Skip(i).SelectMany(b => b).Select(p => p.Id));
                    break;
                }

                using var permit = await limiter.AcquireAsync(1, cancellationToken);
                var batch = batches[i];
                var ids = batch.Select(p => p.Id).ToList();
                var result = await SendAsync(target, batch, cancellationToken);
                switch (result.Outcome)
                {
                    case PurgeOutcome.Sent:
                        await outbox.CompletePurgesAsync(ids, timeProvider.GetUtcNow(), cancellationToken);
                        metrics.Purges(target.Name, "sent", ids.Count);
                        break;
                    case PurgeOutcome.Failed:
                        await outbox.DeadLetterPurgesAsync(ids, result.Answer!, cancellationToken);
                        metrics.Purges(target.Name, "dead", ids.Count);
                        Log.Dead(logger, ids.Count, target.Name, result.Answer);
                        break;
                    default:
                        var attempts = batch.Max(p => p.Attempts) + 1;
                        var due = timeProvider.GetUtcNow() + (result.RetryAfter is { } after && after > TimeSpan.Zero ? after : Backoff(attempts));
                        await outbox.RetryPurgesAsync(ids, due, result.Answer, countAttempt: true, _options.MaxAttempts, cancellationToken);
                        var dead = batch.Count(p => p.Attempts + 1 >= _options.MaxAttempts);
                        metrics.Purges(target.Name, "retry", ids.Count - dead);
                        metrics.Purges(target.Name, "dead", dead);
                        Log.Retry(logger, ids.Count, target.Name, due, result.Answer);

                        // The target is busy or down: its other batches wait as long, without a try counted.
                        var rest = batches.Skip(i + 1).SelectMany(b => b).Select(p => p.Id).ToList();
                        await outbox.RetryPurgesAsync(rest, due, null, countAttempt: false, _options.MaxAttempts, cancellationToken);
                        i = batches.Count;
                        break;
                }
            }
        }

        await outbox.RetryPurgesAsync(handedBack, timeProvider.GetUtcNow(), null, countAttempt: false, _options.MaxAttempts, cancellationToken);
        return claimed.Count;
    }

    private static async Task<PurgeResult> SendAsync(ICdnPurgeTarget target, PurgeRow[] batch, CancellationToken cancellationToken)
    {
        try
        {
            return await target.SendAsync(batch, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return new PurgeResult(PurgeOutcome.Retry, ex.Message);
        }
    }

    /// <summary>One second doubled per failed try, up to <c>Cdn:MaxBackoff</c>, then a random half of it taken off, so instances that failed together do not retry together.</summary>
    private TimeSpan Backoff(int attempts)
    {
        var full = Math.Min(_options.MaxBackoff.TotalSeconds, Math.Pow(2, Math.Min(attempts - 1, 30)));
        lock (_random)
        {
            return TimeSpan.FromSeconds(full * (0.5 + (_random.NextDouble() / 2)));
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.PurgeRetry, Level = LogLevel.Warning, Message = "{Count} purges to {Target} failed; they are tried again at {Due:O}. The CDN answered: {Answer}")]
        public static partial void Retry(ILogger logger, int count, string target, DateTimeOffset due, string? answer);

        [LoggerMessage(EventId = EventIds.PurgeDead, Level = LogLevel.Error, Message = "{Count} purges to {Target} were refused and dead-lettered (retry them from the admin). The CDN answered: {Answer}")]
        public static partial void Dead(ILogger logger, int count, string target, string? answer);

        [LoggerMessage(EventId = EventIds.PurgeOutboxUnavailable, Level = LogLevel.Warning, Message = "The purge outbox could not be read: {Error}")]
        public static partial void OutboxUnavailable(ILogger logger, string error);
    }
}

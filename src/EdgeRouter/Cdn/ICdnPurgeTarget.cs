namespace EdgeRouter.Cdn;

public enum PurgeOutcome
{
    /// <summary>The CDN took the purges.</summary>
    Sent,

    /// <summary>Busy or failing for now (429, 5xx, no answer): try again later.</summary>
    Retry,

    /// <summary>Refused for good (credentials, a bad request): no retry mends it.</summary>
    Failed,
}

/// <summary>What a target made of a batch; <see cref="Answer"/> is the CDN's answer when it was not a success.</summary>
public readonly record struct PurgeResult(PurgeOutcome Outcome, string? Answer = null, TimeSpan? RetryAfter = null);

/// <summary>
/// One CDN's purge API (or a webhook), by kind. A batch holds purges of one scope, at most <see cref="BatchSize"/>;
/// the worker paces requests and retries.
/// </summary>
public interface ICdnPurgeTarget
{
    string Name { get; }

    /// <summary>Purges per request, within the API's documented limit.</summary>
    int BatchSize { get; }

    /// <summary>Requests per second the API is sent.</summary>
    double RequestsPerSecond { get; }

    Task<PurgeResult> SendAsync(IReadOnlyList<PurgeRow> batch, CancellationToken cancellationToken);
}

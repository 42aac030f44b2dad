namespace EdgeRouter.Caching;

/// <summary>
/// Change announcements that could not be sent, resent in the background until the channel takes them. A lost
/// announcement would leave another instance, whose own connection never dropped, serving the old version for its
/// whole cache lifetime. Announcements are idempotent ("forget this key"), so each is kept once; past
/// <see cref="Limit"/> the lot is replaced by one "forget everything", which covers them all.
/// </summary>
/// <param name="send">Sends one announcement; false when the channel refused it.</param>
internal sealed class AnnouncementRetry(Func<string, Task<bool>> send, string forgetEverything, TimeProvider timeProvider, CancellationToken stopping)
{
    public const int Limit = 10_000;
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    private readonly Lock _lock = new();
    private readonly HashSet<string> _pending = new(StringComparer.Ordinal);
    private bool _running;

    /// <summary>How many announcements wait to be resent.</summary>
    public int Pending
    {
        get
        {
            lock (_lock)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>Keeps <paramref name="message"/> to resend, and starts the resending if it is not running.</summary>
    public void Add(string message)
    {
        lock (_lock)
        {
            if (!_pending.Contains(forgetEverything) && _pending.Add(message) && _pending.Count > Limit)
            {
                _pending.Clear();
                _pending.Add(forgetEverything);
            }

            if (_running)
            {
                return;
            }

            _running = true;
        }

        _ = ResendAsync();
    }

    private async Task ResendAsync()
    {
        try
        {
            while (true)
            {
                await Task.Delay(Interval, timeProvider, stopping);
                string[] batch;
                lock (_lock)
                {
                    batch = [.. _pending];
                }

                foreach (var message in batch)
                {
                    if (!await send(message))
                    {
                        break; // still refused: the rest wait for the next round
                    }

                    lock (_lock)
                    {
                        _pending.Remove(message);
                    }
                }

                lock (_lock)
                {
                    if (_pending.Count == 0)
                    {
                        _running = false;
                        return;
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }
}

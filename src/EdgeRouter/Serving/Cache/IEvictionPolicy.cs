namespace EdgeRouter.Serving.Cache;

/// <summary>
/// Which entry the origin cache lets go when it needs room. <see cref="OnHit"/> runs on every hit, concurrently and
/// without the cache's lock, so it must be cheap; <see cref="OnAdd"/> and <see cref="Evict"/> run under the lock.
/// </summary>
internal interface IEvictionPolicy
{
    void OnHit(EvictionNode entry);

    void OnAdd(EvictionNode entry);

    /// <summary>The entry to let go, no longer tracked by the policy; null when it tracks none.</summary>
    EvictionNode? Evict();
}

/// <summary>The eviction policies by their configuration name (<c>EdgeRouter:OriginCache:Eviction</c>).</summary>
internal static class EvictionPolicies
{
    public const string Sieve = "sieve";
    public const string Lru = "lru";

    public static readonly string[] Names = [Sieve, Lru];

    public static IEvictionPolicy Create(string name) => name switch
    {
        Lru => new LruPolicy(),
        _ => new SievePolicy(),
    };
}

/// <summary>
/// SIEVE (Zhang et al., NSDI '24): a FIFO queue with a visited bit and a hand that sweeps from old to new, clearing
/// bits and evicting the first unvisited entry. A hit only sets a bit (no lock, no list move), and objects read once
/// (a crawl of cold keys) leave before the hot set, which keeps its bits set.
/// </summary>
internal sealed class SievePolicy : IEvictionPolicy
{
    private readonly EntryQueue _queue = new();
    private EvictionNode? _hand;

    public void OnHit(EvictionNode entry)
    {
        // Read before writing: a hot entry's cache line is not dirtied by every hit on every core.
        if (!entry.Visited)
        {
            entry.Visited = true;
        }
    }

    public void OnAdd(EvictionNode entry) => _queue.AddNewest(entry);

    public EvictionNode? Evict()
    {
        var entry = _hand ?? _queue.Oldest;
        while (entry is { Visited: true })
        {
            entry.Visited = false;
            entry = entry.Newer ?? _queue.Oldest;
        }

        if (entry is null)
        {
            return null;
        }

        _hand = entry.Newer;
        _queue.Remove(entry);
        return entry;
    }
}

/// <summary>Least recently used: the baseline SIEVE is measured against (a crawl of cold keys flushes it).</summary>
internal sealed class LruPolicy : IEvictionPolicy
{
    private readonly Lock _lock = new();
    private readonly EntryQueue _queue = new();

    public void OnHit(EvictionNode entry)
    {
        lock (_lock)
        {
            if (entry.Tracked && entry != _queue.Newest)
            {
                _queue.Remove(entry);
                _queue.AddNewest(entry);
            }
        }
    }

    public void OnAdd(EvictionNode entry)
    {
        lock (_lock)
        {
            _queue.AddNewest(entry);
            entry.Tracked = true;
        }
    }

    public EvictionNode? Evict()
    {
        lock (_lock)
        {
            var entry = _queue.Oldest;
            if (entry is not null)
            {
                _queue.Remove(entry);
                entry.Tracked = false;
            }

            return entry;
        }
    }
}

/// <summary>An entry of a tier as its eviction policy sees it: the policy's state, changed only by the policy.</summary>
internal abstract class EvictionNode
{
    internal volatile bool Visited;
    internal bool Tracked;
    internal EvictionNode? Newer;
    internal EvictionNode? Older;
}

/// <summary>The entries a policy tracks, oldest to newest, linked through the entries themselves.</summary>
internal sealed class EntryQueue
{
    public EvictionNode? Newest { get; private set; }

    public EvictionNode? Oldest { get; private set; }

    public void AddNewest(EvictionNode entry)
    {
        entry.Older = Newest;
        entry.Newer = null;
        if (Newest is not null)
        {
            Newest.Newer = entry;
        }

        Newest = entry;
        Oldest ??= entry;
    }

    public void Remove(EvictionNode entry)
    {
        if (entry.Newer is { } newer)
        {
            newer.Older = entry.Older;
        }
        else
        {
            Newest = entry.Older;
        }

        if (entry.Older is { } older)
        {
            older.Newer = entry.Newer;
        }
        else
        {
            Oldest = entry.Newer;
        }

        entry.Newer = entry.Older = null;
    }
}

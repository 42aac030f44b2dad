namespace EdgeRouter.Serving.Cache;

/// <summary>
/// Which entry the origin cache lets go when it needs room. <see cref="OnHit"/> runs on every hit, concurrently and
/// without the cache's lock, so it must be cheap; <see cref="OnAdd"/> and <see cref="Evict"/> run under the lock.
/// </summary>
internal interface IEvictionPolicy
{
    void OnHit(CacheEntry entry);

    void OnAdd(CacheEntry entry);

    /// <summary>The entry to let go, no longer tracked by the policy; null when it tracks none.</summary>
    CacheEntry? Evict();
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
    private CacheEntry? _hand;

    public void OnHit(CacheEntry entry)
    {
        // Read before writing: a hot entry's cache line is not dirtied by every hit on every core.
        if (!entry.Visited)
        {
            entry.Visited = true;
        }
    }

    public void OnAdd(CacheEntry entry) => _queue.AddNewest(entry);

    public CacheEntry? Evict()
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

    public void OnHit(CacheEntry entry)
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

    public void OnAdd(CacheEntry entry)
    {
        lock (_lock)
        {
            _queue.AddNewest(entry);
            entry.Tracked = true;
        }
    }

    public CacheEntry? Evict()
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

/// <summary>The entries a policy tracks, oldest to newest, linked through the entries themselves.</summary>
internal sealed class EntryQueue
{
    public CacheEntry? Newest { get; private set; }

    public CacheEntry? Oldest { get; private set; }

    public void AddNewest(CacheEntry entry)
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

    public void Remove(CacheEntry entry)
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

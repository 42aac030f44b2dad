using EdgeRouter.Serving.Cache;

namespace EdgeRouter.Tests.Serving.Cache;

/// <summary>
/// Scan resistance, on the policies alone: a Zipf-distributed hot set shares the traffic with a crawl of cold keys
/// (uniform over ten times the cache), and the hot set must keep its hits. SIEVE is measured against LRU, the
/// baseline that such a crawl flushes.
/// </summary>
public sealed class EvictionPolicyTests
{
    [Fact]
    public void UnderAColdScan_SieveKeepsTheHotSetAbove90Percent_AndAboveLru()
    {
        var sieve = HotHitRatio(new SievePolicy());
        var lru = HotHitRatio(new LruPolicy());

        Assert.True(sieve >= 0.90, $"SIEVE kept {sieve:P1} of hot reads as hits");
        Assert.True(sieve > lru + 0.03, $"SIEVE {sieve:P1} against LRU {lru:P1}");
    }

    [Fact]
    public void Sieve_EvictsAnUnvisitedEntryBeforeAVisitedOne_AndClearsTheBitsItPasses()
    {
        var policy = new SievePolicy();
        var (a, b, c) = (Entry(1), Entry(2), Entry(3));
        policy.OnAdd(a);
        policy.OnAdd(b);
        policy.OnAdd(c);
        policy.OnHit(a);

        Assert.Same(b, policy.Evict());
        Assert.False(a.Visited);
        Assert.Same(c, policy.Evict());
        Assert.Same(a, policy.Evict());
        Assert.Null(policy.Evict());
    }

    /// <summary>Half the reads go to 500 hot keys (Zipf), half to 20,000 cold ones; the cache holds 2,000.</summary>
    private static double HotHitRatio(IEvictionPolicy policy)
    {
        const int Capacity = 2000, Hot = 500, Cold = 20_000, Reads = 300_000;
        var random = new Random(7);
        var total = Enumerable.Range(1, Hot).Sum(rank => 1.0 / rank);
        var cumulative = new double[Hot];
        for (var (rank, sum) = (1, 0.0); rank <= Hot; rank++)
        {
            sum += 1.0 / rank / total;
            cumulative[rank - 1] = sum;
        }

        var cached = new Dictionary<int, CacheEntry>();
        var (hits, hotReads) = (0, 0);
        for (var read = 0; read < Reads; read++)
        {
            var hot = random.NextDouble() < 0.5;
            var rank = Array.BinarySearch(cumulative, random.NextDouble());
            var key = hot ? Math.Min(Hot - 1, rank >= 0 ? rank : ~rank) : Hot + random.Next(Cold);
            var hit = cached.TryGetValue(key, out var entry);
            if (hit)
            {
                policy.OnHit(entry!);
            }
            else
            {
                if (cached.Count == Capacity)
                {
                    cached.Remove(KeyOf((CacheEntry)policy.Evict()!));
                }

                entry = Entry(key);
                cached[key] = entry;
                policy.OnAdd(entry);
            }

            // After a warm-up of a third of the reads.
            if (hot && read > Reads / 3)
            {
                hotReads++;
                hits += hit ? 1 : 0;
            }
        }

        return (double)hits / hotReads;
    }

    private static CacheEntry Entry(int key) => new(new CacheKey("s", key.ToString(System.Globalization.CultureInfo.InvariantCulture), "h"), null!);

    private static int KeyOf(CacheEntry entry) => int.Parse(entry.Key.Location, System.Globalization.CultureInfo.InvariantCulture);
}

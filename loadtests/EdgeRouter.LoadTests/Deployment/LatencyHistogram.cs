using System.Numerics;

namespace EdgeRouter.LoadTests.Deployment;

/// <summary>
/// Latencies in microseconds, kept as counts in log-linear buckets (as HdrHistogram does): exact below 128 µs, then 64
/// buckets per power of two, so a percentile is within 1.6 % of the value recorded. Recording is lock-free and
/// allocation-free, from any thread.
/// </summary>
public sealed class LatencyHistogram
{
    private const int Linear = 128;
    private const int PerOctave = 64;
    private const int Octaves = 34; // up to 2^40 µs, some 12 days

    private readonly long[] _counts = new long[Linear + (Octaves * PerOctave)];
    private long _total;
    private long _max;

    public long Count => Volatile.Read(ref _total);

    public double MaxMs => Volatile.Read(ref _max) / 1000.0;

    public void Record(long microseconds)
    {
        var value = Math.Max(0, microseconds);
        Interlocked.Increment(ref _counts[Index(value)]);
        Interlocked.Increment(ref _total);
        long max;
        while (value > (max = Volatile.Read(ref _max)) && Interlocked.CompareExchange(ref _max, value, max) != max)
        {
        }
    }

    /// <summary>The latency below which <paramref name="quantile"/> of the recorded ones fall, in milliseconds (0 when empty).</summary>
    public double PercentileMs(double quantile)
    {
        var total = Count;
        if (total == 0)
        {
            return 0;
        }

        var rank = Math.Max(1, (long)Math.Ceiling(quantile * total));
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += Volatile.Read(ref _counts[i]);
            if (seen >= rank)
            {
                return Math.Min(Middle(i), Volatile.Read(ref _max)) / 1000.0;
            }
        }

        return MaxMs;
    }

    private static int Index(long value)
    {
        if (value < Linear)
        {
            return (int)value;
        }

        // value >> shift falls in [64, 128)
        var shift = Math.Min(63 - BitOperations.LeadingZeroCount((ulong)value) - 6, Octaves);
        var top = Math.Min(value >> shift, (2 * PerOctave) - 1);
        return Linear + ((shift - 1) * PerOctave) + (int)(top - PerOctave);
    }

    /// <summary>The middle of bucket <paramref name="index"/>, in microseconds.</summary>
    private static long Middle(int index)
    {
        if (index < Linear)
        {
            return index;
        }

        var shift = ((index - Linear) / PerOctave) + 1;
        var top = ((index - Linear) % PerOctave) + PerOctave;
        return (top << shift) + ((1L << shift) / 2);
    }
}

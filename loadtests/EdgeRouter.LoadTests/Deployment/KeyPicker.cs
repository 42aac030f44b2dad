namespace EdgeRouter.LoadTests.Deployment;

/// <summary>
/// Picks which key each request reads. <c>zipf</c>: key <c>i</c> (from 0, in the list's order) is asked with weight
/// <c>1/(i+1)^s</c>, so the first keys are the hot ones, as on a real site; <c>uniform</c>: every key alike;
/// <c>sequential</c>: the list in order, round and round, so N requests over N keys ask each once.
/// </summary>
public sealed class KeyPicker
{
    private readonly KeyPicking _picking;
    private readonly int _count;
    private readonly double[]? _cumulative;
    private long _next = -1;

    public KeyPicker(KeyPicking picking, int count, double exponent)
    {
        if (count < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(count), "There must be at least one key.");
        }

        (_picking, _count) = (picking, count);
        if (picking == KeyPicking.Zipf)
        {
            _cumulative = new double[count];
            var sum = 0.0;
            for (var i = 0; i < count; i++)
            {
                sum += 1 / Math.Pow(i + 1, exponent);
                _cumulative[i] = sum;
            }

            for (var i = 0; i < count; i++)
            {
                _cumulative[i] /= sum;
            }
        }
    }

    /// <summary>The index of the next key; <paramref name="random"/> belongs to the caller's thread.</summary>
    public int Next(Random random) => _picking switch
    {
        KeyPicking.Sequential => (int)(Interlocked.Increment(ref _next) % _count),
        KeyPicking.Uniform => random.Next(_count),
        _ => Zipf(random.NextDouble()),
    };

    private int Zipf(double u)
    {
        var index = Array.BinarySearch(_cumulative!, u);
        return Math.Min(index >= 0 ? index : ~index, _count - 1);
    }
}

using System.Globalization;

namespace EdgeRouter.LoadTests.Deployment;

/// <summary>
/// One step of a run: an arrival rate that is constant or changes linearly over the step (a piece of a ramp), or a
/// number of clients in a closed loop. A rate step fixes when each of its requests starts, whatever the latency.
/// </summary>
public sealed record StepPlan(double FromRate, double ToRate, int Concurrency, TimeSpan Duration)
{
    public static StepPlan Constant(double rate, TimeSpan duration) => new(rate, rate, 0, duration);

    public static StepPlan Linear(double from, double to, TimeSpan duration) => new(from, to, 0, duration);

    public static StepPlan Closed(int concurrency, TimeSpan duration) => new(0, 0, concurrency, duration);

    public bool IsClosed => Concurrency > 0;

    /// <summary>The mean arrival rate asked for; none for a closed loop.</summary>
    public double? TargetRate => IsClosed ? null : (FromRate + ToRate) / 2;

    public string Name => IsClosed
        ? string.Create(CultureInfo.InvariantCulture, $"{Concurrency} clients")
        : FromRate == ToRate
            ? string.Create(CultureInfo.InvariantCulture, $"{FromRate:0.##}/s")
            : string.Create(CultureInfo.InvariantCulture, $"{FromRate:0.##}→{ToRate:0.##}/s");

    /// <summary>
    /// When request <paramref name="n"/> (from 0) of the step is due, in seconds from the step's start: the time at
    /// which the rate's integral reaches <paramref name="n"/>. At or past <see cref="Duration"/>, the step has no such request.
    /// </summary>
    public double OffsetOf(long n)
    {
        var length = Duration.TotalSeconds;
        var slope = (ToRate - FromRate) / length;
        if (Math.Abs(slope) < 1e-12)
        {
            return n / FromRate;
        }

        // a·t + slope·t²/2 = n
        var discriminant = (FromRate * FromRate) + (2 * slope * n);
        return discriminant < 0 ? double.PositiveInfinity : (Math.Sqrt(discriminant) - FromRate) / slope;
    }
}

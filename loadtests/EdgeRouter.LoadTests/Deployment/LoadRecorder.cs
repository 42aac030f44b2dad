using System.Diagnostics;

namespace EdgeRouter.LoadTests.Deployment;

/// <summary>Counts of a step, or of one second of the run.</summary>
public sealed class Tally
{
    private readonly long[] _status = new long[600];
    private readonly long[] _kinds = new long[Enum.GetValues<RequestKind>().Length];
    private long _sent;
    private long _answered;
    private long _errors;
    private long _dropped;
    private long _timeouts;
    private long _failed;
    private long _bytes;
    private long _lastSent;
    private long _lastAnswered;

    /// <summary>Every request sent, from its scheduled start to its end (answered or failed).</summary>
    public LatencyHistogram Latency { get; } = new();

    public long Sent => Volatile.Read(ref _sent);

    /// <summary>Requests that got an HTTP response, whatever its status.</summary>
    public long Answered => Volatile.Read(ref _answered);

    /// <summary>Failed requests (see <see cref="LoadRecorder"/>), the dropped ones included.</summary>
    public long Errors => Volatile.Read(ref _errors);

    /// <summary>Requests not sent because <c>--max-in-flight</c> were already waiting.</summary>
    public long Dropped => Volatile.Read(ref _dropped);

    public long Timeouts => Volatile.Read(ref _timeouts);

    /// <summary>Requests that got no response: refused or reset connections, and the like.</summary>
    public long ConnectionErrors => Volatile.Read(ref _failed);

    public long Bytes => Volatile.Read(ref _bytes);

    /// <summary>When the last request was sent and the last one ended (<see cref="Stopwatch"/> timestamps; 0 if none).</summary>
    public long LastSentAt => Volatile.Read(ref _lastSent);

    public long LastAnsweredAt => Volatile.Read(ref _lastAnswered);

    public IReadOnlyDictionary<string, long> StatusCodes
        => Enumerable.Range(0, _status.Length).Where(s => Volatile.Read(ref _status[s]) > 0).ToDictionary(s => s.ToString(System.Globalization.CultureInfo.InvariantCulture), s => Volatile.Read(ref _status[s]));

    public IReadOnlyDictionary<string, long> Kinds
        => Enum.GetValues<RequestKind>().Where(k => _kinds[(int)k] > 0).ToDictionary(k => k.ToString().ToLowerInvariant(), k => Volatile.Read(ref _kinds[(int)k]));

    internal void Sent1(RequestKind kind, long at)
    {
        Interlocked.Increment(ref _sent);
        Interlocked.Increment(ref _kinds[(int)kind]);
        Later(ref _lastSent, at);
    }

    internal void Dropped1()
    {
        Interlocked.Increment(ref _dropped);
        Interlocked.Increment(ref _errors);
    }

    internal void Ended(long latencyUs, long at, int status, long bytes, bool error, bool timeout)
    {
        Latency.Record(latencyUs);
        Later(ref _lastAnswered, at);
        if (status > 0)
        {
            Interlocked.Increment(ref _answered);
            Interlocked.Increment(ref _status[Math.Min(status, _status.Length - 1)]);
            Interlocked.Add(ref _bytes, bytes);
        }
        else
        {
            Interlocked.Increment(ref timeout ? ref _timeouts : ref _failed);
        }

        if (error)
        {
            Interlocked.Increment(ref _errors);
        }
    }

    private static void Later(ref long field, long value)
    {
        long current;
        while (value > (current = Volatile.Read(ref field)) && Interlocked.CompareExchange(ref field, value, current) != current)
        {
        }
    }
}

/// <summary>
/// What a run measured: per step (by the step that scheduled each request) and per second of the run (a request's
/// sending in the second it was sent, its end in the second it ended). An error is a request that failed (timeout,
/// connection), was dropped, or got a status its kind should not get: any 5xx or 4xx, except a 404 for an unknown
/// key and a 416 for a range.
/// </summary>
public sealed class LoadRecorder(int steps, TimeSpan length)
{
    // A second slot for each second of the run and a minute after it, for answers that come late.
    private readonly Tally?[] _seconds = new Tally?[(int)Math.Ceiling(length.TotalSeconds) + 60];

    public IReadOnlyList<Tally> Steps { get; } = [.. Enumerable.Range(0, steps).Select(_ => new Tally())];

    /// <summary>When the measured part of the run began (after the warm-up), a <see cref="Stopwatch"/> timestamp.</summary>
    public long StartedAt { get; private set; }

    /// <summary>The seconds of the run so far, from its start (null: nothing happened in that second).</summary>
    public IReadOnlyList<Tally?> Seconds => _seconds;

    public void Start() => StartedAt = Stopwatch.GetTimestamp();

    public static bool IsError(RequestKind kind, int status)
        => status >= 500 || (status >= 400 && !(kind == RequestKind.Unknown && status == 404) && !(kind == RequestKind.Range && status == 416));

    /// <summary>A request of step <paramref name="step"/> (-1: the warm-up, not recorded) was sent at <paramref name="at"/>.</summary>
    public void Sent(int step, RequestKind kind, long at)
    {
        if (step >= 0)
        {
            Steps[step].Sent1(kind, at);
            Second(at).Sent1(kind, at);
        }
    }

    public void Dropped(int step, long at)
    {
        if (step >= 0)
        {
            Steps[step].Dropped1();
            Second(at).Dropped1();
        }
    }

    /// <summary>A request ended: <paramref name="status"/> 0 when it got no response.</summary>
    public void Ended(int step, long scheduledAt, long at, int status, long bytes, bool error, bool timeout)
    {
        if (step >= 0)
        {
            var latency = (long)((at - scheduledAt) * 1_000_000.0 / Stopwatch.Frequency);
            Steps[step].Ended(latency, at, status, bytes, error, timeout);
            Second(at).Ended(latency, at, status, bytes, error, timeout);
        }
    }

    private Tally Second(long at)
    {
        var index = Math.Clamp((int)((at - StartedAt) / Stopwatch.Frequency), 0, _seconds.Length - 1);
        return _seconds[index] ?? Interlocked.CompareExchange(ref _seconds[index], new Tally(), null) ?? _seconds[index]!;
    }
}

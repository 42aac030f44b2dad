using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;

namespace EdgeRouter.LoadTests.Deployment;

/// <summary>One key to read: its URL, and its size and ETag where known (for ranges and revalidations).</summary>
public sealed record TargetKey(string Key, Uri Url, long? Size, string? ETag);

/// <summary>
/// Sends the requests of a plan. In a rate step (the open model) each request has a start time fixed in advance by
/// the arrival rate, and is sent then whatever became of the ones before it; its latency is measured from that
/// scheduled start, so a server that stalls is charged with every request that waited for it, in the client's
/// connection queue too (no coordinated omission). In a closed step, N clients each send a request when their last
/// one ended, and latency is measured from the send (what wrk and most benchmarks report), for comparison.
/// </summary>
public sealed partial class LoadEngine : IDisposable
{
    // Discarded bytes of every body; concurrent writes to it are harmless.
    private static readonly byte[] Scratch = new byte[64 * 1024];

    private readonly TargetPlan _plan;
    private readonly IReadOnlyList<TargetKey> _keys;
    private readonly string?[] _etags;
    private readonly KeyPicker _picker;
    private readonly LoadRecorder _recorder;
    private readonly HttpMessageInvoker _http;
    private readonly Uri _missing;
    private long _inFlight;
    private long _unknown;

    public LoadEngine(TargetPlan plan, IReadOnlyList<TargetKey> keys, LoadRecorder recorder)
    {
        (_plan, _keys, _recorder) = (plan, keys, recorder);
        _etags = [.. keys.Select(k => k.ETag)];
        _picker = new KeyPicker(plan.Picking, keys.Count, plan.ZipfExponent);
        _missing = new Uri(TargetKeys.Base(plan.Url), $"_edgerouter-loadtest-missing/{Guid.NewGuid():N}/");
        _http = new HttpMessageInvoker(Handler(plan));
    }

    /// <summary>Requests sent and not yet ended.</summary>
    public long InFlight => Interlocked.Read(ref _inFlight);

    /// <summary>The step running (-1: the warm-up).</summary>
    public int CurrentStep { get; private set; } = -1;

    public static SocketsHttpHandler Handler(TargetPlan plan)
    {
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = plan.Connections,
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = plan.Timeout,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
            EnableMultipleHttp2Connections = true,
            ActivityHeadersPropagator = null,
        };
        if (plan.Insecure)
        {
            // --insecure: the operator asked for it, to load a staging origin with a self-signed certificate.
#pragma warning disable CA5359
            handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
#pragma warning restore CA5359
        }

        return handler;
    }

    /// <summary>Runs the warm-up (not recorded), then every step, then waits for the requests still out.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var first = _plan.Steps[0];
        if (_plan.Warmup > TimeSpan.Zero)
        {
            var warmup = first.IsClosed ? StepPlan.Closed(first.Concurrency, _plan.Warmup) : StepPlan.Constant(Math.Max(1, Math.Max(first.FromRate, first.ToRate)), _plan.Warmup);
            await RunStepAsync(-1, warmup, Stopwatch.GetTimestamp(), cancellationToken);
        }

        _recorder.Start();
        var start = _recorder.StartedAt;
        for (var i = 0; i < _plan.Steps.Count && !cancellationToken.IsCancellationRequested; i++)
        {
            CurrentStep = i;
            await RunStepAsync(i, _plan.Steps[i], start, cancellationToken);

            // The next step starts when this one was due to end, so a late dispatcher catches up instead of shifting the schedule.
            start += (long)(_plan.Steps[i].Duration.TotalSeconds * Stopwatch.Frequency);
        }

        var deadline = Stopwatch.GetTimestamp() + (long)((_plan.Timeout.TotalSeconds + 5) * Stopwatch.Frequency);
        while (InFlight > 0 && Stopwatch.GetTimestamp() < deadline && !cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(20, CancellationToken.None);
        }
    }

    private Task RunStepAsync(int index, StepPlan step, long start, CancellationToken cancellationToken)
    {
        var end = start + (long)(step.Duration.TotalSeconds * Stopwatch.Frequency);
        if (step.IsClosed)
        {
            return Task.WhenAll(Enumerable.Range(0, step.Concurrency).Select(client => Task.Run(
                async () =>
                {
                    var random = NewRandom(client + 1);
                    while (Stopwatch.GetTimestamp() < end && !cancellationToken.IsCancellationRequested)
                    {
                        Interlocked.Increment(ref _inFlight);
                        await SendAsync(index, Stopwatch.GetTimestamp(), random);
                    }
                },
                CancellationToken.None)));
        }

        // One thread decides when each request starts; it never waits for an answer.
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var dispatcher = new Thread(() =>
        {
            try
            {
                Dispatch(index, step, start, end, cancellationToken);
                done.SetResult();
            }
            catch (Exception ex)
            {
                done.SetException(ex);
            }
        })
        {
            IsBackground = true,
            Name = "load dispatcher",
            Priority = ThreadPriority.AboveNormal,
        };
        dispatcher.Start();
        return done.Task;
    }

    private void Dispatch(int index, StepPlan step, long start, long end, CancellationToken cancellationToken)
    {
        // Sleep to the microsecond, not to the kernel's default 50 µs slack: a late start counts in the latency.
        _ = SetTimerSlack(PrTimerSlack, 1, 0, 0, 0);
        var random = NewRandom(0);
        var frequency = (double)Stopwatch.Frequency;
        for (long n = 0; !cancellationToken.IsCancellationRequested; n++)
        {
            var offset = step.OffsetOf(n);
            var due = start + (long)(offset * frequency);
            if (double.IsInfinity(offset) || due >= end)
            {
                return;
            }

            WaitUntil(due);
            if (Interlocked.Read(ref _inFlight) >= _plan.MaxInFlight)
            {
                _recorder.Dropped(index, Stopwatch.GetTimestamp());
                continue;
            }

            Interlocked.Increment(ref _inFlight);
            _ = SendAsync(index, due, random);
        }
    }

    /// <summary>
    /// Waits for <paramref name="due"/>: asleep while it is far, yielding the core while it is near. At high rates the
    /// gaps are tens of microseconds, and a sleep per request cost more than the requests (a context switch each);
    /// yielding lets the answers be handled on the same core and returns at once when there are none.
    /// </summary>
    private static void WaitUntil(long due)
    {
        while (true)
        {
            var remaining = due - Stopwatch.GetTimestamp();
            if (remaining <= 0)
            {
                return;
            }

            var microseconds = remaining * 1_000_000 / Stopwatch.Frequency;
            if (microseconds > NearMicroseconds)
            {
                _ = USleep((uint)Math.Min(microseconds - (NearMicroseconds / 2), 100_000));
            }
            else
            {
                Thread.Yield();
            }
        }
    }

    /// <summary>
    /// Sends one request scheduled at <paramref name="scheduledAt"/> and records how it ended. Everything that uses
    /// <paramref name="random"/> runs before the first await, on the caller's thread.
    /// </summary>
    private async Task SendAsync(int step, long scheduledAt, Random random)
    {
        var kind = _plan.Mix.Pick(random.NextDouble());
        var keyIndex = kind == RequestKind.Unknown ? -1 : _picker.Next(random);
        using var request = Build(kind, keyIndex, random);
        _recorder.Sent(step, kind, Stopwatch.GetTimestamp());
        var (status, bytes, timeout, failed) = (0, 0L, false, false);
        using var timer = new CancellationTokenSource(_plan.Timeout);
        try
        {
            using var response = await _http.SendAsync(request, timer.Token).ConfigureAwait(false);
            status = (int)response.StatusCode;
            if (keyIndex >= 0 && _etags[keyIndex] is null && response.Headers.ETag is { } etag)
            {
                _etags[keyIndex] = etag.ToString();
            }

            await using var body = await response.Content.ReadAsStreamAsync(timer.Token).ConfigureAwait(false);
            int read;
            while ((read = await body.ReadAsync(Scratch, timer.Token).ConfigureAwait(false)) > 0)
            {
                bytes += read;
            }
        }
        catch (OperationCanceledException)
        {
            (timeout, failed) = (true, true);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or ObjectDisposedException)
        {
            // No response, or a body cut short after its status: a failure either way.
            failed = true;
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }

        _recorder.Ended(step, scheduledAt, Stopwatch.GetTimestamp(), failed ? 0 : status, bytes, failed || LoadRecorder.IsError(kind, status), timeout);
    }

    private HttpRequestMessage Build(RequestKind kind, int keyIndex, Random random)
    {
        if (kind == RequestKind.Unknown)
        {
            return Request(HttpMethod.Get, new Uri(_missing, Interlocked.Increment(ref _unknown).ToString(CultureInfo.InvariantCulture) + ".png"));
        }

        var key = _keys[keyIndex];
        var request = Request(kind == RequestKind.Head ? HttpMethod.Head : HttpMethod.Get, key.Url);
        if (kind == RequestKind.Range)
        {
            var length = key.Size is { } size ? Math.Min(size, _plan.RangeBytes) : _plan.RangeBytes;
            var first = key.Size is { } whole && whole > length ? random.NextInt64(whole - length + 1) : 0;
            request.Headers.TryAddWithoutValidation("Range", string.Create(CultureInfo.InvariantCulture, $"bytes={first}-{first + Math.Max(1, length) - 1}"));
        }
        else if (kind == RequestKind.Revalidate && _etags[keyIndex] is { } etag)
        {
            request.Headers.TryAddWithoutValidation("If-None-Match", etag);
        }

        return request;
    }

    private HttpRequestMessage Request(HttpMethod method, Uri url) => new(method, url)
    {
        Version = _plan.Http2 ? HttpVersion.Version20 : HttpVersion.Version11,
        VersionPolicy = _plan.Http2 ? HttpVersionPolicy.RequestVersionExact : HttpVersionPolicy.RequestVersionOrLower,
    };

    private Random NewRandom(int stream) => _plan.RandomSeed is { } seed ? new Random(seed + stream) : new Random();

    public void Dispose() => _http.Dispose();

    private const int PrTimerSlack = 29;
    private const long NearMicroseconds = 200;

    [LibraryImport("libc", EntryPoint = "usleep")]
    private static partial int USleep(uint microseconds);

    [LibraryImport("libc", EntryPoint = "prctl")]
    private static partial int SetTimerSlack(int option, ulong slackNanoseconds, ulong unused3, ulong unused4, ulong unused5);
}

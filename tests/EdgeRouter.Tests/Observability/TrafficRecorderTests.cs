using System.Diagnostics.Metrics;
using EdgeRouter.Admin;
using EdgeRouter.Observability;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace EdgeRouter.Tests.Observability;

/// <summary>The dashboard's minute-by-minute hour: what goes in which minute, what falls out, and the p99.</summary>
public sealed class TrafficRecorderTests : IDisposable
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 25, 12, 0, 10, TimeSpan.Zero));
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    public void Dispose() => _services.Dispose();

    [Fact]
    public async Task EachMinuteKeepsItsOwnFigures_AndAMinuteOlderThanAnHourFallsOut()
    {
        var meters = _services.GetRequiredService<IMeterFactory>();
        var metrics = new EdgeRouterMetrics(meters);
        using var recorder = await StartAsync(meters, metrics);
        var duration = meters.Create("Microsoft.AspNetCore.Hosting").CreateHistogram<double>("http.server.request.duration");

        // Minute 1: 100 requests, one of them slow (its p99 bucket), one 404 and one 503.
        for (var i = 0; i < 98; i++)
        {
            duration.Record(0.0004, new KeyValuePair<string, object?>("http.response.status_code", 302));
        }

        duration.Record(0.0004, new KeyValuePair<string, object?>("http.response.status_code", 404));
        duration.Record(0.2, new KeyValuePair<string, object?>("http.response.status_code", 503));
        metrics.Read("redirect", "redirected");
        metrics.ReadBytes("stream", 2_000);
        metrics.UploadStored("local", 10);

        // Minute 2: one read and one upload elsewhere.
        _clock.Advance(TimeSpan.FromMinutes(1));
        metrics.Read("stream", "full");
        metrics.UploadStored("other", 10);
        var twoMinutes = recorder.Snapshot();

        // An hour later the first minute is gone.
        _clock.Advance(TimeSpan.FromMinutes(59));
        var anHourLater = recorder.Snapshot();

        Assert.Equal(2, twoMinutes.Minutes.Count);
        var first = twoMinutes.Minutes[0];
        Assert.Equal((100, 1, 2_000, 1, 1), (first.Requests, first.Reads, first.Bytes, first.ClientErrors, first.ServerErrors));
        Assert.InRange(first.P99Ms!.Value, 0.4, 0.6);
        Assert.Equal(1, twoMinutes.Minutes[1].Reads);
        Assert.Null(twoMinutes.Minutes[1].P99Ms);
        Assert.Equal(new Dictionary<string, long> { ["local"] = 1, ["other"] = 1 }, twoMinutes.UploadsLastHour);
        Assert.Equal(60, anHourLater.Minutes.Count);
        Assert.Equal(0, anHourLater.Minutes.Sum(m => m.Requests));
        Assert.Equal(1, anHourLater.Minutes.Sum(m => m.Reads));
        Assert.Equal(new Dictionary<string, long> { ["other"] = 1 }, anHourLater.UploadsLastHour);
    }

    [Fact]
    public async Task WithTheAdminOff_NothingIsListenedTo()
    {
        var meters = _services.GetRequiredService<IMeterFactory>();
        var metrics = new EdgeRouterMetrics(meters);
        using var recorder = new TrafficRecorder(Options.Create(new AdminOptions()), meters, metrics, _clock);
        await recorder.StartAsync(CancellationToken.None);

        metrics.Read("redirect", "redirected");

        Assert.Equal(0, recorder.Snapshot().Minutes.Sum(m => m.Reads));
    }

    private async Task<TrafficRecorder> StartAsync(IMeterFactory meters, EdgeRouterMetrics metrics)
    {
        var recorder = new TrafficRecorder(Options.Create(new AdminOptions { KeyHashes = ["sha256:" + new string('0', 64)] }), meters, metrics, _clock);
        await recorder.StartAsync(CancellationToken.None);
        return recorder;
    }
}

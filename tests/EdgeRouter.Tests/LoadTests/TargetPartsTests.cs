extern alias loadtool;
using loadtool::EdgeRouter.LoadTests.Deployment;

namespace EdgeRouter.Tests.LoadTests;

/// <summary>The parts of <c>target</c> that decide what is sent and what is reported.</summary>
public sealed class TargetPartsTests
{
    [Theory]
    [InlineData(new[] { "--keys", "k.txt", "--inject", "10" }, "--url is required: the deployment's base URL, e.g. https://origin.example.com.")]
    [InlineData(new[] { "--url", "ftp://x", "--keys", "k.txt", "--inject", "10" }, "--url: 'ftp://x' is not an http or https URL.")]
    [InlineData(new[] { "--url", "http://x", "--keys", "k.txt" }, "Give one load shape: --inject, --ramp, --steps or --concurrency (given: none).")]
    [InlineData(new[] { "--url", "http://x", "--keys", "k.txt", "--inject", "10", "--concurrency", "4" }, "Give one load shape: --inject, --ramp, --steps or --concurrency (given: --inject, --concurrency).")]
    [InlineData(new[] { "--url", "http://x", "--keys", "k.txt", "--steps", "100,200" }, "--steps needs --step-duration, e.g. 30s.")]
    [InlineData(new[] { "--url", "http://x", "--keys", "k.txt", "--ramp", "500:5000" }, "--ramp: '500:5000' is not FROM:TO:DURATION, e.g. 500:5000:60s.")]
    [InlineData(new[] { "--url", "http://x", "--keys", "k.txt", "--inject", "-5" }, "--inject: '-5' is not a rate in requests per second (a number above 0, at most 10000000).")]
    [InlineData(new[] { "--url", "http://x", "--keys", "k.txt", "--inject", "10", "--duration", "soon" }, "--duration: 'soon' is not a duration such as 500ms, 30s, 2m or 1h.")]
    [InlineData(new[] { "--url", "http://x", "--inject", "10" }, "Give one key source: --keys FILE, --keys-from-admin ADMIN_URL or --seed N --upload-key KEY (given: none).")]
    [InlineData(new[] { "--url", "http://x", "--seed", "10", "--inject", "10" }, "--seed needs --upload-key KEY, an upload API key of the deployment (its objects are deleted at the end).")]
    [InlineData(new[] { "--url", "http://x", "--keys", "k.txt", "--inject", "10", "--pick", "random" }, "--pick: 'random' is not zipf, uniform or sequential.")]
    [InlineData(new[] { "--url", "http://x", "--keys", "k.txt", "--inject", "10", "--mix", "get=1,post=1" }, "--mix: 'post=1' is not KIND=WEIGHT with KIND get, head, range, revalidate or unknown.")]
    [InlineData(new[] { "--url", "http://x", "--keys", "k.txt", "--inject", "10", "--slo-errors", "150%" }, "--slo-errors: '150%' is not a share such as 1% or 0.01.")]
    [InlineData(new[] { "--url", "http://x", "--keys", "k.txt", "--inject", "10", "--rps", "5" }, "--rps is not an option of target.")]
    public void AWrongCommandLine_IsRefused_NamingTheOption(string[] args, string expected)
        => Assert.Equal(expected, Assert.Throws<ArgumentException>(() => TargetOptions.Parse(args, "out")).Message);

    [Fact]
    public void AValidCommandLine_GivesItsPlan()
    {
        var plan = TargetOptions.Parse(
            ["--url", "https://origin.example.com", "--keys-from-admin", "https://origin.example.com/admin", "--prefix", "2024/", "--steps", "1000,2000/s", "--step-duration", "30s", "--warmup", "0", "--pick", "uniform", "--mix", "get=80,head=10,unknown=10", "--slo-p99", "50ms", "--slo-errors", "1%", "--connections", "64", "--http2"],
            "out");

        Assert.Equal(new KeySource.Admin(new Uri("https://origin.example.com/admin"), "2024/"), plan.Keys);
        Assert.Equal([StepPlan.Constant(1000, TimeSpan.FromSeconds(30)), StepPlan.Constant(2000, TimeSpan.FromSeconds(30))], plan.Steps);
        Assert.Equal((TimeSpan.Zero, KeyPicking.Uniform, 64, true), (plan.Warmup, plan.Picking, plan.Connections, plan.Http2));
        Assert.Equal((TimeSpan.FromMilliseconds(50), 0.01), (plan.SloP99!.Value, plan.SloErrors!.Value));
        Assert.Equal("get=80,head=10,unknown=10", plan.Mix.ToString());
    }

    [Fact]
    public void ARamp_IsLinearPieces_WhoseRequestsAddUpToTheRampsArea()
    {
        var plan = TargetOptions.Parse(["--url", "http://x", "--keys", "k.txt", "--ramp", "500:5000:60s"], "out");

        Assert.Equal(10, plan.Steps.Count);
        Assert.Equal((500, 950), (plan.Steps[0].FromRate, plan.Steps[0].ToRate));
        Assert.Equal((4550, 5000), (plan.Steps[9].FromRate, plan.Steps[9].ToRate));

        // (500 + 5000) / 2 requests a second for 60 s; each piece sends what its trapezoid holds.
        var counts = plan.Steps.Select(step =>
        {
            long n = 0;
            while (step.OffsetOf(n) < step.Duration.TotalSeconds)
            {
                n++;
            }

            return n;
        }).ToList();
        Assert.InRange(counts.Sum(), 164_990, 165_010);
        Assert.InRange(counts[0], 4_349, 4_351);
        Assert.Equal(0, plan.Steps[0].OffsetOf(0));
        Assert.True(plan.Steps[0].OffsetOf(1) > plan.Steps[0].OffsetOf(4000) - plan.Steps[0].OffsetOf(3999), "the rate rises along the piece");
    }

    [Fact]
    public void ZipfPicksTheFirstKeysMost_UniformAlike_AndSequentialEachInTurn()
    {
        var random = new Random(7);
        var zipf = new KeyPicker(KeyPicking.Zipf, 100, 1.0);
        var hits = new int[100];
        for (var i = 0; i < 200_000; i++)
        {
            hits[zipf.Next(random)]++;
        }

        // Key i is asked with weight 1/(i+1): key 0 gets 1/H(100) = 19.3 % of requests, key 1 half of that.
        Assert.InRange(hits[0] / 200_000.0, 0.188, 0.198);
        Assert.InRange(hits[1] / (double)hits[0], 0.47, 0.53);
        Assert.InRange(hits[99] / (double)hits[0], 0.007, 0.013);

        var uniform = new KeyPicker(KeyPicking.Uniform, 10, 1.0);
        var spread = new int[10];
        for (var i = 0; i < 100_000; i++)
        {
            spread[uniform.Next(random)]++;
        }

        Assert.All(spread, count => Assert.InRange(count, 9_500, 10_500));

        var sequential = new KeyPicker(KeyPicking.Sequential, 3, 1.0);
        Assert.Equal([0, 1, 2, 0, 1], Enumerable.Range(0, 5).Select(_ => sequential.Next(random)));
    }

    [Fact]
    public void TheHistogram_GivesPercentilesWithin2Percent_FromMicrosecondsToMinutes()
    {
        var histogram = new LatencyHistogram();
        for (long us = 1; us <= 100_000; us++)
        {
            histogram.Record(us);
        }

        Assert.Equal(100_000, histogram.Count);
        Assert.InRange(histogram.PercentileMs(0.50), 49.0, 51.0);
        Assert.InRange(histogram.PercentileMs(0.99), 97.0, 101.0);
        Assert.InRange(histogram.PercentileMs(0.999), 98.0, 100.0);
        Assert.Equal(100.0, histogram.MaxMs);
        Assert.InRange(histogram.PercentileMs(0.00001), 0.001, 0.002);

        var slow = new LatencyHistogram();
        slow.Record(90_000_000);
        Assert.InRange(slow.PercentileMs(0.5), 88_200, 90_000);
    }

    [Fact]
    public void TheMix_SendsEachKindItsShare()
    {
        var mix = RequestMix.Parse("get=70,head=10,range=10,revalidate=5,unknown=5");
        var random = new Random(3);
        var counts = Enumerable.Range(0, 100_000).Select(_ => mix.Pick(random.NextDouble())).CountBy(k => k).ToDictionary();

        Assert.InRange(counts[RequestKind.Get], 69_000, 71_000);
        Assert.InRange(counts[RequestKind.Head], 9_400, 10_600);
        Assert.InRange(counts[RequestKind.Unknown], 4_500, 5_500);
        Assert.Equal(RequestKind.Range, RequestMix.Parse("range=1").Pick(0.99));
    }
}

namespace EdgeRouter.Tests.Cluster;

/// <summary>The history checker itself: it must flag what the router must never do, and only that.</summary>
public sealed class RegisterHistoryTests
{
    private static readonly Func<TimeSpan, TimeSpan> OneSecond = _ => TimeSpan.FromSeconds(1);

    private static RegisterOperation Write(string? value, int start, int end, bool acknowledged = true) => new("k", false, value, TimeSpan.FromMilliseconds(start), TimeSpan.FromMilliseconds(end), acknowledged);

    private static RegisterOperation Read(string? value, int start, int end) => new("k", true, value, TimeSpan.FromMilliseconds(start), TimeSpan.FromMilliseconds(end), true);

    [Fact]
    public void AReadOfAVersionReplacedBeforeTheWindow_IsStale()
    {
        var history = new[] { Write("v1", 0, 10), Write("v2", 20, 30), Read("v1", 2_000, 2_010) };

        Assert.Single(RegisterHistory.StaleReads(history, OneSecond));
    }

    [Fact]
    public void AReadOfTheOldVersionWithinTheWindow_OrOfTheNewOne_IsFine()
    {
        var history = new[] { Write("v1", 0, 10), Write("v2", 20, 30), Read("v1", 500, 510), Read("v2", 2_000, 2_010), Read("v2", 25, 26) };

        Assert.Empty(RegisterHistory.StaleReads(history, OneSecond));
    }

    [Fact]
    public void AReadDuringTwoOverlappingWrites_MayReturnEither()
    {
        var history = new[] { Write("v1", 0, 3_000), Write("v2", 10, 2_000), Read("v1", 5_000, 5_010), Read("v2", 5_000, 5_010) };

        Assert.Empty(RegisterHistory.StaleReads(history, OneSecond));
    }

    [Fact]
    public void NothingAfterAnAcknowledgedWrite_IsStale_UnlessADeleteCouldComeAfterIt()
    {
        var lost = new[] { Write("v1", 0, 10), Read(null, 2_000, 2_010) };
        var deleted = new[] { Write("v1", 0, 10), Write(null, 5, 1_500), Read(null, 2_000, 2_010) };

        Assert.Single(RegisterHistory.StaleReads(lost, OneSecond));
        Assert.Empty(RegisterHistory.StaleReads(deleted, OneSecond));
    }

    [Fact]
    public void AVersionNoWriteHadBegun_IsFlagged_AndAnUnansweredWriteMayHaveHappened()
    {
        var future = new[] { Read("v9", 0, 10), Write("v9", 20, 30) };
        var unanswered = new[] { Write("v1", 0, 10), Write("v2", 20, 30, acknowledged: false), Read("v2", 5_000, 5_010), Read("v1", 6_000, 6_010) };

        Assert.Single(RegisterHistory.StaleReads(future, OneSecond));
        Assert.Empty(RegisterHistory.StaleReads(unanswered, OneSecond));
    }
}

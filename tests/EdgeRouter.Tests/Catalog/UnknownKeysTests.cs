using EdgeRouter.Catalog;
using Microsoft.Extensions.Time.Testing;

namespace EdgeRouter.Tests.Catalog;

public sealed class UnknownKeysTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 26, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public void AKey_IsRememberedForItsLifetime_AndNoLonger_AndAddingItAgainRenewsIt()
    {
        var unknown = new UnknownKeys(100, _time);
        unknown.Add("a.png", TimeSpan.FromSeconds(60));
        unknown.Add("b.png", TimeSpan.FromSeconds(1));

        _time.Advance(TimeSpan.FromSeconds(59));
        Assert.True(unknown.Contains("a.png"));
        Assert.False(unknown.Contains("b.png"));
        Assert.False(unknown.Contains("never.png"));

        unknown.Add("a.png", TimeSpan.FromSeconds(60));
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.True(unknown.Contains("a.png"));
        _time.Advance(TimeSpan.FromSeconds(31));
        Assert.False(unknown.Contains("a.png"));
    }

    [Fact]
    public void AStormOfDistinctKeys_KeepsAtMostTheCapacity_TheNewestFirst()
    {
        var unknown = new UnknownKeys(100, _time);
        var keys = Enumerable.Range(0, 1_000).Select(i => $"storm/{i}.png").ToList();
        foreach (var key in keys)
        {
            unknown.Add(key, TimeSpan.FromMinutes(1));
        }

        var remembered = keys.Where(unknown.Contains).ToList();
        Assert.InRange(remembered.Count, 50, 100);
        Assert.Equal(keys[^remembered.Count..], remembered);
    }

    [Fact]
    public void Remove_AndClear_ForgetKeysInEitherGeneration()
    {
        var unknown = new UnknownKeys(10, _time);
        unknown.Add("older.png", TimeSpan.FromMinutes(1));
        for (var i = 0; i < 5; i++)
        {
            unknown.Add($"filler/{i}.png", TimeSpan.FromMinutes(1)); // 'older.png' is now in the old generation
        }

        unknown.Add("newer.png", TimeSpan.FromMinutes(1));
        Assert.True(unknown.Contains("older.png"));

        unknown.Remove("older.png");
        unknown.Remove("newer.png");
        Assert.False(unknown.Contains("older.png"));
        Assert.False(unknown.Contains("newer.png"));
        Assert.True(unknown.Contains("filler/4.png"));

        unknown.Clear();
        Assert.False(unknown.Contains("filler/4.png"));
    }
}

using EdgeRouter.Storage;

namespace EdgeRouter.Tests.Storage;

public sealed class ObjectKeysTests
{
    [Theory]
    [MemberData(nameof(HostileKeys.Data), MemberType = typeof(HostileKeys))]
    public void Validate_RejectsHostileKeys_WithAReason(string key)
    {
        var reason = ObjectKeys.Validate(key);
        Assert.False(string.IsNullOrWhiteSpace(reason));
    }

    [Theory]
    [InlineData("image.jpg")]
    [InlineData("2026/11/25/abc.png")]
    [InlineData("my-bucket/2020/10/06/image.jpg")]
    [InlineData("with space/file name.png")]
    [InlineData("日本語/画像.png")]
    [InlineData("a..b/c...d.png")]
    [InlineData(".well-known-not/x.png")]
    [InlineData("apix/not-reserved.png")]
    public void Validate_AcceptsOrdinaryKeys(string key) => Assert.Null(ObjectKeys.Validate(key));

    [Theory]
    [InlineData("2026/01/02/a.png", "2026/01/02/a.png")]
    [InlineData("with space/a+b.png", "with%20space/a%2Bb.png")]
    [InlineData("日本/é.png", "%E6%97%A5%E6%9C%AC/%C3%A9.png")]
    [InlineData("q?x#y.png", "q%3Fx%23y.png")]
    public void ToUrlPath_EncodesEachSegment_AndKeepsSlashes(string key, string expected)
        => Assert.Equal(expected, ObjectKeys.ToUrlPath(key));
}

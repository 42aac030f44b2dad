using System.Net.Http.Json;
using System.Text.Json;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.Placement;

/// <summary><c>EdgeRouter:PlacementPolicy</c> chooses the policy uploads are placed by.</summary>
public sealed class PlacementPolicySettingTests
{
    // 'second' weighs far more: 'weighted' would put almost every upload there.
    private const string Storages = """
    { "storages": [
        { "id": "first",  "api": "local", "root": "first",  "read": "stream", "weight": 1, "capacity": 1000000 },
        { "id": "second", "api": "local", "root": "second", "read": "stream", "weight": 50, "capacity": 1000000 }
    ] }
    """;

    [Theory]
    [InlineData("fill-first")]
    [InlineData("weighted")]
    public async Task TheConfiguredPolicy_PlacesTheUploads(string policy)
    {
        using var factory = new RouterFactory(Storages, settings: new Dictionary<string, string?> { ["EdgeRouter:PlacementPolicy"] = policy });
        using var client = factory.CreateAuthorizedClient();

        var placed = new List<string>();
        for (var i = 0; i < 12; i++)
        {
            var created = await (await client.PostAsync("/api/v1/objects", TestFiles.Raw(TestFiles.Png(), "image/png"))).Content.ReadFromJsonAsync<JsonElement>();
            placed.Add(created.GetProperty("storage").GetString()!);
        }

        // fill-first: every one on 'first', which has room. weighted (1:50): most on 'second'; none there once in 10^20 runs.
        if (policy == "fill-first")
        {
            Assert.All(placed, p => Assert.Equal("first", p));
        }
        else
        {
            Assert.Contains("second", placed);
        }
    }
}

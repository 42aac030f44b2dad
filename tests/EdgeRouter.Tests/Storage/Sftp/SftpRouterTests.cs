using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.Storage.Sftp;

/// <summary>Uploads through the router to a real OpenSSH server, read back by streaming, and a server crash mid-upload.</summary>
[Collection(SshdGroup.Name)]
public sealed class SftpRouterTests(SshdFixture sshd)
{
    [Fact]
    public async Task Upload_StreamBack_Delete_IncludingTwentyMegabytes()
    {
        using var factory = new RouterFactory($$"""{ "storages": [ {{sshd.StorageJson()}} ] }""", settings: new Dictionary<string, string?> { ["EdgeRouter:Uploads:MaxUploadBytes"] = "67108864" });
        using var router = factory.CreateAuthorizedClient();

        foreach (var size in new[] { 3_000, 20 * 1024 * 1024 })
        {
            var png = TestFiles.Png(size);
            var created = await (await router.PostAsync("/api/v1/objects", TestFiles.Raw(png, "image/png"))).Content.ReadFromJsonAsync<JsonElement>();
            var key = created.GetProperty("key").GetString()!;

            Assert.Equal("sftp", created.GetProperty("storage").GetString());
            Assert.Equal(png, await File.ReadAllBytesAsync(Path.Combine(sshd.Root, key)));
            Assert.Equal(png, await router.GetByteArrayAsync("/" + key));

            using var ranged = new HttpRequestMessage(HttpMethod.Get, "/" + key) { Headers = { Range = new(1000, 1999) } };
            var partial = await router.SendAsync(ranged);
            Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
            Assert.Equal(png.AsSpan(1000, 1000).ToArray(), await partial.Content.ReadAsByteArrayAsync());

            Assert.Equal(HttpStatusCode.NoContent, (await router.DeleteAsync("/api/v1/objects/" + key + "?immediate=true")).StatusCode);
            Assert.False(File.Exists(Path.Combine(sshd.Root, key)));
        }
    }

    [Fact]
    public Task Replacements_GoToLocationsOfTheirOwn_AndTheOldOnesAreRemovedAfterTheGrace()
        => RoundTripScenarios.AssertReplacementsKeepEveryVersionWholeAsync(sshd.StorageJson(), location => Task.FromResult(File.Exists(Path.Combine(sshd.Root, location))));

    [Fact]
    public async Task TheServerCrashingMidUpload_FailsOverToAnotherStorage_AndLeavesNothingAtTheKey()
    {
        var json = OutageScenarios.WithLocalFallback(sshd.StorageJson(weight: 1000));
        using var factory = new RouterFactory(json, settings: new Dictionary<string, string?> { ["EdgeRouter:Uploads:MaxUploadBytes"] = "67108864" });
        using var router = factory.CreateAuthorizedClient();

        await OutageScenarios.AssertCrashMidUploadFailsOverAsync(router, "crash/during-upload.png", Path.Combine(sshd.Root, "crash", "during-upload.png"), sshd.KillAsync, sshd.StartAsync);
    }
}

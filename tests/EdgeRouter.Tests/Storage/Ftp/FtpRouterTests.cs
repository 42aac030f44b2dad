using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.Storage.Ftp;

/// <summary>Uploads through the router to real FTP and FTPS servers, streamed back, and a server crash mid-upload.</summary>
[Collection(FtpServersGroup.Name)]
public sealed class FtpRouterTests(FtpServersFixture ftp)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Upload_StreamBack_Range_Delete_IncludingTwentyMegabytes(bool tls)
    {
        using var factory = new RouterFactory($$"""{ "storages": [ {{ftp.StorageJson(tls: tls)}} ] }""", settings: new Dictionary<string, string?> { ["EdgeRouter:Uploads:MaxUploadBytes"] = "67108864" });
        using var router = factory.CreateAuthorizedClient();

        foreach (var size in new[] { 2_000, 20 * 1024 * 1024 })
        {
            var png = TestFiles.Png(size);
            var created = await (await router.PostAsync("/api/v1/objects", TestFiles.Raw(png, "image/png"))).Content.ReadFromJsonAsync<JsonElement>();
            var key = created.GetProperty("key").GetString()!;

            Assert.Equal("ftp", created.GetProperty("storage").GetString());
            Assert.Equal(png, await File.ReadAllBytesAsync(Path.Combine(ftp.Root, key)));
            Assert.Equal(png, await router.GetByteArrayAsync("/" + key));
            using var ranged = new HttpRequestMessage(HttpMethod.Get, "/" + key) { Headers = { Range = new(size - 100, size - 1) } };
            var partial = await router.SendAsync(ranged);
            Assert.Equal(png.AsSpan(size - 100).ToArray(), await partial.Content.ReadAsByteArrayAsync());

            Assert.Equal(HttpStatusCode.NoContent, (await router.DeleteAsync("/api/v1/objects/" + key + "?immediate=true")).StatusCode);
            Assert.False(File.Exists(Path.Combine(ftp.Root, key)));
        }
    }

    [Fact]
    public Task Replacements_GoToLocationsOfTheirOwn_AndTheOldOnesAreRemovedAfterTheGrace()
        => RoundTripScenarios.AssertReplacementsKeepEveryVersionWholeAsync(ftp.StorageJson(), location => Task.FromResult(File.Exists(Path.Combine(ftp.Root, location))));

    [Fact]
    public async Task TheServerCrashingMidUpload_FailsOverToAnotherStorage_AndLeavesNothingAtTheKey()
    {
        var json = OutageScenarios.WithLocalFallback(ftp.StorageJson(weight: 1000));
        using var factory = new RouterFactory(json, settings: new Dictionary<string, string?> { ["EdgeRouter:Uploads:MaxUploadBytes"] = "67108864" });
        using var router = factory.CreateAuthorizedClient();

        await OutageScenarios.AssertCrashMidUploadFailsOverAsync(router, "crash/ftp-upload.png", Path.Combine(ftp.Root, "crash", "ftp-upload.png"), ftp.KillPlainAsync, ftp.StartPlainAsync);
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.Uploads;

/// <summary>README's upload settings: hashed keys (and the command that makes them), the key layout, the path prefix.</summary>
public sealed class UploadSettingsTests
{
    private const string Storage = """{ "storages": [ { "id": "s", "api": "local", "root": "s", "read": "stream", "keyLayout": "direct" } ] }""";

    [Fact]
    public async Task AHashedApiKey_OpensUploads_WithNoPlainKeyConfigured()
    {
        const string Key = "a-key-only-its-hash-is-configured";
        using var factory = new RouterFactory(Storage, settings: new Dictionary<string, string?>
        {
            ["EDGEROUTER_API_KEY"] = null,
            ["EdgeRouter:Uploads:ApiKeys:0"] = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Key))),
        });
        using var client = factory.CreateClient();

        var right = await Send(client, Key);
        var wrong = await Send(client, RouterFactory.ApiKey);

        Assert.Equal(HttpStatusCode.Created, right.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
    }

    [Fact]
    public void TheHashKeyCommand_PrintsANewKeyWithItsHash_OrHashesTheKeyGiven()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "EdgeRouter.dll");

        var (newCode, printed) = Commands.Run("dotnet", dll, "hash-key");
        var (givenCode, given) = Commands.RunWithInput("my own key\n", "dotnet", dll, "hash-key", "-");

        Assert.Equal(0, newCode);
        var lines = printed.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var key = Assert.Single(lines, l => l.StartsWith("key:  ", StringComparison.Ordinal))[6..].Trim();
        Assert.True(key.Length >= 32, key);
        Assert.Contains("hash: sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key))), lines);
        Assert.Equal(0, givenCode);
        Assert.Equal("hash: sha256:" + Convert.ToHexStringLower(SHA256.HashData("my own key"u8)), given.Trim());
    }

    [Fact]
    public async Task KeyLayoutDirect_GivesAKeyWithNoFolders()
    {
        using var factory = new RouterFactory(Storage);
        using var client = factory.CreateAuthorizedClient();

        var created = await (await client.PostAsync("/api/v1/objects", TestFiles.Raw(TestFiles.Png(), "image/png"))).Content.ReadFromJsonAsync<JsonElement>();

        Assert.Matches("^[A-Za-z0-9_-]+\\.png$", created.GetProperty("key").GetString());
    }

    [Fact]
    public async Task AnObjectPathPrefix_ServesObjectsUnderIt_AndNowhereElse()
    {
        using var factory = new RouterFactory(Storage, settings: new Dictionary<string, string?> { ["EdgeRouter:ObjectPathPrefix"] = "/media/" });
        using var client = factory.CreateAuthorizedClient();

        var created = await (await client.PutAsync("/api/v1/objects/cats/a.png", TestFiles.Raw(TestFiles.Png(), "image/png"))).Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(RouterFactory.SiteUrl + "media/cats/a.png", created.GetProperty("url").GetString());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/media/cats/a.png")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/cats/a.png")).StatusCode);
    }

    private static async Task<HttpResponseMessage> Send(HttpClient client, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/objects") { Content = TestFiles.Raw(TestFiles.Png(), "image/png") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return await client.SendAsync(request);
    }
}

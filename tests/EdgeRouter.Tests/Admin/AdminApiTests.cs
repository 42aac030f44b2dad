using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.Admin;

/// <summary>The admin API through the real host: its own key, lock-out, masked secrets, usage, objects, test connection.</summary>
public sealed class AdminApiTests : IDisposable
{
    private const string AdminKey = AdminTestRouter.AdminKey;
    private const string SecretKey = AdminTestRouter.SecretKey;

    private readonly RouterFactory _factory = AdminTestRouter.Create();

    public void Dispose() => _factory.Dispose();

    [Theory]
    [InlineData("GET", "/admin/api/storages")]
    [InlineData("GET", "/admin/api/objects")]
    [InlineData("GET", "/admin/api/traffic")]
    [InlineData("POST", "/admin/api/storages/local/test")]
    [InlineData("PATCH", "/admin/api/storages/local")]
    [InlineData("PUT", "/admin/api/storages/local")]
    [InlineData("DELETE", "/admin/api/storages/local")]
    [InlineData("POST", "/admin/api/storages")]
    [InlineData("POST", "/admin/api/storages/test")]
    [InlineData("DELETE", "/admin/api/objects/a.png")]
    [InlineData("GET", "/admin/api/purges")]
    [InlineData("POST", "/admin/api/purges")]
    [InlineData("POST", "/admin/api/purges/1/retry")]
    public async Task EveryRoute_NeedsTheAdminKey_AndAnUploadKeyIsNotOne(string method, string path)
    {
        using var anonymous = _factory.CreateClient();
        using var uploader = _factory.CreateAuthorizedClient();

        var none = await anonymous.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        var upload = await uploader.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal("application/problem+json", none.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Unauthorized, upload.StatusCode);
    }

    [Fact]
    public async Task RepeatedWrongKeys_LockTheAddressOut_EvenForTheRightKey()
    {
        using var client = _factory.CreateClient();
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await Send(client, "wrong-" + i, HttpMethod.Get, "/admin/api/storages")).StatusCode);
        }

        var locked = await Send(client, AdminKey, HttpMethod.Get, "/admin/api/storages");

        Assert.Equal(HttpStatusCode.TooManyRequests, locked.StatusCode);
        Assert.Contains("Too many failed attempts", await locked.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Storages_ShowUsageShareAndHealth_AndNeverASecret()
    {
        using var uploader = _factory.CreateAuthorizedClient();
        using var admin = _factory.CreateClient();
        var upload = await uploader.PutAsync("/api/v1/objects/usage/x.png", TestFiles.Raw(TestFiles.Png(2_000), "image/png"));
        Assert.True(upload.StatusCode == HttpStatusCode.Created, await upload.Content.ReadAsStringAsync());

        var response = await Send(admin, AdminKey, HttpMethod.Get, "/admin/api/storages");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain(SecretKey, body, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(body);
        var local = json.RootElement.EnumerateArray().Single(s => s.GetProperty("id").GetString() == "local");
        var broken = json.RootElement.EnumerateArray().Single(s => s.GetProperty("id").GetString() == "broken");
        Assert.Equal(75.0, local.GetProperty("sharePercent").GetDouble());
        Assert.Equal(1, local.GetProperty("objects").GetInt64());
        Assert.True(local.GetProperty("usedBytes").GetInt64() >= 2_000);
        Assert.Equal("••••••••", broken.GetProperty("settings").GetProperty("secretKey").GetString());
        Assert.Equal("bucket", broken.GetProperty("settings").GetProperty("bucket").GetString());
    }

    [Fact]
    public async Task Objects_ArePagedByPrefix_WithSiteAndStorageUrls()
    {
        using var uploader = _factory.CreateAuthorizedClient();
        using var admin = _factory.CreateClient();
        foreach (var name in new[] { "a", "b", "c" })
        {
            await uploader.PutAsync($"/api/v1/objects/paged/{name}.png", TestFiles.Raw(TestFiles.Png(), "image/png"));
        }

        using var first = JsonDocument.Parse(await (await Send(admin, AdminKey, HttpMethod.Get, "/admin/api/objects?prefix=paged/&limit=2")).Content.ReadAsStringAsync());
        var next = first.RootElement.GetProperty("next").GetString();
        using var second = JsonDocument.Parse(await (await Send(admin, AdminKey, HttpMethod.Get, $"/admin/api/objects?prefix=paged/&limit=2&after={next}")).Content.ReadAsStringAsync());

        Assert.Equal(["paged/a.png", "paged/b.png"], first.RootElement.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("key").GetString()));
        Assert.Equal("paged/b.png", next);
        var last = Assert.Single(second.RootElement.GetProperty("items").EnumerateArray());
        Assert.Equal("paged/c.png", last.GetProperty("key").GetString());
        Assert.Equal("http://router.test/paged/c.png", last.GetProperty("siteUrl").GetString());
        Assert.Equal(JsonValueKind.Null, second.RootElement.GetProperty("next").ValueKind);
        Assert.Equal(HttpStatusCode.BadRequest, (await Send(admin, AdminKey, HttpMethod.Get, "/admin/api/objects?limit=0")).StatusCode);
    }

    [Fact]
    public async Task TestConnection_OnAGoodStorage_PassesEveryStep_AndLeavesNothing()
    {
        using var admin = _factory.CreateClient();

        using var result = JsonDocument.Parse(await (await Send(admin, AdminKey, HttpMethod.Post, "/admin/api/storages/local/test")).Content.ReadAsStringAsync());

        Assert.True(result.RootElement.GetProperty("succeeded").GetBoolean());
        Assert.Equal(4, result.RootElement.GetProperty("steps").GetArrayLength());
        var root = Path.Combine(_factory.Root, "data", "objects", ".edgerouter");
        Assert.True(!Directory.Exists(root) || !Directory.EnumerateFiles(root, "admin-test-*", SearchOption.AllDirectories).Any());
        Assert.Single(AdminTestRouter.AuditLines(_factory), l => l.EndsWith(": test connection of storage local -> passed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TestConnection_OnABrokenStorage_SaysWhichStepFailed_AndAnUnknownOneIs404()
    {
        using var admin = _factory.CreateClient();

        using var result = JsonDocument.Parse(await (await Send(admin, AdminKey, HttpMethod.Post, "/admin/api/storages/broken/test")).Content.ReadAsStringAsync());
        var unknown = await Send(admin, AdminKey, HttpMethod.Post, "/admin/api/storages/nope/test");

        Assert.False(result.RootElement.GetProperty("succeeded").GetBoolean());
        var step = Assert.Single(result.RootElement.GetProperty("steps").EnumerateArray());
        Assert.Equal("put through the API", step.GetProperty("name").GetString());
        Assert.False(step.GetProperty("succeeded").GetBoolean());
        Assert.DoesNotContain(SecretKey, result.RootElement.GetRawText(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        var audited = Assert.Single(AdminTestRouter.AuditLines(_factory), l => l.Contains("test connection of storage broken", StringComparison.Ordinal));
        Assert.EndsWith(": test connection of storage broken -> failed: put through the API", audited, StringComparison.Ordinal);
        Assert.DoesNotContain(SecretKey, audited, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheOpenApiDocument_DescribesTheAdminApiAlone_ToAdminsOnly()
    {
        using var client = _factory.CreateClient();

        var anonymous = await client.GetAsync("/admin/api/openapi/admin.json");
        var document = await Send(client, AdminKey, HttpMethod.Get, "/admin/api/openapi/admin.json");

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, document.StatusCode);
        using var json = JsonDocument.Parse(await document.Content.ReadAsStringAsync());
        var paths = json.RootElement.GetProperty("paths").EnumerateObject().Select(p => p.Name).Order().ToList();
        Assert.Equal(["/admin/api/jobs", "/admin/api/jobs/{id}", "/admin/api/objects", "/admin/api/objects/{key}", "/admin/api/purges", "/admin/api/purges/{id}/retry", "/admin/api/storages", "/admin/api/storages/test", "/admin/api/storages/{id}", "/admin/api/storages/{id}/test", "/admin/api/traffic"], paths);
    }

    [Fact]
    public async Task ABadEdit_IsRefusedWithTheValidatorsMessage_AndTheFileIsUnchanged()
    {
        using var admin = _factory.CreateClient();
        var file = _factory.StoragesPath;
        var before = await File.ReadAllTextAsync(file);

        var response = await Send(admin, AdminKey, HttpMethod.Patch, "/admin/api/storages/local", """{ "weight": -1 }""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("storages[0] ('local'): field 'weight': must be a number ≥ 0.", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllTextAsync(file));
    }

    [Fact]
    public async Task AGoodEdit_IsWrittenWithABackup_AndInForceAtOnce_SoUploadsAvoidADisabledStorage()
    {
        // 'spare' works, so an upload placed on it would be stored there and seen: with weights 3 (local), 1 (spare)
        // and 1 (broken, which fails over), 40 uploads all miss an enabled 'spare' once in 7,000 runs.
        using var factory = AdminTestRouter.Create(spare: true);
        using var admin = factory.CreateClient();
        using var uploader = factory.CreateAuthorizedClient();
        var file = factory.StoragesPath;
        var before = await File.ReadAllTextAsync(file);

        var response = await Send(admin, AdminKey, HttpMethod.Patch, "/admin/api/storages/spare", """{ "active": false }""");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(before, await File.ReadAllTextAsync(file + ".bak"));
        Assert.Contains("\"active\": false", await File.ReadAllTextAsync(file), StringComparison.Ordinal);
        using var storages = JsonDocument.Parse(await (await Send(admin, AdminKey, HttpMethod.Get, "/admin/api/storages")).Content.ReadAsStringAsync());
        var spare = storages.RootElement.EnumerateArray().Single(s => s.GetProperty("id").GetString() == "spare");
        Assert.False(spare.GetProperty("active").GetBoolean());
        for (var i = 0; i < 40; i++)
        {
            using var created = JsonDocument.Parse(await (await uploader.PostAsync("/api/v1/objects", TestFiles.Raw(TestFiles.Png(), "image/png"))).Content.ReadAsStringAsync());
            Assert.Equal("local", created.RootElement.GetProperty("storage").GetString());
        }

        Assert.Empty(factory.FilesUnder("data/spare"));
        Assert.Equal(HttpStatusCode.NotFound, (await Send(admin, AdminKey, HttpMethod.Patch, "/admin/api/storages/nope", """{ "active": false }""")).StatusCode);
    }

    [Fact]
    public async Task AnEdit_KeepsTheModeOfStoragesJson_ForItAndItsBackup()
    {
        using var admin = _factory.CreateClient();
        var file = _factory.StoragesPath;
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(file + ".bak", "{}");
        File.SetUnixFileMode(file + ".bak", (UnixFileMode)0b110_100_100);

        var response = await Send(admin, AdminKey, HttpMethod.Patch, "/admin/api/storages/broken", """{ "weight": 2 }""");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file + ".bak"));
    }

    [Fact]
    public async Task AnEdit_KeepsTheOwnerOfStoragesJson_ForItAndItsBackup()
    {
        // The router runs as root here (as in a container): a new file would be root's.
        Assert.Equal("0", Commands.Run("id", "-u").Output.Trim());
        using var admin = _factory.CreateClient();
        var file = _factory.StoragesPath;
        Assert.Equal(0, Commands.Run("chown", "4321:4322", file).ExitCode);
        File.WriteAllText(file + ".bak", "{}");

        var response = await Send(admin, AdminKey, HttpMethod.Patch, "/admin/api/storages/broken", """{ "weight": 3 }""");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("4321:4322", Commands.Run("stat", "-c", "%u:%g", file).Output.Trim());
        Assert.Equal("4321:4322", Commands.Run("stat", "-c", "%u:%g", file + ".bak").Output.Trim());
    }

    [Fact]
    public async Task AddingAStorage_PutsItInForce_AndTheSameIdAgainIsAConflict()
    {
        using var admin = _factory.CreateClient();
        const string Extra = """{ "id": "extra", "api": "local", "root": "data/extra", "read": "stream", "weight": 0 }""";

        var added = await Send(admin, AdminKey, HttpMethod.Post, "/admin/api/storages", Extra);
        var again = await Send(admin, AdminKey, HttpMethod.Post, "/admin/api/storages", Extra);

        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        Assert.Equal("/admin/api/storages/extra", added.Headers.Location?.OriginalString);
        using var storages = JsonDocument.Parse(await (await Send(admin, AdminKey, HttpMethod.Get, "/admin/api/storages")).Content.ReadAsStringAsync());
        Assert.Contains("extra", storages.RootElement.EnumerateArray().Select(s => s.GetProperty("id").GetString()));
        using var test = JsonDocument.Parse(await (await Send(admin, AdminKey, HttpMethod.Post, "/admin/api/storages/extra/test")).Content.ReadAsStringAsync());
        Assert.True(test.RootElement.GetProperty("succeeded").GetBoolean());
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Contains("There is already a storage 'extra'.", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnInvalidNewStorage_IsRefusedWithTheValidatorsMessage_AndTheFileIsUnchanged()
    {
        using var admin = _factory.CreateClient();
        var file = _factory.StoragesPath;
        var before = await File.ReadAllTextAsync(file);

        var unknownApi = await Send(admin, AdminKey, HttpMethod.Post, "/admin/api/storages", """{ "id": "odd", "api": "floppy" }""");
        var noId = await Send(admin, AdminKey, HttpMethod.Post, "/admin/api/storages", """{ "api": "local" }""");

        Assert.Equal(HttpStatusCode.BadRequest, unknownApi.StatusCode);
        var problem = await unknownApi.Content.ReadAsStringAsync();
        Assert.Contains("('odd')", problem, StringComparison.Ordinal);
        Assert.Contains("'api'", problem, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, noId.StatusCode);
        Assert.Contains("A new storage needs an 'id'.", await noId.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllTextAsync(file));
    }

    [Fact]
    public async Task EditingEveryField_KeepsASecretSentBlankOrMasked_AndChangesOneSentAnew()
    {
        using var admin = _factory.CreateClient();
        var file = _factory.StoragesPath;
        var endpoint = JsonDocument.Parse(await File.ReadAllTextAsync(file)).RootElement.GetProperty("storages").EnumerateArray().Last().GetProperty("endpoint").GetString();

        var replaced = await Send(admin, AdminKey, HttpMethod.Put, "/admin/api/storages/broken", $$"""
            { "api": "s3compatible", "read": "proxy", "weight": 2, "capacity": "5 GB", "storageUrl": "http://cdn.test/b/", "cacheControl": "public, max-age=60",
              "endpoint": "{{endpoint}}", "pathStyle": true, "bucket": "other", "accessKey": "", "secretKey": "••••••••" }
            """);
        var saved = await File.ReadAllTextAsync(file);

        Assert.Equal(HttpStatusCode.NoContent, replaced.StatusCode);
        Assert.Contains(SecretKey, saved, StringComparison.Ordinal);
        Assert.Contains("AKIAEXAMPLE", saved, StringComparison.Ordinal);
        using (var storages = JsonDocument.Parse(await (await Send(admin, AdminKey, HttpMethod.Get, "/admin/api/storages")).Content.ReadAsStringAsync()))
        {
            var broken = storages.RootElement.EnumerateArray().Single(s => s.GetProperty("id").GetString() == "broken");
            Assert.Equal("proxy", broken.GetProperty("read").GetString());
            Assert.Equal(2, broken.GetProperty("weight").GetDouble());
            Assert.Equal(5_000_000_000, broken.GetProperty("capacityBytes").GetInt64());
            Assert.Equal("http://cdn.test/b/", broken.GetProperty("storageUrl").GetString());
            Assert.Equal("other", broken.GetProperty("settings").GetProperty("bucket").GetString());
            Assert.DoesNotContain(SecretKey, storages.RootElement.GetRawText(), StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.NoContent, (await Send(admin, AdminKey, HttpMethod.Patch, "/admin/api/storages/broken", """{ "secretKey": "", "cacheControl": null }""")).StatusCode);
        Assert.Contains(SecretKey, await File.ReadAllTextAsync(file), StringComparison.Ordinal);
        Assert.DoesNotContain("max-age=60", await File.ReadAllTextAsync(file), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.NoContent, (await Send(admin, AdminKey, HttpMethod.Patch, "/admin/api/storages/broken", """{ "secretKey": "rotated-secret-1234" }""")).StatusCode);
        Assert.Contains("rotated-secret-1234", await File.ReadAllTextAsync(file), StringComparison.Ordinal);
        Assert.DoesNotContain(SecretKey, await File.ReadAllTextAsync(file), StringComparison.Ordinal);

        // Null is not blank: it removes the secret, and the validator says what the access key then lacks.
        var removed = await Send(admin, AdminKey, HttpMethod.Patch, "/admin/api/storages/broken", """{ "secretKey": null }""");
        Assert.Equal(HttpStatusCode.BadRequest, removed.StatusCode);
        Assert.Contains("field 'secretKey': is required with 'accessKey'.", await removed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnEdit_IsAuditedFieldByField_WithSecretsMasked()
    {
        using var admin = _factory.CreateClient();

        var response = await Send(admin, AdminKey, HttpMethod.Patch, "/admin/api/storages/broken", """{ "cacheControl": "public, max-age=60", "weight": 2, "secretKey": "rotated-secret-5678" }""");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var line = Assert.Single(AdminTestRouter.AuditLines(_factory), l => l.Contains("merge storage broken", StringComparison.Ordinal));
        Assert.EndsWith(": merge storage broken -> cacheControl: (none) -> public, max-age=60; secretKey: •••••••• -> •••••••• (changed); weight: 1 -> 2", line, StringComparison.Ordinal);
        Assert.DoesNotContain("rotated-secret-5678", line, StringComparison.Ordinal);
        Assert.DoesNotContain(SecretKey, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AStorageId_CannotChange()
    {
        using var admin = _factory.CreateClient();

        var response = await Send(admin, AdminKey, HttpMethod.Patch, "/admin/api/storages/local", """{ "id": "renamed" }""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("The id of storage 'local' cannot change", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RemovingAStorage_NeedsItSwitchedOff_AndRefusesOneThatOwnsObjects()
    {
        using var admin = _factory.CreateClient();
        using var uploader = _factory.CreateAuthorizedClient();
        var file = _factory.StoragesPath;
        Assert.Equal(HttpStatusCode.Created, (await uploader.PutAsync("/api/v1/objects/owned/a.png", TestFiles.Raw(TestFiles.Png(), "image/png"))).StatusCode);

        var active = await Send(admin, AdminKey, HttpMethod.Delete, "/admin/api/storages/broken");
        await Send(admin, AdminKey, HttpMethod.Patch, "/admin/api/storages/local", """{ "active": false }""");
        var owning = await Send(admin, AdminKey, HttpMethod.Delete, "/admin/api/storages/local");
        await Send(admin, AdminKey, HttpMethod.Patch, "/admin/api/storages/broken", """{ "active": false }""");
        var removed = await Send(admin, AdminKey, HttpMethod.Delete, "/admin/api/storages/broken");
        var unknown = await Send(admin, AdminKey, HttpMethod.Delete, "/admin/api/storages/broken");

        Assert.Equal(HttpStatusCode.Conflict, active.StatusCode);
        Assert.Contains("switch it off (active: false) before removing it", await active.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Conflict, owning.StatusCode);
        Assert.Contains("Storage 'local' owns 1 object(s), so it cannot be removed", await owning.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        Assert.DoesNotContain("\"broken\"", await File.ReadAllTextAsync(file), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await uploader.GetAsync("/owned/a.png")).StatusCode);
    }

    [Fact]
    public async Task TestingADraft_RunsEveryStepOnTheDraft_AndSavesNothing()
    {
        using var admin = _factory.CreateClient();
        var file = _factory.StoragesPath;
        var before = await File.ReadAllTextAsync(file);
        var blocked = Path.Combine(_factory.Root, "not-a-folder");
        await File.WriteAllTextAsync(blocked, "a file where the draft wants its root");

        using var good = JsonDocument.Parse(await (await Send(admin, AdminKey, HttpMethod.Post, "/admin/api/storages/test", """{ "id": "draft", "api": "local", "root": "data/draft", "read": "stream" }""")).Content.ReadAsStringAsync());
        using var changed = JsonDocument.Parse(await (await Send(admin, AdminKey, HttpMethod.Post, "/admin/api/storages/local/test", $$"""{ "root": "{{blocked}}" }""")).Content.ReadAsStringAsync());
        var invalid = await Send(admin, AdminKey, HttpMethod.Post, "/admin/api/storages/local/test", """{ "weight": -1 }""");

        Assert.True(good.RootElement.GetProperty("succeeded").GetBoolean(), good.RootElement.GetRawText());
        Assert.Equal(4, good.RootElement.GetProperty("steps").GetArrayLength());
        Assert.Empty(_factory.FilesUnder("data/draft"));
        Assert.False(changed.RootElement.GetProperty("succeeded").GetBoolean());
        Assert.Equal("put through the API", changed.RootElement.GetProperty("steps")[0].GetProperty("name").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Contains("field 'weight': must be a number ≥ 0.", await invalid.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllTextAsync(file));
        using var storages = JsonDocument.Parse(await (await Send(admin, AdminKey, HttpMethod.Get, "/admin/api/storages")).Content.ReadAsStringAsync());
        Assert.DoesNotContain("draft", storages.RootElement.EnumerateArray().Select(s => s.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task AReadOnlyStoragesFile_IsNotEdited_AndTheAdminSaysWhy()
    {
        using var admin = _factory.CreateClient();
        var file = _factory.StoragesPath;
        var before = await File.ReadAllTextAsync(file);
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var response = await Send(admin, AdminKey, HttpMethod.Patch, "/admin/api/storages/local", """{ "weight": 5 }""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("is read-only (mounted configuration?)", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllTextAsync(file));
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    [Fact]
    public async Task DeletingAnObject_RemovesItEverywhere_AndAnUnknownOneIs404()
    {
        using var admin = _factory.CreateClient();
        using var uploader = _factory.CreateAuthorizedClient();
        await uploader.PutAsync("/api/v1/objects/gone/a.png", TestFiles.Raw(TestFiles.Png(), "image/png"));

        var deleted = await Send(admin, AdminKey, HttpMethod.Delete, "/admin/api/objects/gone/a.png?immediate=true");
        var again = await Send(admin, AdminKey, HttpMethod.Delete, "/admin/api/objects/gone/a.png");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await uploader.GetAsync("/gone/a.png")).StatusCode);
        Assert.Empty(_factory.FilesUnder("data/objects"));
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.Equal("application/problem+json", again.Content.Headers.ContentType?.MediaType);
        var audited = Assert.Single(AdminTestRouter.AuditLines(_factory), l => l.Contains("delete object gone/a.png", StringComparison.Ordinal));
        Assert.Matches("^admin admin-key:[0-9a-f]{8}: delete object gone/a\\.png -> [0-9]+ bytes on local -> deleted, bytes removed at once$", audited);
    }

    [Fact]
    public async Task WithNoAdminKey_TheAdminIsOff()
    {
        using var factory = new RouterFactory("""{ "storages": [ { "id": "local", "api": "local", "root": "data/objects", "read": "stream" } ] }""");
        using var client = factory.CreateClient();

        Assert.Equal(HttpStatusCode.NotFound, (await Send(client, AdminKey, HttpMethod.Get, "/admin/api/storages")).StatusCode);
    }

    private static Task<HttpResponseMessage> Send(HttpClient client, string key, HttpMethod method, string path, string? json = null)
        => client.SendAsync(new HttpRequestMessage(method, path)
        {
            Headers = { Authorization = new AuthenticationHeaderValue("Bearer", key) },
            Content = json is null ? null : new StringContent(json, Encoding.UTF8, "application/json"),
        });
}

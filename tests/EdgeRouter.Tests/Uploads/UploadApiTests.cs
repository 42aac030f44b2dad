using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using EdgeRouter.Catalog;
using EdgeRouter.Catalog.Sqlite;
using EdgeRouter.Tests.Storage;
using EdgeRouter.Tests.TestUtilities;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace EdgeRouter.Tests.Uploads;

public sealed class UploadApiTests : IDisposable
{
    private const string Local = """{ "storages": [ { "id": "local", "api": "local", "root": "store", "read": "stream", "keyLayout": "dated" } ] }""";
    private readonly RouterFactory _factory = new(Local, settings: new Dictionary<string, string?> { ["EdgeRouter:Uploads:MaxUploadBytes"] = "65536" });

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task RawUpload_Answers201_WithEverythingAClientNeeds()
    {
        using var client = _factory.CreateAuthorizedClient();
        var png = TestFiles.Png(2048);

        var response = await client.PostAsync("/api/v1/objects?filename=cat.png", TestFiles.Raw(png, "image/png"));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var key = body.GetProperty("key").GetString()!;
        Assert.Matches(@"^\d{4}/\d{2}/\d{2}/[A-Za-z0-9_-]{16}\.png$", key);
        Assert.Equal(RouterFactory.SiteUrl + key, body.GetProperty("url").GetString());
        Assert.Equal(RouterFactory.SiteUrl + key, body.GetProperty("storageUrl").GetString());
        Assert.Equal("local", body.GetProperty("storage").GetString());
        Assert.Equal(2048, body.GetProperty("size").GetInt64());
        Assert.Equal("image/png", body.GetProperty("contentType").GetString());
        Assert.Equal(TestFiles.Sha256(png), body.GetProperty("sha256").GetString());
        Assert.Equal($"\"{TestFiles.Sha256(png)}\"", body.GetProperty("etag").GetString());
        Assert.Equal(new Uri(RouterFactory.SiteUrl + key), response.Headers.Location);
        Assert.Equal(png, await File.ReadAllBytesAsync(Path.Combine(_factory.Root, "store", key)));
    }

    [Fact]
    public async Task MultipartUpload_StoresTheFilePart()
    {
        using var client = _factory.CreateAuthorizedClient();
        var jpeg = TestFiles.Jpeg(3000);

        var response = await client.PostAsync("/api/v1/objects", TestFiles.Multipart(jpeg, "image/jpeg", "holiday.jpg"));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.EndsWith(".jpg", body.GetProperty("key").GetString(), StringComparison.Ordinal);
        Assert.Equal(TestFiles.Sha256(jpeg), body.GetProperty("sha256").GetString());
    }

    [Fact]
    public async Task Multipart_WithoutAFileField_Is400()
    {
        using var client = _factory.CreateAuthorizedClient();
        using var form = new MultipartFormDataContent { { new StringContent("hello"), "comment" } };

        var response = await client.PostAsync("/api/v1/objects", form);

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "The multipart body has no file field named 'file'.");
    }

    [Fact]
    public async Task Put_UsesTheCallersKey_AndGetReturnsTheCatalogRecord()
    {
        using var client = _factory.CreateAuthorizedClient();

        var put = await client.PutAsync("/api/v1/objects/my-bucket/2020/10/06/image%20one.png", TestFiles.Raw(TestFiles.Png(), "image/png"));
        var get = await client.GetFromJsonAsync<JsonElement>("/api/v1/objects/my-bucket/2020/10/06/image%20one.png");

        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal("my-bucket/2020/10/06/image one.png", get.GetProperty("key").GetString());
        Assert.Equal(RouterFactory.SiteUrl + "my-bucket/2020/10/06/image%20one.png", get.GetProperty("url").GetString());
        Assert.True(File.Exists(Path.Combine(_factory.Root, "store", "my-bucket", "2020", "10", "06", "image one.png")));
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("Bearer", "wrong-key")]
    [InlineData("Basic", "dXNlcjpwYXNz")]
    public async Task EveryObjectRoute_RequiresAValidKey(string? scheme, string? value)
    {
        using var client = _factory.CreateAnonymousClient();
        if (scheme is not null)
        {
            client.DefaultRequestHeaders.Authorization = new(scheme, value);
        }

        var responses = new[]
        {
            await client.PostAsync("/api/v1/objects", TestFiles.Raw(TestFiles.Png(), "image/png")),
            await client.PutAsync("/api/v1/objects/a.png", TestFiles.Raw(TestFiles.Png(), "image/png")),
            await client.GetAsync("/api/v1/objects/a.png"),
            await client.DeleteAsync("/api/v1/objects/a.png"),
        };

        Assert.All(responses, r =>
        {
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
            Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        });
        Assert.Empty(_factory.FilesUnder("store"));
    }

    [Fact]
    public async Task XApiKeyHeader_IsAccepted()
    {
        using var client = _factory.CreateAnonymousClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", RouterFactory.ApiKey);

        var response = await client.PostAsync("/api/v1/objects", TestFiles.Raw(TestFiles.Png(), "image/png"));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task ExistingKey_Is409_UnlessOverwriteIsAsked()
    {
        using var client = _factory.CreateAuthorizedClient();
        var first = TestFiles.Png();
        var second = TestFiles.Png();
        await client.PutAsync("/api/v1/objects/same.png", TestFiles.Raw(first, "image/png"));

        var conflict = await client.PutAsync("/api/v1/objects/same.png", TestFiles.Raw(second, "image/png"));
        await AssertProblemAsync(conflict, HttpStatusCode.Conflict, "An object already exists at key 'same.png'. Send ?overwrite=true to replace it.");
        Assert.Equal(first, await File.ReadAllBytesAsync(Path.Combine(_factory.Root, "store", "same.png")));

        var replaced = await client.PutAsync("/api/v1/objects/same.png?overwrite=true", TestFiles.Raw(second, "image/png"));
        Assert.Equal(HttpStatusCode.Created, replaced.StatusCode);
        Assert.Equal(second, await client.GetByteArrayAsync("/same.png"));

        // The first version's bytes are never modified: the replacement went to a location of its own.
        Assert.Equal(first, await File.ReadAllBytesAsync(Path.Combine(_factory.Root, "store", "same.png")));
        var usage = await _factory.Services.GetRequiredService<IObjectCatalog>().GetUsageAsync(CancellationToken.None);
        Assert.Equal(new StorageUsage(second.Length, 1), usage["local"]);
    }

    [Fact]
    public async Task EightConcurrentPutsOfOneKey_StoreOne_AndTheOthersAre409()
    {
        using var client = _factory.CreateAuthorizedClient();
        var bodies = Enumerable.Range(0, 8).Select(i => TestFiles.Png(20_000 + i)).ToList();

        var statuses = await Task.WhenAll(bodies.Select(async body => (await client.PutAsync("/api/v1/objects/raced.png", TestFiles.Raw(body, "image/png"))).StatusCode));

        Assert.Equal(1, statuses.Count(s => s == HttpStatusCode.Created));
        Assert.Equal(7, statuses.Count(s => s == HttpStatusCode.Conflict));
        var winner = bodies[Array.IndexOf(statuses, HttpStatusCode.Created)];
        Assert.Equal(winner, await client.GetByteArrayAsync("/raced.png"));
    }

    [Fact]
    public async Task TooLarge_DeclaredLength_Is413AtOnce()
    {
        using var client = _factory.CreateAuthorizedClient();

        var response = await client.PostAsync("/api/v1/objects", TestFiles.Raw(TestFiles.Png(65537), "image/png"));

        await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "The upload is larger than the limit of 65536 bytes (64 KiB).");
        Assert.Empty(_factory.FilesUnder("store"));
    }

    [Fact]
    public async Task TooLarge_Streamed_Is413_AndKeepsNothing()
    {
        using var client = _factory.CreateAuthorizedClient();
        var content = new StreamContent(new ChunkedOnly(TestFiles.Png(200_000)));
        content.Headers.ContentType = new("image/png");

        var response = await client.PostAsync("/api/v1/objects", content);

        await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "The upload is larger than the limit of 65536 bytes (64 KiB).");
        Assert.Empty(_factory.FilesUnder("store"));
        Assert.Empty(_factory.FilesUnder("spool"));
        Assert.Empty(await _factory.Services.GetRequiredService<IObjectCatalog>().ListAsync(string.Empty, null, 10, CancellationToken.None));
    }

    [Theory]
    [InlineData("<!DOCTYPE html><html><script>alert(1)</script></html>", "image/png", "The body was declared as 'image/png' but its content is 'text/html'.")]
    [InlineData("<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "image/jpeg", "The body was declared as 'image/jpeg' but its content is 'image/svg+xml'.")]
    [InlineData("MZ\u0090\0this program cannot be run in DOS mode", "image/gif", "The body was declared as 'image/gif' but its content is not a 'image/gif' file.")]
    [InlineData("just some text", "text/plain", "The content type 'text/plain' is not accepted (accepted: image/jpeg, image/png, image/gif, image/webp, image/avif, image/bmp).")]
    [InlineData("just some bytes", "application/octet-stream", "The content type could not be determined: declare it with Content-Type, or send a known file format.")]
    public async Task DisguisedOrRefusedContent_Is415_AndKeepsNothing(string body, string declared, string expected)
    {
        using var client = _factory.CreateAuthorizedClient();

        var response = await client.PostAsync("/api/v1/objects", TestFiles.Raw(Encoding.Latin1.GetBytes(body), declared));

        await AssertProblemAsync(response, HttpStatusCode.UnsupportedMediaType, expected);
        Assert.Empty(_factory.FilesUnder("store"));
    }

    [Fact]
    public async Task APngDeclaredAsJpeg_Is415()
    {
        using var client = _factory.CreateAuthorizedClient();

        var response = await client.PostAsync("/api/v1/objects", TestFiles.Raw(TestFiles.Png(), "image/jpeg"));

        await AssertProblemAsync(response, HttpStatusCode.UnsupportedMediaType, "The body was declared as 'image/jpeg' but its content is 'image/png'.");
    }

    [Fact]
    public async Task EmptyBody_Is400()
    {
        using var client = _factory.CreateAuthorizedClient();

        var response = await client.PostAsync("/api/v1/objects", TestFiles.Raw([], "image/png"));

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "The upload has no content.");
    }

    [Theory]
    [MemberData(nameof(HostileKeys.Data), MemberType = typeof(HostileKeys))]
    public async Task HostileKeys_AreRefused_AndNoFileIsCreatedAnywhere(string key)
    {
        // The path is set as the router would see it after decoding, without the URI normalisation a client or
        // Kestrel applies first, so the router's own checks are what is tested.
        var context = await _factory.Server.SendAsync(c =>
        {
            c.Request.Method = HttpMethods.Put;
            c.Request.Path = new PathString("/api/v1/objects/" + key);
            c.Request.Headers.Authorization = "Bearer " + RouterFactory.ApiKey;
            c.Request.ContentType = "image/png";
            c.Request.Body = new MemoryStream(TestFiles.Png());
        });

        Assert.True(context.Response.StatusCode == StatusCodes.Status400BadRequest, $"'{key}' answered {context.Response.StatusCode}");
        Assert.Empty(_factory.FilesUnder("store"));
        AssertOnlyCatalogAndConfig(_factory);
    }

    [Theory]
    [InlineData("../escape.png")]
    [InlineData("a/%2E%2E/%2E%2E/escape.png")]
    [InlineData("%2e%2e%2fescape.png")]
    public async Task DotSegmentsSentOverHttp_NeverReachAStorageOutsideItsRoot(string path)
    {
        using var client = _factory.CreateAuthorizedClient();

        var response = await client.PutAsync(new Uri("/api/v1/objects/" + path, UriKind.Relative), TestFiles.Raw(TestFiles.Png(), "image/png"));

        Assert.True((int)response.StatusCode is >= 400 and < 500, $"'{path}' answered {(int)response.StatusCode}");
        AssertOnlyCatalogAndConfig(_factory);
    }

    [Fact]
    public async Task Delete_RemovesRecordAndFile_ThenIs404()
    {
        using var client = _factory.CreateAuthorizedClient();
        await client.PutAsync("/api/v1/objects/gone.png", TestFiles.Raw(TestFiles.Png(), "image/png"));

        var deleted = await client.DeleteAsync("/api/v1/objects/gone.png?immediate=true");
        var again = await client.DeleteAsync("/api/v1/objects/gone.png");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await AssertProblemAsync(again, HttpStatusCode.NotFound, "No object has the key 'gone.png'.");
        Assert.Empty(_factory.FilesUnder("store"));
        Assert.Empty(await _factory.Services.GetRequiredService<IObjectCatalog>().GetPendingDeletesAsync(10, CancellationToken.None));
    }

    [Fact]
    public async Task CatalogFailureAfterTheWrite_Is503_AndLeavesNoObjectBehind()
    {
        using var factory = new RouterFactory(Local, services =>
        {
            services.RemoveAll<IObjectCatalog>();
            services.AddSingleton<IObjectCatalog>(sp => new CommitFailingCatalog(sp.GetRequiredService<SqliteObjectCatalog>()));
        });
        using var client = factory.CreateAuthorizedClient();

        var response = await client.PutAsync("/api/v1/objects/lost.png", TestFiles.Raw(TestFiles.Png(50_000), "image/png"));

        await AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable, "The object could not be recorded in the catalog; nothing was kept. Try again later.");
        Assert.Empty(factory.FilesUnder("store"));
    }

    [Theory]
    [InlineData("multipart/form-data; boundary=\"unbalanced", "The multipart body's Content-Type header cannot be parsed (an unbalanced quote?).")]
    [InlineData("multipart/form-data; boundary=LONG", "The multipart boundary is longer than 70 characters (RFC 2046).")]
    [InlineData("multipart/form-data", "The multipart body has no boundary.")]
    [InlineData("multipart/mixed; boundary=abc", "A multipart upload must be multipart/form-data, with the file in a field named 'file'.")]
    public async Task AMalformedMultipartBody_Is400_SayingWhy_WithoutEchoingIt(string contentType, string detail)
    {
        using var client = _factory.CreateAuthorizedClient();
        using var content = new ByteArrayContent("--x\r\n\r\nbody\r\n--x--\r\n"u8.ToArray());
        Assert.True(content.Headers.TryAddWithoutValidation("Content-Type", contentType.Replace("LONG", new string('b', 4100), StringComparison.Ordinal)));

        var response = await client.PostAsync("/api/v1/objects", content);

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, detail);
        Assert.Empty(_factory.FilesUnder("store"));
    }

    [Fact]
    public async Task KeysSentToReadiness_NeverCountAsWrongUploadKeys()
    {
        using var factory = new RouterFactory(Local, settings: new Dictionary<string, string?> { ["EdgeRouter:Uploads:MaxFailedKeyAttempts"] = "2" });
        using var monitor = factory.CreateAnonymousClient();
        monitor.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "an-admin-key-or-a-typo");

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await monitor.GetAsync("/readyz")).StatusCode);
        }

        using var uploader = factory.CreateAuthorizedClient();
        Assert.Equal(HttpStatusCode.Created, (await uploader.PostAsync("/api/v1/objects", TestFiles.Raw(TestFiles.Png(), "image/png"))).StatusCode);
    }

    [Fact]
    public async Task TheRoutersOwnSpaceOnAStorage_IsNoClientsKey()
    {
        using var client = _factory.CreateAuthorizedClient();

        var response = await client.PutAsync("/api/v1/objects/.edgerouter/admin-test.png", TestFiles.Raw(TestFiles.Png(), "image/png"));

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "The key must not start with '.edgerouter/' (the router's own objects).");
    }

    [Fact]
    public async Task AnObjectTheCatalogDoesNotKnow_AtTheKey_Is409AndUntouched_UnlessOverwriteIsAsked()
    {
        using var client = _factory.CreateAuthorizedClient();
        var foreign = Path.Combine(_factory.Root, "store", "foreign", "a.png");
        Directory.CreateDirectory(Path.GetDirectoryName(foreign)!);
        var theirs = TestFiles.Png();
        await File.WriteAllBytesAsync(foreign, theirs);
        var ours = TestFiles.Png();

        var refused = await client.PutAsync("/api/v1/objects/foreign/a.png", TestFiles.Raw(ours, "image/png"));

        await AssertProblemAsync(refused, HttpStatusCode.Conflict, "Storage 'local' already holds an object at 'foreign/a.png' that the catalog does not know (put there by another tool?). Send ?overwrite=true to replace it.");
        Assert.Equal(theirs, await File.ReadAllBytesAsync(foreign));
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/foreign/a.png")).StatusCode);

        Assert.Equal(HttpStatusCode.Created, (await client.PutAsync("/api/v1/objects/foreign/a.png?overwrite=true", TestFiles.Raw(ours, "image/png"))).StatusCode);
        Assert.Equal(ours, await client.GetByteArrayAsync("/foreign/a.png"));
    }

    [Theory]
    [InlineData("xss/evil.html", "The key's extension '.html' does not match its content ('image/png'), and a web server would serve it as 'text/html'. Use '.png', or a key without an extension.")]
    [InlineData("xss/evil.svg", "The key's extension '.svg' does not match its content ('image/png'), and a web server would serve it as 'image/svg+xml'. Use '.png', or a key without an extension.")]
    [InlineData("xss/evil.png.htm", "The key's extension '.htm' does not match its content ('image/png'), and a web server would serve it as 'text/html'. Use '.png', or a key without an extension.")]
    [InlineData("xss/evil.x-unknown", "The key's extension '.x-unknown' does not match its content ('image/png'), and a web server would serve it as an unknown type. Use '.png', or a key without an extension.")]
    public async Task AKeysExtension_MustNameItsContentsType_OrTheUploadIs415_AndNothingIsKept(string key, string detail)
    {
        using var client = _factory.CreateAuthorizedClient();

        // PNG bytes with a script after the signature: served under a page's extension, a browser would run it.
        var png = TestFiles.Png(600);
        "<script>alert(document.domain)</script>"u8.CopyTo(png.AsSpan(8));
        var response = await client.PutAsync("/api/v1/objects/" + key, TestFiles.Raw(png, "image/png"));

        await AssertProblemAsync(response, HttpStatusCode.UnsupportedMediaType, detail);
        Assert.Empty(_factory.FilesUnder("store"));
    }

    [Theory]
    [InlineData("ok/photo.png")]
    [InlineData("ok/PHOTO.PNG")]
    [InlineData("ok/no-extension")]
    public async Task AKeyWhoseExtensionNamesItsType_OrThatHasNone_IsStored_AndServedAsItsType(string key)
    {
        using var client = _factory.CreateAuthorizedClient();

        Assert.Equal(HttpStatusCode.Created, (await client.PutAsync("/api/v1/objects/" + key, TestFiles.Raw(TestFiles.Png(), "image/png"))).StatusCode);
        using var read = await client.GetAsync("/" + key);
        Assert.Equal("image/png", read.Content.Headers.ContentType?.MediaType);
        Assert.Equal("default-src 'none'; sandbox", read.Headers.GetValues("Content-Security-Policy").Single());
    }

    [Fact]
    public async Task AJpegUnderAnyOfItsExtensions_IsStored()
    {
        using var client = _factory.CreateAuthorizedClient();

        foreach (var key in new[] { "j/a.jpg", "j/b.jpeg", "j/c.jpe" })
        {
            Assert.Equal(HttpStatusCode.Created, (await client.PutAsync("/api/v1/objects/" + key, TestFiles.Raw(TestFiles.Jpeg(), "image/jpeg"))).StatusCode);
        }
    }

    /// <summary>
    /// Nothing but the router's own state exists under the root: the catalog's files (which SQLite opens and closes as
    /// it likes), the config, and the data-protection keys.
    /// </summary>
    private static void AssertOnlyCatalogAndConfig(RouterFactory factory)
        => Assert.DoesNotContain(factory.FilesUnder(string.Empty), f => !f.StartsWith("catalog.db", StringComparison.Ordinal)
            && f != Path.Combine("config", "storages.json") && !f.StartsWith(Path.Combine("data", "keys") + Path.DirectorySeparatorChar, StringComparison.Ordinal));

    internal static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string detail)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.Equal(detail, problem.GetProperty("detail").GetString());
    }

    /// <summary>A body sent without Content-Length, so the router only learns its size by reading it.</summary>
    private sealed class ChunkedOnly(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}

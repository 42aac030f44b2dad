using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.Uploads.Tus;

/// <summary>The tus 1.0.0 protocol as the specification words it: its core, and each extension the router advertises.</summary>
public sealed class TusProtocolTests : IDisposable
{
    private const string Secret = "tus-test-secret-that-is-long-enough-42";
    private readonly RouterFactory _router = new(
        """{ "storages": [ { "id": "main", "api": "local", "root": "store", "read": "stream" } ] }""",
        settings: new Dictionary<string, string?>
        {
            ["EdgeRouter:Uploads:Tokens:SigningKeys:0:Id"] = "k1",
            ["EdgeRouter:Uploads:Tokens:SigningKeys:0:Secret"] = Secret,
            ["EdgeRouter:Uploads:Resumable:Expiry"] = "00:00:02",
            ["EdgeRouter:Catalog:JanitorInterval"] = "00:00:00.200",
        });

    public void Dispose() => _router.Dispose();

    [Fact]
    public async Task Options_AdvertisesTheVersionExtensionsLimitAndChecksum()
    {
        using var client = _router.CreateAnonymousClient();

        using var response = await client.SendAsync(new HttpRequestMessage(HttpMethod.Options, "/api/v1/tus/"));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("1.0.0", Header(response, "Tus-Version"));
        Assert.Equal("creation,creation-with-upload,termination,expiration,checksum", Header(response, "Tus-Extension"));
        Assert.Equal("104857600", Header(response, "Tus-Max-Size"));
        Assert.Equal("sha256", Header(response, "Tus-Checksum-Algorithm"));
    }

    [Fact]
    public async Task AnUploadInChunks_ResumesFromItsOffset_RefusesAWrongOffsetOrChecksum_AndBecomesTheObject()
    {
        using var client = Tus(_router.CreateAuthorizedClient());
        var png = TestFiles.Png(300_000);

        using var created = await client.SendAsync(Create(png.Length, ("filename", "photo.png"), ("filetype", "image/png"), ("key", "tus/photo.png")));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var location = created.Headers.Location!;
        Assert.StartsWith("http://localhost/api/v1/tus/", location.ToString(), StringComparison.Ordinal);
        Assert.True(DateTimeOffset.TryParse(Header(created, "Upload-Expires"), out _));
        Assert.Equal("0", Header(await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, location)), "Upload-Offset"));

        using var first = await client.SendAsync(Patch(location, 0, png[..100_000]));
        Assert.Equal(HttpStatusCode.NoContent, first.StatusCode);
        Assert.Equal("100000", Header(first, "Upload-Offset"));

        using var wrongOffset = await client.SendAsync(Patch(location, 50_000, png[50_000..100_000]));
        Assert.Equal(HttpStatusCode.Conflict, wrongOffset.StatusCode);
        Assert.Equal("100000", Header(wrongOffset, "Upload-Offset"));

        using var corrupted = await client.SendAsync(Patch(location, 100_000, png[100_000..200_000], checksumOf: png[100_001..200_001]));
        Assert.Equal(460, (int)corrupted.StatusCode);
        using var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, location));
        Assert.Equal("100000", Header(head, "Upload-Offset"));
        Assert.Equal(png.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), Header(head, "Upload-Length"));
        Assert.Equal("no-store", head.Headers.CacheControl?.ToString());

        Assert.Equal(HttpStatusCode.NoContent, (await client.SendAsync(Patch(location, 100_000, png[100_000..200_000], checksumOf: png[100_000..200_000]))).StatusCode);
        using var last = await client.SendAsync(Patch(location, 200_000, png[200_000..]));

        Assert.Equal(HttpStatusCode.NoContent, last.StatusCode);
        Assert.Equal("tus/photo.png", Header(last, "EdgeRouter-Object-Key"));
        Assert.Equal(RouterFactory.SiteUrl + "tus/photo.png", Header(last, "EdgeRouter-Object-Url"));
        Assert.Equal(png, await _router.CreateAnonymousClient().GetByteArrayAsync("/tus/photo.png"));
        using var after = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, location));
        Assert.Equal((png.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), "tus/photo.png"), (Header(after, "Upload-Offset"), Header(after, "EdgeRouter-Object-Key")));
        Assert.Empty(Directory.GetFiles(Path.Combine(_router.Root, "data", "resumable")));
    }

    [Fact]
    public async Task CreationWithUpload_TakesTheWholeBodyAtOnce()
    {
        using var client = Tus(_router.CreateAuthorizedClient());
        var png = TestFiles.Png(20_000);
        var request = Create(png.Length, ("filetype", "image/png"));
        request.Content = Chunk(png);

        using var created = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("20000", Header(created, "Upload-Offset"));
        var key = Header(created, "EdgeRouter-Object-Key");
        Assert.EndsWith(".png", key, StringComparison.Ordinal);
        Assert.Equal(png, await _router.CreateAnonymousClient().GetByteArrayAsync("/" + key));
    }

    [Fact]
    public async Task TheProtocolsOwnRefusals_AreClear()
    {
        using var client = Tus(_router.CreateAuthorizedClient());
        using var noVersion = _router.CreateAuthorizedClient();
        var request = Create(10);
        request.Headers.Remove("Tus-Resumable");
        using var unversioned = await noVersion.SendAsync(request);
        Assert.Equal(HttpStatusCode.PreconditionFailed, unversioned.StatusCode);
        Assert.Equal("1.0.0", Header(unversioned, "Tus-Version"));

        using var tooLarge = await client.SendAsync(Create(200_000_000));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        using var deferred = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/api/v1/tus/") { Headers = { { "Upload-Defer-Length", "1" } } });
        Assert.Equal(HttpStatusCode.BadRequest, deferred.StatusCode);

        var location = (await client.SendAsync(Create(10))).Headers.Location!;
        var wrongType = Patch(location, 0, new byte[10]);
        wrongType.Content!.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await client.SendAsync(wrongType)).StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await client.SendAsync(Patch(location, 0, new byte[11]))).StatusCode);
        Assert.Equal("0", Header(await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, location)), "Upload-Offset"));

        // Termination, then the upload is unknown; an unknown id is 404 whatever its shape.
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync(location)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, location))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/api/v1/tus/..%2F..%2Fcatalog.db"))).StatusCode);

        // Expiration: 410 once it has passed, then the sweeper removes it (404).
        var expiring = (await client.SendAsync(Create(10))).Headers.Location!;
        await Task.Delay(2_100);
        Assert.Equal(HttpStatusCode.Gone, (await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, expiring))).StatusCode);
        await WaitUntilAsync(async () => (await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, expiring))).StatusCode == HttpStatusCode.NotFound);
        Assert.Empty(Directory.GetFiles(Path.Combine(_router.Root, "data", "resumable")));
    }

    [Fact]
    public async Task AnUploadRefusedWhenComplete_IsEnded_AndKeepsNothing()
    {
        using var client = Tus(_router.CreateAuthorizedClient());
        var text = Encoding.UTF8.GetBytes("<html><script>alert(1)</script></html>");
        var location = (await client.SendAsync(Create(text.Length, ("filetype", "image/png")))).Headers.Location!;

        using var refused = await client.SendAsync(Patch(location, 0, text));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, (await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, location))).StatusCode);
        Assert.Empty(_router.FilesUnder("store"));
        Assert.Empty(_router.FilesUnder("data/resumable"));
    }

    [Fact]
    public async Task RefusedContent_IsRefusedAtItsFirstBytes_NotAfterTheRest()
    {
        using var client = Tus(_router.CreateAuthorizedClient());
        var html = new byte[100_000];
        System.Text.Encoding.UTF8.GetBytes("<!doctype html><html><script>alert(1)</script>").CopyTo(html, 0);
        var location = (await client.SendAsync(Create(html.Length, ("filetype", "image/png")))).Headers.Location!;

        using var first = await client.SendAsync(Patch(location, 0, html[..1_000]));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, first.StatusCode);
        Assert.Contains("text/html", await first.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, location))).StatusCode);
        Assert.Empty(_router.FilesUnder("data/resumable"));
    }

    [Fact]
    public async Task AToken_CreatesOnce_ItsUploadTakesThatTokenOnly_AndItsClaimsHold()
    {
        using var backend = _router.CreateAuthorizedClient();
        var token = (string)(await (await backend.PostAsJsonAsync("/api/v1/upload-tokens", new { key = "tus/by-token.png", maxBytes = 50_000 })).Content.ReadFromJsonAsync<JsonObject>())!["token"]!;
        var other = (string)(await (await backend.PostAsJsonAsync("/api/v1/upload-tokens", new { })).Content.ReadFromJsonAsync<JsonObject>())!["token"]!;
        using var browser = Tus(_router.CreateAnonymousClient(), token);
        using var stranger = Tus(_router.CreateAnonymousClient(), other);
        var png = TestFiles.Png(30_000);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await browser.SendAsync(Create(60_000))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await browser.SendAsync(Create(png.Length, ("key", "tus/elsewhere.png")))).StatusCode);
        using var created = await browser.SendAsync(Create(png.Length));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var location = created.Headers.Location!;
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.SendAsync(Create(png.Length))).StatusCode);

        Assert.Equal(HttpStatusCode.Forbidden, (await stranger.SendAsync(Patch(location, 0, png))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Tus(_router.CreateAnonymousClient()).SendAsync(new HttpRequestMessage(HttpMethod.Head, location))).StatusCode);
        Assert.Equal(HttpStatusCode.PreconditionFailed, (await _router.CreateAuthorizedClient().SendAsync(new HttpRequestMessage(HttpMethod.Head, location))).StatusCode);
        using var done = await browser.SendAsync(Patch(location, 0, png));

        Assert.Equal(HttpStatusCode.NoContent, done.StatusCode);
        Assert.Equal("tus/by-token.png", Header(done, "EdgeRouter-Object-Key"));
        Assert.Equal(png, await _router.CreateAnonymousClient().GetByteArrayAsync("/tus/by-token.png"));
    }

    private static HttpClient Tus(HttpClient client, string? token = null)
    {
        client.DefaultRequestHeaders.Add("Tus-Resumable", "1.0.0");
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    private static HttpRequestMessage Create(long length, params (string Key, string Value)[] metadata)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/tus/") { Headers = { { "Upload-Length", length.ToString(System.Globalization.CultureInfo.InvariantCulture) } } };
        if (metadata.Length > 0)
        {
            request.Headers.Add("Upload-Metadata", string.Join(",", metadata.Select(m => $"{m.Key} {Convert.ToBase64String(Encoding.UTF8.GetBytes(m.Value))}")));
        }

        return request;
    }

    internal static HttpRequestMessage Patch(Uri location, long offset, byte[] chunk, byte[]? checksumOf = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Patch, location) { Content = Chunk(chunk), Headers = { { "Upload-Offset", offset.ToString(System.Globalization.CultureInfo.InvariantCulture) } } };
        if (checksumOf is not null)
        {
            request.Headers.Add("Upload-Checksum", "sha256 " + Convert.ToBase64String(SHA256.HashData(checksumOf)));
        }

        return request;
    }

    private static ByteArrayContent Chunk(byte[] bytes)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/offset+octet-stream");
        return content;
    }

    private static string Header(HttpResponseMessage response, string name)
        => response.Headers.TryGetValues(name, out var values) ? values.Single() : throw new Xunit.Sdk.XunitException($"{name} is missing ({(int)response.StatusCode}: {response.Content.ReadAsStringAsync().Result})");

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition did not hold in time.");
            await Task.Delay(100);
        }
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.Serving;

/// <summary>
/// Upload → read back by each read mode → read at the mapped Storage URL → delete → 404. The proxy and redirect
/// storages write into the folder a real HTTP server serves, as a storage behind its own web server would. The origin
/// cache is off here: these are the forwarding and streaming paths themselves (OriginCacheTests test the cache).
/// </summary>
[Collection(StaticWebServerGroup.Name)]
public sealed class ReadModeTests(StaticWebServer web)
{
    private string Storage(string read) => $$"""
        { "storages": [ { "id": "{{read}}", "api": "local", "root": "{{web.Root.Replace("\\", "\\\\", StringComparison.Ordinal)}}", "read": "{{read}}", "storageUrl": "{{web.BaseUrl}}", "cache": false, "keyLayout": "dated" } ] }
        """;

    [Theory]
    [InlineData("stream")]
    [InlineData("proxy")]
    [InlineData("redirect")]
    public async Task Upload_ReadBack_ReadAtMappedUrl_Delete_Then404(string read)
    {
        using var factory = new RouterFactory(read == "stream" ? """{ "storages": [ { "id": "stream", "api": "local", "root": "s", "read": "stream" } ] }""" : Storage(read));
        using var router = factory.CreateAuthorizedClient();
        using var direct = new HttpClient();
        var png = TestFiles.Png(50_000);

        // Upload.
        var created = await (await router.PostAsync("/api/v1/objects", TestFiles.Raw(png, "image/png"))).Content.ReadFromJsonAsync<JsonElement>();
        var key = created.GetProperty("key").GetString()!;
        var storageUrl = created.GetProperty("storageUrl").GetString()!;

        // Read back through the router.
        var response = await router.GetAsync("/" + key);
        if (read == "redirect")
        {
            Assert.Equal(HttpStatusCode.Found, response.StatusCode);
            Assert.Equal(new Uri(web.BaseUrl + key), response.Headers.Location);
            Assert.Equal("public, max-age=3600", response.Headers.CacheControl?.ToString());
            Assert.Equal(png, await direct.GetByteArrayAsync(response.Headers.Location));
        }
        else
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(png, await response.Content.ReadAsByteArrayAsync());
            Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        }

        // Every read mode's answer names the object and its storage, for a CDN's purge by tag.
        Assert.Equal($"{EdgeRouter.Cdn.CacheTags.ForKey(key)},er-s-{read}", response.Headers.GetValues("Cache-Tag").Single());
        Assert.Equal($"{EdgeRouter.Cdn.CacheTags.ForKey(key)} er-s-{read}", response.Headers.GetValues("Surrogate-Key").Single());

        // Read at the mapped Storage URL: the backend's own web server for proxy and redirect, the router itself for stream.
        if (read == "stream")
        {
            Assert.Equal(RouterFactory.SiteUrl + key, storageUrl);
        }
        else
        {
            Assert.Equal(web.BaseUrl + key, storageUrl);
            Assert.Equal(png, await direct.GetByteArrayAsync(storageUrl));
        }

        // Delete, then the key is unknown to the router at once. The mapped URL keeps answering for the delete grace (a
        // redirect a cache still holds must resolve), unless the delete asks for removal at once.
        Assert.Equal(HttpStatusCode.NoContent, (await router.DeleteAsync("/api/v1/objects/" + key)).StatusCode);
        var gone = await router.GetAsync("/" + key);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Equal("public, max-age=60", gone.Headers.CacheControl?.ToString());
        if (read != "stream")
        {
            Assert.Equal(png, await direct.GetByteArrayAsync(storageUrl));
            var again = TestFiles.Png();
            var second = await (await router.PutAsync("/api/v1/objects/" + key, TestFiles.Raw(again, "image/png"))).Content.ReadFromJsonAsync<JsonElement>();
            var secondUrl = second.GetProperty("storageUrl").GetString()!;
            Assert.NotEqual(storageUrl, secondUrl);
            Assert.Equal(HttpStatusCode.NoContent, (await router.DeleteAsync("/api/v1/objects/" + key + "?immediate=true")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await direct.GetAsync(secondUrl)).StatusCode);
        }
    }

    [Fact]
    public async Task Redirect_EncodesTheKeyInLocation_AndUsesTheConfiguredStatus()
    {
        var json = Storage("redirect").Replace("\"keyLayout\"", "\"redirectStatus\": 308, \"keyLayout\"", StringComparison.Ordinal);
        using var factory = new RouterFactory(json);
        using var router = factory.CreateAuthorizedClient();
        await router.PutAsync("/api/v1/objects/my%20bucket/été/a+b.png", TestFiles.Raw(TestFiles.Png(), "image/png"));

        var response = await router.GetAsync("/my%20bucket/%C3%A9t%C3%A9/a+b.png");

        Assert.Equal(HttpStatusCode.PermanentRedirect, response.StatusCode);
        Assert.Equal(web.BaseUrl + "my%20bucket/%C3%A9t%C3%A9/a%2Bb.png", response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task Proxy_RelaysRangeHeadAnd304_AndNeverForwardsCredentials()
    {
        using var factory = new RouterFactory(Storage("proxy"));
        using var router = factory.CreateAuthorizedClient();
        var png = TestFiles.Png(10_000);
        await router.PutAsync("/api/v1/objects/proxied/range.png", TestFiles.Raw(png, "image/png"));

        using var request = new HttpRequestMessage(HttpMethod.Get, "/proxied/range.png");
        request.Headers.Range = new RangeHeaderValue(0, 1023);
        request.Headers.Add("Cookie", "session=secret-cookie");
        request.Headers.Add("X-Api-Key", "secret-key");
        var partial = await router.SendAsync(request);

        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal("bytes 0-1023/10000", partial.Content.Headers.ContentRange?.ToString());
        Assert.Equal(png.AsSpan(0, 1024).ToArray(), await partial.Content.ReadAsByteArrayAsync());
        var forwarded = web.Requests.Last(r => r.Path == "/proxied/range.png").Headers;
        Assert.False(forwarded.ContainsKey("Authorization"));
        Assert.False(forwarded.ContainsKey("Cookie"));
        Assert.False(forwarded.ContainsKey("X-Api-Key"));
        Assert.Equal(new Uri(web.BaseUrl).Authority, forwarded["Host"]);

        var head = await router.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/proxied/range.png"));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(10_000, head.Content.Headers.ContentLength);

        using var revalidate = new HttpRequestMessage(HttpMethod.Get, "/proxied/range.png");
        revalidate.Headers.IfNoneMatch.Add(head.Headers.ETag!);
        var notModified = await router.SendAsync(revalidate);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
    }

    [Fact]
    public async Task Proxy_NeverForwardsTheQueryString()
    {
        var response = await UploadAndReadAsync(Storage("proxy"), "proxied/query.png", "?token=secret&x=1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var forwarded = web.Requests.Last(r => r.Path == "/proxied/query.png");
        Assert.Equal(string.Empty, forwarded.Query);
    }

    [Fact]
    public async Task Proxy_ABackend5xx_IsRelayed_MarkedNoStore()
    {
        var response = await UploadAndReadAsync(ProxyTo("failing/"), "proxied/failing.png");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        Assert.Contains(web.Requests, r => r.Path == "/failing/proxied/failing.png");
    }

    [Fact]
    public async Task Proxy_ABackendThatDoesNotAnswer_Is504_NoStore_AfterTheActivityTimeout()
    {
        var response = await UploadAndReadAsync(ProxyTo("silent/"), "proxied/silent.png", settings: new Dictionary<string, string?> { ["EdgeRouter:Serving:ProxyActivityTimeout"] = "00:00:01" });

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
    }

    /// <summary>Uploads a PNG at <paramref name="key"/> to a router with <paramref name="storages"/>, then reads it (with <paramref name="query"/>).</summary>
    private static async Task<HttpResponseMessage> UploadAndReadAsync(string storages, string key, string query = "", IDictionary<string, string?>? settings = null)
    {
        using var factory = new RouterFactory(storages, settings: settings);
        using var router = factory.CreateAuthorizedClient();
        await router.PutAsync("/api/v1/objects/" + key, TestFiles.Raw(TestFiles.Png(), "image/png"));
        return await router.GetAsync("/" + key + query).WaitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>A proxy storage that writes into the web server's folder but is read under <paramref name="path"/> of it.</summary>
    private string ProxyTo(string path) => Storage("proxy").Replace($"\"storageUrl\": \"{web.BaseUrl}\"", $"\"storageUrl\": \"{web.BaseUrl}{path}\"", StringComparison.Ordinal);

    [Fact]
    public async Task Proxy_WhenTheBackendIsDown_Is502_AndNotCached()
    {
        // Port 9 (discard) is closed on loopback: the connection is refused at once.
        var json = """{ "storages": [ { "id": "down", "api": "local", "root": "d", "read": "proxy", "storageUrl": "http://127.0.0.1:9/", "cache": false } ] }""";
        using var factory = new RouterFactory(json);
        using var router = factory.CreateAuthorizedClient();
        await router.PutAsync("/api/v1/objects/x.png", TestFiles.Raw(TestFiles.Png(), "image/png"));

        var response = await router.GetAsync("/x.png");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.True(response.Headers.CacheControl?.NoStore);
    }

    [Fact]
    public async Task AYarpRoute_ForwardsNonObjectPathsToTheApp()
    {
        using var factory = new RouterFactory(
            """{ "storages": [ { "id": "s", "api": "local", "root": "s", "read": "stream" } ] }""",
            settings: new Dictionary<string, string?>
            {
                ["ReverseProxy:Routes:app:ClusterId"] = "app",
                ["ReverseProxy:Routes:app:Match:Path"] = "/app/{**rest}",
                ["ReverseProxy:Clusters:app:Destinations:one:Address"] = web.BaseUrl,
            });
        using var router = factory.CreateAuthorizedClient();
        await router.PutAsync("/api/v1/objects/photo.png", TestFiles.Raw(TestFiles.Png(), "image/png"));

        var page = await router.GetStringAsync("/app/settings");
        var photo = await router.GetAsync("/photo.png");

        Assert.Equal("app page settings", page);
        Assert.Equal(HttpStatusCode.OK, photo.StatusCode);
    }

    [Theory]
    [InlineData("stream")]
    [InlineData("proxy")]
    public async Task AnObjectChangedOutsideTheRouter_IsNotServed_502NoStoreBeforeAnyByte(string read)
    {
        using var factory = new RouterFactory(read == "stream" ? """{ "storages": [ { "id": "stream", "api": "local", "root": "s", "read": "stream" } ] }""" : Storage(read));
        using var router = factory.CreateAuthorizedClient();
        var created = await (await router.PostAsync("/api/v1/objects", TestFiles.Raw(TestFiles.Png(20_000), "image/png"))).Content.ReadFromJsonAsync<JsonElement>();
        var key = created.GetProperty("key").GetString()!;
        var file = read == "stream" ? Path.Combine(factory.Root, "s", key) : Path.Combine(web.Root, key);

        // Another tool rewrote the file: longer, then shorter, than the catalog's record.
        foreach (var size in new[] { 20_001, 19_999 })
        {
            await File.WriteAllBytesAsync(file, TestFiles.Png(size));

            using var response = await router.GetAsync("/" + key);

            Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
            Assert.True(response.Headers.CacheControl?.NoStore);
            Assert.Null(response.Headers.ETag);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task Proxy_SendsTheCatalogsType_Nosniff_ASandbox_AndTheStoragesCacheControl_WhateverTheBackendSays()
    {
        using var factory = new RouterFactory(Storage("proxy").Replace("\"keyLayout\"", "\"cacheControl\": \"public, max-age=600\", \"keyLayout\"", StringComparison.Ordinal));
        using var router = factory.CreateAuthorizedClient();
        using var direct = new HttpClient();

        // No extension: the web server in front of the storage cannot tell it is a PNG.
        var key = $"typed/{Guid.NewGuid():N}";
        Assert.Equal(HttpStatusCode.Created, (await router.PutAsync("/api/v1/objects/" + key, TestFiles.Raw(TestFiles.Png(), "image/png"))).StatusCode);
        Assert.NotEqual("image/png", (await direct.GetAsync(web.BaseUrl + key)).Content.Headers.ContentType?.MediaType);

        using var response = await router.GetAsync("/" + key);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("default-src 'none'; sandbox", response.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("public, max-age=600", response.Headers.CacheControl?.ToString());
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using EdgeRouter.Serving.Cache;
using EdgeRouter.Tests.TestUtilities;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeRouter.Tests.Serving;

/// <summary>The <c>stream</c> read mode itself, every byte read from the backend.</summary>
public sealed class StreamReadTests() : StreamReadContract(cached: false);

/// <summary>
/// The same contract answered from the origin cache: whatever the form of the request, a hit answers as the stream
/// mode does, and the backend is read once.
/// </summary>
public sealed class CachedStreamReadTests() : StreamReadContract(cached: true)
{
    [Fact]
    public async Task EveryFormOfRead_IsAnsweredFromOneBackendRead()
    {
        var cache = Factory.Services.GetRequiredService<OriginCache>();
        using var range = new HttpRequestMessage(HttpMethod.Get, "/o.png");
        range.Headers.Range = new RangeHeaderValue(10, 19);

        Assert.Equal(Png, await (await Client.GetAsync("/o.png")).Content.ReadAsByteArrayAsync());
        Assert.Equal(Png.AsSpan(10, 10).ToArray(), await (await Client.SendAsync(range)).Content.ReadAsByteArrayAsync());
        Assert.Equal(Png, await (await Client.GetAsync("/o.png")).Content.ReadAsByteArrayAsync());

        // The first read was answered as the backend's bytes arrived; the other two from memory.
        Assert.Equal((1, 2, 5000L), (cache.Misses, cache.Hits, cache.FilledBytes));
        Assert.Equal(10 + 5000, cache.ServedBytes);
    }
}

/// <summary>A good CDN origin: Range, HEAD, conditional requests and headers of the <c>stream</c> read mode.</summary>
public abstract class StreamReadContract(bool cached) : IAsyncLifetime, IDisposable
{
    private readonly RouterFactory _factory = new($$"""{ "storages": [ { "id": "s", "api": "local", "root": "s", "read": "stream", "cacheControl": "public, max-age=600", "cache": {{(cached ? "true" : "false")}} } ] }""");
    private readonly byte[] _png = TestFiles.Png(5000);

    protected RouterFactory Factory => _factory;

    protected HttpClient Client => _client;

    protected byte[] Png => _png;
    private HttpClient _client = null!;
    private string _etag = string.Empty;

    public async Task InitializeAsync()
    {
        _client = _factory.CreateAuthorizedClient();
        var created = await (await _client.PutAsync("/api/v1/objects/o.png", TestFiles.Raw(_png, "image/png"))).Content.ReadFromJsonAsync<JsonElement>();
        _etag = created.GetProperty("etag").GetString()!;
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose()
    {
        _client.Dispose();
        _factory.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Get_SendsTheOriginHeadersACdnNeeds()
    {
        var response = await _client.GetAsync("/o.png");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(_png, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal("image/png", response.Content.Headers.ContentType?.ToString());
        Assert.Equal(5000, response.Content.Headers.ContentLength);
        Assert.Equal(_etag, response.Headers.ETag?.ToString());
        Assert.NotNull(response.Content.Headers.LastModified);
        Assert.Equal("public, max-age=600", response.Headers.CacheControl?.ToString());
        Assert.Equal(["bytes"], response.Headers.AcceptRanges);
        Assert.Equal(["nosniff"], response.Headers.GetValues("X-Content-Type-Options"));
    }

    [Fact]
    public async Task Head_HasTheHeaders_AndNoBody()
    {
        var response = await _client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/o.png"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(5000, response.Content.Headers.ContentLength);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData(0L, 99L, 0, 100)]
    [InlineData(4990L, null, 4990, 10)]
    [InlineData(4990L, 999_999L, 4990, 10)]
    [InlineData(null, 10L, 4990, 10)]
    public async Task Range_Is206_WithExactlyThoseBytes(long? from, long? to, int offset, int length)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/o.png");
        request.Headers.Range = new RangeHeaderValue(from, to);

        var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal($"bytes {offset}-{offset + length - 1}/5000", response.Content.Headers.ContentRange?.ToString());
        Assert.Equal(_png.AsSpan(offset, length).ToArray(), await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Range_BeyondTheEnd_Is416_WithTheSize()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/o.png");
        request.Headers.Range = new RangeHeaderValue(5000, null);

        var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, response.StatusCode);
        Assert.Equal("bytes */5000", response.Content.Headers.ContentRange?.ToString());
    }

    [Fact]
    public async Task SeveralRanges_OrAStaleIfRange_GetTheWholeObject()
    {
        using var several = new HttpRequestMessage(HttpMethod.Get, "/o.png");
        several.Headers.Range = new RangeHeaderValue();
        several.Headers.Range.Ranges.Add(new RangeItemHeaderValue(0, 1));
        several.Headers.Range.Ranges.Add(new RangeItemHeaderValue(10, 11));
        using var stale = new HttpRequestMessage(HttpMethod.Get, "/o.png");
        stale.Headers.Range = new RangeHeaderValue(0, 1);
        stale.Headers.IfRange = new RangeConditionHeaderValue(new EntityTagHeaderValue("\"old\""));

        Assert.Equal(HttpStatusCode.OK, (await _client.SendAsync(several)).StatusCode);
        var full = await _client.SendAsync(stale);
        Assert.Equal(HttpStatusCode.OK, full.StatusCode);
        Assert.Equal(5000, (await full.Content.ReadAsByteArrayAsync()).Length);
    }

    [Fact]
    public async Task IfNoneMatch_And_IfModifiedSince_Are304_WithValidators()
    {
        using var byTag = new HttpRequestMessage(HttpMethod.Get, "/o.png");
        byTag.Headers.IfNoneMatch.Add(EntityTagHeaderValue.Parse(_etag));
        using var byDate = new HttpRequestMessage(HttpMethod.Get, "/o.png");
        byDate.Headers.IfModifiedSince = DateTimeOffset.UtcNow.AddMinutes(1);

        var tagged = await _client.SendAsync(byTag);
        var dated = await _client.SendAsync(byDate);

        Assert.Equal(HttpStatusCode.NotModified, tagged.StatusCode);
        Assert.Equal(_etag, tagged.Headers.ETag?.ToString());
        Assert.Equal("public, max-age=600", tagged.Headers.CacheControl?.ToString());
        Assert.Equal(HttpStatusCode.NotModified, dated.StatusCode);
    }

    [Fact]
    public async Task AChangedObject_Is200_ForAnOldValidator()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/o.png");
        request.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"not-the-current-one\""));
        request.Headers.IfModifiedSince = DateTimeOffset.UtcNow.AddDays(-1);

        Assert.Equal(HttpStatusCode.OK, (await _client.SendAsync(request)).StatusCode);
    }

    [Fact]
    public async Task AMatchingIfRange_ByTagOrByDate_Is206()
    {
        var lastModified = (await _client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/o.png"))).Content.Headers.LastModified!.Value;
        using var byTag = new HttpRequestMessage(HttpMethod.Get, "/o.png");
        byTag.Headers.Range = new RangeHeaderValue(0, 9);
        byTag.Headers.IfRange = new RangeConditionHeaderValue(EntityTagHeaderValue.Parse(_etag));
        using var byDate = new HttpRequestMessage(HttpMethod.Get, "/o.png");
        byDate.Headers.Range = new RangeHeaderValue(0, 9);
        byDate.Headers.IfRange = new RangeConditionHeaderValue(lastModified);

        var tagged = await _client.SendAsync(byTag);
        var dated = await _client.SendAsync(byDate);

        Assert.Equal(HttpStatusCode.PartialContent, tagged.StatusCode);
        Assert.Equal(_png.AsSpan(0, 10).ToArray(), await tagged.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.PartialContent, dated.StatusCode);
        Assert.Equal(_png.AsSpan(0, 10).ToArray(), await dated.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task IfUnmodifiedSince_BeforeTheLastChange_Is412_AndAfterIt200()
    {
        var lastModified = (await _client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/o.png"))).Content.Headers.LastModified!.Value;
        using var before = new HttpRequestMessage(HttpMethod.Get, "/o.png");
        before.Headers.IfUnmodifiedSince = lastModified.AddSeconds(-1);
        using var since = new HttpRequestMessage(HttpMethod.Get, "/o.png");
        since.Headers.IfUnmodifiedSince = lastModified;

        Assert.Equal(HttpStatusCode.PreconditionFailed, (await _client.SendAsync(before)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _client.SendAsync(since)).StatusCode);
    }

    [Fact]
    public async Task AStorageWithoutCacheControl_ServesObjectsForAYear_Immutable()
    {
        using var factory = new RouterFactory("""{ "storages": [ { "id": "s", "api": "local", "root": "s", "read": "stream" } ] }""");
        using var client = factory.CreateAuthorizedClient();
        await client.PutAsync("/api/v1/objects/d.png", TestFiles.Raw(_png, "image/png"));

        var response = await client.GetAsync("/d.png");

        Assert.Equal("public, max-age=31536000, immutable", response.Headers.CacheControl?.ToString());
    }

    [Fact]
    public async Task IfMatch_WithAnotherTag_Is412()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/o.png");
        request.Headers.IfMatch.Add(new EntityTagHeaderValue("\"other\""));

        Assert.Equal(HttpStatusCode.PreconditionFailed, (await _client.SendAsync(request)).StatusCode);
    }

    [Fact]
    public async Task UnknownKey_Is404_ShortCached_WithItsLength_AndHeadHasNoBody()
    {
        var get = await _client.GetAsync("/missing/photo.png");
        var head = await _client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/missing/photo.png"));

        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        Assert.Equal("public, max-age=60", get.Headers.CacheControl?.ToString());
        Assert.Equal("Not found.", await get.Content.ReadAsStringAsync());
        Assert.Equal(10, get.Content.Headers.ContentLength);
        Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
        Assert.Equal(10, head.Content.Headers.ContentLength);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task AnObjectMissingFromItsStorage_Is502_AndNotCached()
    {
        await _client.PutAsync("/api/v1/objects/vanished.png", TestFiles.Raw(TestFiles.Png(), "image/png"));
        File.Delete(Path.Combine(_factory.Root, "s", "vanished.png"));

        var response = await _client.GetAsync("/vanished.png");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.True(response.Headers.CacheControl?.NoStore);
    }

    [Fact]
    public async Task HealthAndReadiness_Answer()
    {
        var healthz = await _client.GetAsync("/healthz");
        var readyz = await _client.GetFromJsonAsync<JsonElement>("/readyz");

        Assert.Equal(HttpStatusCode.OK, healthz.StatusCode);
        Assert.Equal("Healthy", readyz.GetProperty("status").GetString());
        Assert.Equal("writable", readyz.GetProperty("checks").GetProperty("storages").GetProperty("data").GetProperty("s").GetString());
    }

    [Fact]
    public async Task Readiness_TellsAnyoneTheStatus_AndOnlyAKeyHolderTheDetail()
    {
        using var anonymous = _factory.CreateAnonymousClient();

        using var open = await anonymous.GetAsync("/readyz");
        var body = await open.Content.ReadAsStringAsync();
        var checks = JsonDocument.Parse(body).RootElement.GetProperty("checks");

        Assert.Equal(HttpStatusCode.OK, open.StatusCode);
        Assert.Equal("Healthy", checks.GetProperty("storages").GetProperty("status").GetString());
        Assert.False(checks.GetProperty("storages").TryGetProperty("data", out _));
        Assert.False(checks.GetProperty("catalog").TryGetProperty("description", out _));
        Assert.DoesNotContain(_factory.Root, body, StringComparison.Ordinal);
    }
}

using System.Globalization;
using System.Net;
using System.Net.Http.Headers;

namespace EdgeRouter.Tests.TestUtilities;

/// <summary>Read behaviour every proxied backend must show, shared by each storage API's tests.</summary>
public static class ReadScenarios
{
    /// <summary>
    /// Uploads <paramref name="body"/> at <paramref name="key"/> and checks that proxy mode relays a Range (206 with the
    /// exact bytes), a HEAD (200 with the length) and a revalidation with the backend's ETag (304) unchanged.
    /// </summary>
    public static async Task AssertProxyRelaysRangeHeadAnd304Async(HttpClient router, string key, byte[] body, int rangeOffset)
    {
        Assert.Equal(HttpStatusCode.Created, (await router.PutAsync($"/api/v1/objects/{key}?overwrite=true", TestFiles.Raw(body, "image/png"))).StatusCode);

        using var ranged = new HttpRequestMessage(HttpMethod.Get, "/" + key) { Headers = { Range = new RangeHeaderValue(rangeOffset, rangeOffset + 1023) } };
        var partial = await router.SendAsync(ranged);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(string.Create(CultureInfo.InvariantCulture, $"bytes {rangeOffset}-{rangeOffset + 1023}/{body.Length}"), partial.Content.Headers.ContentRange?.ToString());
        Assert.Equal(body.AsSpan(rangeOffset, 1024).ToArray(), await partial.Content.ReadAsByteArrayAsync());

        var head = await router.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/" + key));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(body.Length, head.Content.Headers.ContentLength);

        using var conditional = new HttpRequestMessage(HttpMethod.Get, "/" + key);
        conditional.Headers.IfNoneMatch.Add(head.Headers.ETag!);
        Assert.Equal(HttpStatusCode.NotModified, (await router.SendAsync(conditional)).StatusCode);
    }
}

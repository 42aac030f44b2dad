using System.Net;
using EdgeRouter.Tests.Cdn;
using EdgeRouter.Tests.Jobs;
using EdgeRouter.Tests.TestUtilities;
using Microsoft.AspNetCore.Mvc.Testing;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using static EdgeRouter.Tests.Admin.AdminTestRouter;

namespace EdgeRouter.Tests.Admin;

/// <summary>The CDN purges page: the outbox with the CDN's answers, a retry of a dead purge, and a purge by hand.</summary>
public sealed class PurgesPageTests : IDisposable
{
    private readonly CdnTestServer _cdn = new();

    public void Dispose() => _cdn.Dispose();

    [Fact]
    public async Task ADeadPurge_ShowsTheCdnsAnswer_IsRetriedFromThePage_AndAKeyIsPurgedByHand()
    {
        var refusal = Guid.NewGuid();
        _cdn.Server.Given(Request.Create().WithPath($"/client/v4/zones/{CdnTestServer.CloudflareZone}/purge_cache").UsingPost()).WithGuid(refusal).AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(403).WithBody("""{"success":false,"errors":[{"code":10000,"message":"Authentication error"}]}"""));
        using var router = JobsTestRouter.Create("""{ "id": "main", "api": "local", "root": "data/main", "read": "stream" }""", _cdn.Settings(null, "cloudflare"));
        using var api = router.CreateAuthorizedClient();
        using var admin = JobsTestRouter.AdminClient(router);
        await api.PutAsync("/api/v1/objects/old.png", TestFiles.Raw(TestFiles.Png(), "image/png"));
        await api.DeleteAsync("/api/v1/objects/old.png");
        await CdnPurgeTests.WaitForOutboxAsync(admin, dead: 1);

        using var browser = router.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        await SignInAsync(browser, JobsTestRouter.AdminKey);
        var page = await browser.GetStringAsync("/admin/purges?state=dead");

        Assert.Contains("<code>cloudflare</code>", page, StringComparison.Ordinal);
        Assert.Contains("1 dead", page, StringComparison.Ordinal);
        Assert.Contains("<code>old.png</code>", page, StringComparison.Ordinal);
        Assert.Contains("HTTP 403: {&quot;success&quot;:false,&quot;errors&quot;:[{&quot;code&quot;:10000,&quot;message&quot;:&quot;Authentication error&quot;}]}", page, StringComparison.Ordinal);
        Assert.DoesNotContain(CdnTestServer.CloudflareToken, page, StringComparison.Ordinal);
        var id = System.Text.RegularExpressions.Regex.Match(page, "action=\"/admin/purges/(\\d+)/retry\"").Groups[1].Value;

        _cdn.Server.DeleteMapping(refusal);
        using var retried = await PostFormAsync(browser, $"/admin/purges/{id}/retry", FormToken(page));
        Assert.Equal(HttpStatusCode.Redirect, retried.StatusCode);
        Assert.Contains("pending%20again", retried.Headers.Location!.OriginalString, StringComparison.Ordinal);
        await CdnPurgeTests.WaitForOutboxAsync(admin, sent: 1);

        using var byHand = await PostFormAsync(browser, "/admin/purges", FormToken(page), ("scope", "key"), ("subject", "some/other.png"));
        Assert.Equal(HttpStatusCode.Redirect, byHand.StatusCode);
        await CdnPurgeTests.WaitForOutboxAsync(admin, sent: 2);
        Assert.Contains("http://router.test/some/other.png", _cdn.Requests("/client/v4/zones/")[^1].RequestMessage.Body, StringComparison.Ordinal);

        using var refused = await PostFormAsync(browser, "/admin/purges", FormToken(page), ("scope", "storage"), ("subject", "nope"));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("&#x27;storage&#x27;: there is no storage &#x27;nope&#x27;.", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}

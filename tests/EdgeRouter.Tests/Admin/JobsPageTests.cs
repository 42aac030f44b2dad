using System.Net;
using EdgeRouter.Tests.Jobs;
using EdgeRouter.Tests.TestUtilities;
using Microsoft.AspNetCore.Mvc.Testing;
using static EdgeRouter.Tests.Admin.AdminTestRouter;

namespace EdgeRouter.Tests.Admin;

/// <summary>The Jobs page: start a job from its form, follow its progress, cancel it.</summary>
public sealed class JobsPageTests : IDisposable
{
    private readonly RouterFactory _router = JobsTestRouter.Create("""
        { "id": "a", "api": "local", "root": "data/a", "read": "stream" },
        { "id": "b", "api": "local", "root": "data/b", "read": "stream", "weight": 0 }
        """);

    public void Dispose() => _router.Dispose();

    [Fact]
    public async Task AJobStartedFromTheForm_ShowsItsProgress_AndCanBeCancelled()
    {
        using var api = _router.CreateAuthorizedClient();
        for (var i = 0; i < 40; i++)
        {
            Assert.Equal(HttpStatusCode.Created, (await api.PutAsync($"/api/v1/objects/p/{i}.png", TestFiles.Raw(TestFiles.Png(300 + i), "image/png"))).StatusCode);
        }

        using var browser = _router.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        await SignInAsync(browser, JobsTestRouter.AdminKey);
        var token = FormToken(await browser.GetStringAsync("/admin/jobs"));

        using var started = await PostFormAsync(browser, "/admin/jobs", token, ("kind", "migrate"), ("storage", string.Empty), ("from", "a"), ("to", "b"), ("objectsPerSecond", "5"));

        Assert.Equal(HttpStatusCode.Redirect, started.StatusCode);
        Assert.Contains("Queued%20job", started.Headers.Location!.OriginalString, StringComparison.Ordinal);
        string page;
        do
        {
            await Task.Delay(200);
            page = await browser.GetStringAsync("/admin/jobs");
        }
        while (!page.Contains("<progress value=\"", StringComparison.Ordinal) || page.Contains("<progress value=\"0\"", StringComparison.Ordinal));

        Assert.Contains("migrate from=a to=b objectsPerSecond=5", page, StringComparison.Ordinal);
        Assert.Contains("max=\"40\"", page, StringComparison.Ordinal);
        Assert.Contains("<meta http-equiv=\"refresh\" content=\"2\"", page, StringComparison.Ordinal);
        Assert.Matches(@"\d+\.\d/s", page);
        var id = System.Text.RegularExpressions.Regex.Match(page, "action=\"/admin/jobs/([^/]+)/cancel\"").Groups[1].Value;

        using var cancelled = await PostFormAsync(browser, $"/admin/jobs/{id}/cancel", FormToken(page));

        Assert.Equal(HttpStatusCode.Redirect, cancelled.StatusCode);
        await JobsTestRouter.WaitAsync(JobsTestRouter.AdminClient(_router), id);
        page = await browser.GetStringAsync("/admin/jobs");
        Assert.Contains("class=\"bad\">cancelled", page, StringComparison.Ordinal);
        Assert.DoesNotContain("http-equiv=\"refresh\"", page, StringComparison.Ordinal);
        Assert.DoesNotContain($"/admin/jobs/{id}/cancel", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABadForm_IsShownAgainWithThePreciseProblem()
    {
        using var browser = _router.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        await SignInAsync(browser, JobsTestRouter.AdminKey);
        var token = FormToken(await browser.GetStringAsync("/admin/jobs"));

        using var response = await PostFormAsync(browser, "/admin/jobs", token, ("kind", "import"), ("storage", string.Empty));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("&#x27;storage&#x27; must name a storage.", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}

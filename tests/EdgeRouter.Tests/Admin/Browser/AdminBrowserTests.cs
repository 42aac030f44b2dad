using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using EdgeRouter.Tests.TestUtilities;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace EdgeRouter.Tests.Admin.Browser;

/// <summary>
/// An operator's round in a real browser against the router on a real port: sign in, read the dashboard, switch a
/// storage off and see uploads avoid it, test a good and a broken storage, find an upload, sign out. Each page is
/// saved as a screenshot under <c>tests/EdgeRouter.Tests/TestResults/admin-screenshots</c> for a reviewer.
/// What a click changes is checked with Playwright's retrying assertions (<c>Expect</c>): a plain read right after a
/// click may still see the page the click is leaving.
/// </summary>
[Collection(ChromiumGroup.Name)]
public sealed class AdminBrowserTests(ChromiumFixture chromium) : IDisposable
{
    private static readonly string Screenshots = Path.Combine(Repository.Root, "tests", "EdgeRouter.Tests", "TestResults", "admin-screenshots");

    private readonly RouterFactory _factory = AdminTestRouter.Create(spare: true);

    static AdminBrowserTests() => SetDefaultExpectTimeout(15_000); // shared CI machines are slow at times

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task AnOperatorsRound()
    {
        var port = ServerProcess.FreePort();
        _factory.UseKestrel(port);
        _factory.StartServer();
        var site = $"http://127.0.0.1:{port}";
        using var uploader = new HttpClient { BaseAddress = new Uri(site) };
        uploader.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", RouterFactory.ApiKey);
        await using var context = await chromium.Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1360, Height = 900 } });
        var page = await context.NewPageAsync();

        // A stranger lands on the sign-in page; a wrong key is refused there.
        await page.GotoAsync(site + "/admin/");
        Assert.EndsWith("/admin/signin?ReturnUrl=%2Fadmin%2F", page.Url, StringComparison.Ordinal);
        await page.FillAsync("input[name=key]", "not-the-key");
        await page.ClickAsync("button[type=submit]");
        await Expect(page.Locator("[role=alert]")).ToHaveTextAsync("That is not an admin key.");
        await SaveAsync(page, "1-sign-in");

        // Sign in: the dashboard shows every storage with its usage bar.
        await page.FillAsync("input[name=key]", AdminTestRouter.AdminKey);
        await page.ClickAsync("button[type=submit]");
        await Expect(page.Locator("h1")).ToHaveTextAsync("Dashboard");
        await Expect(page.Locator("tr[data-storage]")).ToHaveCountAsync(3);
        await Expect(page.Locator("tr[data-storage=local] meter")).ToHaveCountAsync(1);
        await SaveAsync(page, "2-dashboard");

        // Switch 'spare' off: uploads then land on 'local' only (or fail over there from 'broken'). Had the switch
        // failed, one of 40 uploads would land on 'spare' but once in 7,000 runs.
        await page.ClickAsync("nav >> text=Storages");
        await page.Locator("tr[data-storage=spare]").GetByRole(AriaRole.Button, new() { Name = "Disable" }).ClickAsync();
        await Expect(page.Locator(".done[role=status]")).ToHaveTextAsync("Storage 'spare' changed.");
        await Expect(page.Locator("tr[data-storage=spare]").GetByRole(AriaRole.Button, new() { Name = "Enable" })).ToHaveCountAsync(1);
        for (var i = 0; i < 40; i++)
        {
            var created = await (await uploader.PostAsync("/api/v1/objects", TestFiles.Raw(TestFiles.Png(), "image/png"))).Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("local", created.GetProperty("storage").GetString());
        }

        Assert.Empty(_factory.FilesUnder("data/spare"));
        await SaveAsync(page, "3-storages");

        // Test connection: the good storage passes every step, the broken one says which step failed.
        await page.Locator("tr[data-storage=local]").GetByRole(AriaRole.Button, new() { Name = "Test connection" }).ClickAsync();
        await Expect(page.Locator("[data-test-result=local]")).ToContainTextAsync("Test connection of 'local': passed");
        await SaveAsync(page, "4-test-good");
        await page.Locator("tr[data-storage=broken]").GetByRole(AriaRole.Button, new() { Name = "Test connection" }).ClickAsync();
        await Expect(page.Locator("[data-test-result=broken]")).ToContainTextAsync("Test connection of 'broken': failed");
        Assert.DoesNotContain(AdminTestRouter.SecretKey, await page.ContentAsync(), StringComparison.Ordinal);
        await SaveAsync(page, "5-test-broken");

        // The edit form shows every field, the secret masked; a draft with a new bucket is tested, nothing saved.
        await page.Locator("tr[data-storage=broken]").GetByRole(AriaRole.Link, new() { Name = "edit" }).ClickAsync();
        await Expect(page.Locator("h1")).ToHaveTextAsync("Storage 'broken'");
        var settings = await page.Locator("textarea[name=settings]").InputValueAsync();
        Assert.Contains("\"secretKey\": \"••••••••\"", settings, StringComparison.Ordinal);
        await page.FillAsync("textarea[name=settings]", settings.Replace("\"bucket\": \"bucket\"", "\"bucket\": \"drafted\"", StringComparison.Ordinal));
        await page.GetByRole(AriaRole.Button, new() { Name = "Test connection" }).ClickAsync();
        await Expect(page.Locator("[data-test-result=broken]")).ToContainTextAsync("Test connection of the draft of 'broken': failed");
        Assert.Contains("\"bucket\": \"drafted\"", await page.Locator("textarea[name=settings]").InputValueAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(AdminTestRouter.SecretKey, await page.ContentAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain("drafted", await File.ReadAllTextAsync(_factory.StoragesPath), StringComparison.Ordinal);
        await SaveAsync(page, "6-edit-storage");

        // An upload through the public API is found on the objects page, with its URLs.
        await uploader.PutAsync("/api/v1/objects/gallery/sunset.png", TestFiles.Raw(TestFiles.Png(3000), "image/png"));
        await page.ClickAsync("nav >> text=Objects");
        await page.FillAsync("input[name=prefix]", "gallery/");
        await page.ClickAsync("form[method=get] button");
        var row = page.Locator("tr[data-key='gallery/sunset.png']");
        await Expect(row).ToHaveCountAsync(1);
        await Expect(page.Locator("tr[data-key]")).ToHaveCountAsync(1);
        await Expect(row).ToContainTextAsync("local");
        await SaveAsync(page, "7-objects");

        // Back on the dashboard, the last hour's traffic counts those uploads (40 + 1) and reads.
        await uploader.GetAsync("/gallery/sunset.png");
        await page.ClickAsync("nav >> text=Dashboard");
        await Expect(page.Locator("[data-figure=uploads]")).ToHaveTextAsync("41");
        await Expect(page.Locator("[data-traffic] ~ .charts svg")).ToHaveCountAsync(3);
        await SaveAsync(page, "8-dashboard-traffic");

        // Sign out: the pages are closed again.
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(page.Locator("input[name=key]")).ToBeVisibleAsync();
        await page.GotoAsync(site + "/admin/storages");
        Assert.Contains("/admin/signin", page.Url, StringComparison.Ordinal);
        await SaveAsync(page, "9-signed-out");
    }

    private static async Task SaveAsync(IPage page, string name)
    {
        Directory.CreateDirectory(Screenshots);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, name + ".png"), FullPage = true });
    }
}

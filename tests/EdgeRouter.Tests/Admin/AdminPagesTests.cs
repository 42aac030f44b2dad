using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using EdgeRouter.Tests.TestUtilities;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using static EdgeRouter.Tests.Admin.AdminTestRouter;

namespace EdgeRouter.Tests.Admin;

/// <summary>The admin pages through the real host: cookie sign-in with the admin key, antiforgery on every form, masked secrets, edits through the same validators as storages.json.</summary>
public sealed class AdminPagesTests : IDisposable
{
    private readonly RouterFactory _factory = Create();

    public void Dispose() => _factory.Dispose();

    private HttpClient Browser() => _factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    [Theory]
    [InlineData("GET", "/admin/")]
    [InlineData("GET", "/admin/storages")]
    [InlineData("GET", "/admin/objects")]
    [InlineData("GET", "/admin/objects/delete?key=a.png")]
    [InlineData("POST", "/admin/storages/local")]
    [InlineData("POST", "/admin/storages/local/test")]
    [InlineData("GET", "/admin/storages/new")]
    [InlineData("POST", "/admin/storages/new")]
    [InlineData("GET", "/admin/storages/local/edit")]
    [InlineData("POST", "/admin/storages/local/edit")]
    [InlineData("POST", "/admin/storages/local/remove")]
    [InlineData("POST", "/admin/objects/delete")]
    [InlineData("POST", "/admin/signout")]
    public async Task EveryPage_SendsAStrangerToSignIn_AndAnUploadKeyDoesNotOpenIt(string method, string path)
    {
        using var stranger = Browser();
        using var uploader = Browser();
        uploader.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", RouterFactory.ApiKey);

        foreach (var client in new[] { stranger, uploader })
        {
            var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.StartsWith("/admin/signin", response.Headers.Location!.AbsolutePath, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task SigningIn_OpensThePages_NotTheApi_AndSigningOutClosesThem()
    {
        using var browser = Browser();
        await SignInAsync(browser);

        var dashboard = await browser.GetAsync("/admin/");
        Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
        Assert.True(dashboard.Headers.CacheControl?.NoStore);
        Assert.Equal("DENY", dashboard.Headers.GetValues("X-Frame-Options").Single());
        Assert.Contains("default-src 'none'", dashboard.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);

        // The cookie is for pages; the API still wants the key itself, so a page cannot be turned into an API client.
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync("/admin/api/storages")).StatusCode);

        var token = FormToken(await dashboard.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Redirect, (await PostFormAsync(browser, "/admin/signout", token)).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync("/admin/")).StatusCode);
    }

    [Fact]
    public async Task AWrongKey_IsRefused_ThenTheAddressIsLockedOut()
    {
        using var browser = Browser();
        var token = FormToken(await browser.GetStringAsync("/admin/signin"));
        for (var i = 0; i < 3; i++)
        {
            var wrong = await PostFormAsync(browser, "/admin/signin", token, ("key", "guess-" + i));
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
            Assert.Contains("That is not an admin key.", await wrong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var locked = await PostFormAsync(browser, "/admin/signin", token, ("key", AdminKey));
        Assert.Equal((HttpStatusCode)429, locked.StatusCode);

    }

    [Fact]
    public async Task TheSignInCookie_IsHttpOnlyStrictAndScopedToTheAdmin_AndSlidesFor8Hours()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var factory = AdminTestRouter.Create(services: s => s.AddSingleton<TimeProvider>(clock));
        using var browser = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        var token = FormToken(await browser.GetStringAsync("/admin/signin"));

        var signedIn = await PostFormAsync(browser, "/admin/signin", token, ("key", AdminKey));

        var cookie = Assert.Single(signedIn.Headers.GetValues("Set-Cookie"), c => c.StartsWith(".EdgeRouter.Admin=", StringComparison.Ordinal));
        var attributes = cookie.Split(';', StringSplitOptions.TrimEntries).Skip(1).ToList();
        Assert.Contains("path=/admin", attributes);
        Assert.Contains("httponly", attributes);
        Assert.Contains("samesite=strict", attributes);

        // A browser-session cookie whose sign-in lasts 8 hours: renewed while used, ended after 8 hours unused.
        clock.Advance(TimeSpan.FromHours(5));
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/admin/")).StatusCode);
        clock.Advance(TimeSpan.FromHours(5));
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/admin/")).StatusCode);
        clock.Advance(TimeSpan.FromHours(8) + TimeSpan.FromMinutes(1));
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync("/admin/")).StatusCode);
    }

    [Fact]
    public async Task ALockOut_EndsAfterAdminLockoutDuration()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var factory = AdminTestRouter.Create(services: s => s.AddSingleton<TimeProvider>(clock));
        using var browser = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        var token = FormToken(await browser.GetStringAsync("/admin/signin"));
        for (var i = 0; i < 3; i++)
        {
            await PostFormAsync(browser, "/admin/signin", token, ("key", "guess-" + i));
        }

        Assert.Equal((HttpStatusCode)429, (await PostFormAsync(browser, "/admin/signin", token, ("key", AdminKey))).StatusCode);
        clock.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal((HttpStatusCode)429, (await PostFormAsync(browser, "/admin/signin", token, ("key", AdminKey))).StatusCode);
        clock.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.Redirect, (await PostFormAsync(browser, "/admin/signin", token, ("key", AdminKey))).StatusCode);
    }

    [Fact]
    public async Task TheKeysThatSignTheAdminsCookie_AreKeptUnderData_SoARestartSignsNobodyOut()
    {
        using var browser = Browser();
        var token = FormToken(await browser.GetStringAsync("/admin/signin"));
        Assert.Equal(HttpStatusCode.Redirect, (await PostFormAsync(browser, "/admin/signin", token, ("key", AdminKey))).StatusCode);

        Assert.NotEmpty(Directory.GetFiles(Path.Combine(_factory.Root, "data", "keys"), "key-*.xml"));
    }

    [Theory]
    [InlineData("//evil.example/admin/", "/admin/")]
    [InlineData("https://evil.example/admin/", "/admin/")]
    [InlineData("/admin/\\evil.example", "/admin/")]
    [InlineData("/admin/objects?prefix=a", "/admin/objects?prefix=a")]
    public async Task AfterSignIn_ReturnUrlNeverLeavesTheAdmin(string returnUrl, string expected)
    {
        using var browser = Browser();
        var token = FormToken(await browser.GetStringAsync("/admin/signin"));

        var signedIn = await PostFormAsync(browser, "/admin/signin", token, ("key", AdminKey), ("returnUrl", returnUrl));

        Assert.Equal(expected, signedIn.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task APostWithoutAValidAntiforgeryToken_IsRefused_AndChangesNothing()
    {
        using var browser = Browser();
        await SignInAsync(browser);
        var before = await File.ReadAllTextAsync(_factory.StoragesPath);

        var none = await browser.PostAsync("/admin/storages/local", new FormUrlEncodedContent([new("active", "false")]));
        var forged = await PostFormAsync(browser, "/admin/storages/local", "CfDJ8forged", ("active", "false"));
        var signIn = await browser.PostAsync("/admin/signin", new FormUrlEncodedContent([new("key", AdminKey)]));

        foreach (var response in new[] { none, forged, signIn })
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("antiforgery token is missing or not valid", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Equal(before, await File.ReadAllTextAsync(_factory.StoragesPath));
    }

    [Fact]
    public async Task ThePages_ShowUsageAndHealth_ButNeverASecret()
    {
        using var browser = Browser();
        using var uploader = _factory.CreateAuthorizedClient();
        await uploader.PutAsync("/api/v1/objects/shown.png", TestFiles.Raw(TestFiles.Png(1000), "image/png"));
        await SignInAsync(browser);

        var dashboard = WebUtility.HtmlDecode(await browser.GetStringAsync("/admin/"));
        var storages = WebUtility.HtmlDecode(await browser.GetStringAsync("/admin/storages"));

        Assert.Contains("<meter min=\"0\" max=\"1000000\"", dashboard, StringComparison.Ordinal);
        Assert.Contains("75 %", dashboard, StringComparison.Ordinal);
        Assert.Contains("<dd><code>bucket</code></dd>", storages, StringComparison.Ordinal);
        Assert.Contains("<dd><code>true</code></dd>", storages, StringComparison.Ordinal);
        foreach (var page in new[] { dashboard, storages })
        {
            Assert.DoesNotContain(SecretKey, page, StringComparison.Ordinal);
        }

        Assert.Contains(EdgeRouter.Admin.SecretMasking.Mask, storages, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABadEdit_ShowsTheValidatorsMessage_AndTheFileIsUnchanged()
    {
        using var browser = Browser();
        await SignInAsync(browser);
        var before = await File.ReadAllTextAsync(_factory.StoragesPath);
        var token = FormToken(await browser.GetStringAsync("/admin/storages"));

        var negative = await PostFormAsync(browser, "/admin/storages/local", token, ("weight", "-1"));
        var notANumber = await PostFormAsync(browser, "/admin/storages/local", token, ("weight", "lots"));

        Assert.Equal(HttpStatusCode.BadRequest, negative.StatusCode);
        Assert.Contains("storages[0] ('local'): field 'weight': must be a number ≥ 0.", WebUtility.HtmlDecode(await negative.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, notANumber.StatusCode);
        Assert.Contains("The weight &#x27;lots&#x27; is not a number.", await notANumber.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllTextAsync(_factory.StoragesPath));
    }

    [Fact]
    public async Task SwitchingAStorageOff_IsInForceAtOnce_AndAudited()
    {
        using var browser = Browser();
        using var uploader = _factory.CreateAuthorizedClient();
        await SignInAsync(browser);
        var token = FormToken(await browser.GetStringAsync("/admin/storages"));

        var response = await PostFormAsync(browser, "/admin/storages/local", token, ("active", "false"));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Contains("Storage &#x27;local&#x27; changed.", await browser.GetStringAsync(response.Headers.Location!.OriginalString), StringComparison.Ordinal);
        Assert.Contains("\"active\": false", await File.ReadAllTextAsync(_factory.StoragesPath), StringComparison.Ordinal);
        Assert.Contains(AuditLines(_factory), line => line.EndsWith(": merge storage local -> active: true -> false", StringComparison.Ordinal));

        // Only 'broken' takes uploads now, and nothing answers there: the upload fails rather than land on 'local'.
        var upload = await uploader.PostAsync("/api/v1/objects", TestFiles.Raw(TestFiles.Png(), "image/png"));
        Assert.False(upload.IsSuccessStatusCode);
        Assert.Empty(_factory.FilesUnder("data/objects"));
    }

    [Fact]
    public async Task AStorage_IsAddedThroughTheForm_AfterItsDraftPassedTheTest()
    {
        using var browser = Browser();
        await SignInAsync(browser);
        var form = await browser.GetStringAsync("/admin/storages/new");
        var token = FormToken(form);
        (string, string)[] fields = [("id", "extra"), ("api", "local"), ("read", "stream"), ("weight", "0"), ("capacity", "1 GB"), ("active", "true"), ("keyLayout", "dated"), ("redirectStatus", "302"), ("settings", """{ "root": "data/extra" }""")];
        var before = await File.ReadAllTextAsync(_factory.StoragesPath);

        var tested = await PostFormAsync(browser, "/admin/storages/new", token, [.. fields, ("action", "test")]);
        var testPage = await tested.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, tested.StatusCode);
        Assert.Contains("Test connection of the draft of &#x27;extra&#x27;: passed", testPage, StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllTextAsync(_factory.StoragesPath));

        var saved = await PostFormAsync(browser, "/admin/storages/new", token, [.. fields, ("action", "save")]);

        Assert.Contains("<option value=\"local\"", form, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        Assert.Contains("Storage &#x27;extra&#x27; added.", await browser.GetStringAsync(saved.Headers.Location!.OriginalString), StringComparison.Ordinal);
        using var file = JsonDocument.Parse(await File.ReadAllTextAsync(_factory.StoragesPath));
        var extra = file.RootElement.GetProperty("storages").EnumerateArray().Single(s => s.GetProperty("id").GetString() == "extra");
        Assert.Equal("data/extra", extra.GetProperty("root").GetString());
        Assert.Equal("1 GB", extra.GetProperty("capacity").GetString());
    }

    [Fact]
    public async Task TheEditForm_ShowsSecretsMasked_AndSavingKeepsThem_WhileOtherFieldsChange()
    {
        using var browser = Browser();
        await SignInAsync(browser);
        var form = await browser.GetStringAsync("/admin/storages/broken/edit");
        var token = FormToken(form);
        var settings = WebUtility.HtmlDecode(Regex.Match(form, "<textarea name=\"settings\"[^>]*>(.*?)</textarea>", RegexOptions.Singleline).Groups[1].Value);

        var saved = await PostFormAsync(
            browser,
            "/admin/storages/broken/edit",
            token,
            ("read", "proxy"),
            ("weight", "4"),
            ("active", "true"),
            ("keyLayout", "dated"),
            ("redirectStatus", "302"),
            ("storageUrl", "http://cdn.test/b/"),
            ("settings", settings.Replace("\"bucket\": \"bucket\"", "\"bucket\": \"renamed\"", StringComparison.Ordinal)),
            ("action", "save"));

        Assert.DoesNotContain(SecretKey, form, StringComparison.Ordinal);
        Assert.Contains("\"secretKey\": \"••••••••\"", settings, StringComparison.Ordinal);
        Assert.True(saved.StatusCode == HttpStatusCode.Redirect, await saved.Content.ReadAsStringAsync());
        var file = await File.ReadAllTextAsync(_factory.StoragesPath);
        Assert.Contains(SecretKey, file, StringComparison.Ordinal);
        Assert.Contains("\"bucket\": \"renamed\"", file, StringComparison.Ordinal);
        Assert.Contains("\"read\": \"proxy\"", file, StringComparison.Ordinal);
        Assert.Contains("\"weight\": 4", file, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFormWithAProblem_ComesBackWithIt_AndWithoutTheSecretTyped()
    {
        using var browser = Browser();
        await SignInAsync(browser);
        var token = FormToken(await browser.GetStringAsync("/admin/storages/new"));
        var before = await File.ReadAllTextAsync(_factory.StoragesPath);

        var response = await PostFormAsync(
            browser,
            "/admin/storages/new",
            token,
            ("id", "s3x"),
            ("api", "s3compatible"),
            ("read", "redirect"),
            ("weight", "-2"),
            ("active", "true"),
            ("settings", """{ "bucket": "b", "secretKey": "typed-secret-5150" }"""),
            ("action", "save"));
        var page = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("field 'weight': must be a number ≥ 0.", WebUtility.HtmlDecode(page), StringComparison.Ordinal);
        Assert.DoesNotContain("typed-secret-5150", page, StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllTextAsync(_factory.StoragesPath));
    }

    [Fact]
    public async Task RemovingAStorage_NeedsTheBoxTicked_AndItSwitchedOff()
    {
        using var browser = Browser();
        await SignInAsync(browser);
        var token = FormToken(await browser.GetStringAsync("/admin/storages/broken/edit"));

        var unconfirmed = await PostFormAsync(browser, "/admin/storages/broken/remove", token);
        var active = await PostFormAsync(browser, "/admin/storages/broken/remove", token, ("confirm", "yes"));
        await PostFormAsync(browser, "/admin/storages/broken", token, ("active", "false"));
        var removed = await PostFormAsync(browser, "/admin/storages/broken/remove", token, ("confirm", "yes"));

        Assert.Equal(HttpStatusCode.BadRequest, unconfirmed.StatusCode);
        Assert.Contains("Tick the box to confirm the removal.", await unconfirmed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Conflict, active.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, removed.StatusCode);
        Assert.Contains("Storage &#x27;broken&#x27; removed.", await browser.GetStringAsync(removed.Headers.Location!.OriginalString), StringComparison.Ordinal);
        Assert.DoesNotContain("\"broken\"", await File.ReadAllTextAsync(_factory.StoragesPath), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TestConnection_ShowsEachStep_ForAGoodAndABrokenStorage()
    {
        using var browser = Browser();
        await SignInAsync(browser);
        var token = FormToken(await browser.GetStringAsync("/admin/storages"));

        var good = await (await PostFormAsync(browser, "/admin/storages/local/test", token)).Content.ReadAsStringAsync();
        var bad = await (await PostFormAsync(browser, "/admin/storages/broken/test", token)).Content.ReadAsStringAsync();

        Assert.Contains("Test connection of &#x27;local&#x27;: passed", good, StringComparison.Ordinal);
        Assert.Contains("read back through the API", good, StringComparison.Ordinal);
        Assert.Contains("Test connection of &#x27;broken&#x27;: failed", bad, StringComparison.Ordinal);
        Assert.DoesNotContain(SecretKey, bad, StringComparison.Ordinal);
        Assert.Empty(_factory.FilesUnder("data/objects"));
    }

    [Fact]
    public async Task AnObject_IsFoundByPrefix_AndDeletedAfterConfirmation()
    {
        using var browser = Browser();
        using var uploader = _factory.CreateAuthorizedClient();
        await uploader.PutAsync("/api/v1/objects/pics/cat.png", TestFiles.Raw(TestFiles.Png(2000), "image/png"));
        await uploader.PutAsync("/api/v1/objects/other/dog.png", TestFiles.Raw(TestFiles.Png(2000), "image/png"));
        await SignInAsync(browser);

        var found = await browser.GetStringAsync("/admin/objects?prefix=pics/");
        Assert.Contains("data-key=\"pics/cat.png\"", found, StringComparison.Ordinal);
        Assert.DoesNotContain("other/dog.png", found, StringComparison.Ordinal);
        Assert.Contains("href=\"http://router.test/pics/cat.png\"", found, StringComparison.Ordinal);

        var confirm = await browser.GetStringAsync("/admin/objects/delete?key=pics%2Fcat.png");
        Assert.Equal(HttpStatusCode.OK, (await uploader.GetAsync("/pics/cat.png")).StatusCode);
        Assert.Contains("name=\"immediate\"", confirm, StringComparison.Ordinal);
        var deleted = await PostFormAsync(browser, "/admin/objects/delete", FormToken(confirm), ("key", "pics/cat.png"), ("immediate", "true"));

        Assert.Equal(HttpStatusCode.Redirect, deleted.StatusCode);
        Assert.DoesNotContain(Path.Combine("pics", "cat.png"), _factory.FilesUnder("data/objects"));
        Assert.Contains("Deleted &#x27;pics/cat.png&#x27;.", await browser.GetStringAsync(deleted.Headers.Location!.OriginalString), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await uploader.GetAsync("/pics/cat.png")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await uploader.GetAsync("/other/dog.png")).StatusCode);
    }

    [Fact]
    public async Task AReadOnlyStoragesFile_IsSaid_AndNoEditIsOffered()
    {
        using var browser = Browser();
        await SignInAsync(browser);
        File.SetUnixFileMode(_factory.StoragesPath, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        try
        {
            var page = await browser.GetStringAsync("/admin/storages");

            Assert.Contains("cannot be edited here", page, StringComparison.Ordinal);
            Assert.DoesNotContain("name=\"weight\"", page, StringComparison.Ordinal);
            Assert.DoesNotContain("name=\"active\"", page, StringComparison.Ordinal);
            Assert.Contains("Test connection", page, StringComparison.Ordinal);
        }
        finally
        {
            File.SetUnixFileMode(_factory.StoragesPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }
}

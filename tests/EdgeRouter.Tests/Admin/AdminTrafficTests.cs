using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.Admin;

/// <summary>The dashboard's traffic figures, from the router's own metrics: reads, bytes served, 4xx/5xx, p99 and uploads.</summary>
public sealed class AdminTrafficTests : IDisposable
{
    private readonly RouterFactory _factory = AdminTestRouter.Create();

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task ReadsBytesErrorsAndUploads_AreCounted_AndShownOnTheDashboard()
    {
        using var uploader = _factory.CreateAuthorizedClient();
        using var admin = _factory.CreateClient();
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminTestRouter.AdminKey);
        var png = TestFiles.Png(1_500);
        Assert.Equal(HttpStatusCode.Created, (await uploader.PutAsync("/api/v1/objects/t/a.png", TestFiles.Raw(png, "image/png"))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await uploader.PutAsync("/api/v1/objects/t/b.png", TestFiles.Raw(png, "image/png"))).StatusCode);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await uploader.GetAsync("/t/a.png")).StatusCode);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await uploader.GetAsync("/t/missing.png")).StatusCode);

        using var traffic = JsonDocument.Parse(await admin.GetStringAsync("/admin/api/traffic"));
        var minutes = traffic.RootElement.GetProperty("minutes").EnumerateArray().ToList();

        Assert.Equal(4, minutes.Sum(m => m.GetProperty("reads").GetInt64()));
        Assert.Equal(3L * png.Length, minutes.Sum(m => m.GetProperty("bytes").GetInt64()));
        Assert.Equal(1, minutes.Sum(m => m.GetProperty("clientErrors").GetInt64()));
        Assert.Equal(0, minutes.Sum(m => m.GetProperty("serverErrors").GetInt64()));
        Assert.True(minutes.Sum(m => m.GetProperty("requests").GetInt64()) >= 6);
        Assert.Contains(minutes, m => m.GetProperty("p99Ms").ValueKind == JsonValueKind.Number);
        Assert.Equal(2, traffic.RootElement.GetProperty("uploadsLastHour").GetProperty("local").GetInt64());
        Assert.True(traffic.RootElement.GetProperty("readsPerSecond").GetDouble() > 0);

        // The stream storage's reads go through the origin cache: one miss, then two hits of 1,500 bytes saved.
        var cache = traffic.RootElement.GetProperty("originCache");
        Assert.Equal((2, 1), (cache.GetProperty("hits").GetInt64(), cache.GetProperty("misses").GetInt64()));
        Assert.Equal(2L * png.Length, cache.GetProperty("backendBytesSaved").GetInt64());

        using var browser = _factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        await AdminTestRouter.SignInAsync(browser);
        var dashboard = await browser.GetStringAsync("/admin/");
        var kib = (3.0 * png.Length / 1024).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains($"<b data-figure=\"bytes\">{kib} KiB</b>", dashboard, StringComparison.Ordinal);
        Assert.Contains("<b data-figure=\"origin-cache-hit-ratio\">66.7 %</b>", dashboard, StringComparison.Ordinal);
        Assert.Contains("<span data-figure=\"origin-cache-saved\">2.9 KiB</span>", dashboard, StringComparison.Ordinal);
        Assert.Contains("<svg", dashboard, StringComparison.Ordinal);
        Assert.Matches("<tr data-storage=\"local\">.*<td class=\"num\" data-uploads>2</td>", dashboard.ReplaceLineEndings(" "));
    }
}

using System.Net;
using System.Net.Http.Headers;
using EdgeRouter.Admin;
using EdgeRouter.Tests.TestUtilities;
using Microsoft.AspNetCore.Hosting;

namespace EdgeRouter.Tests.Admin;

/// <summary><c>Admin:Port</c>: the admin answers on its own port only, and under the public one it does not exist.</summary>
public sealed class AdminPortTests
{
    [Fact]
    public async Task OnTwoRealPorts_TheAdminAnswersOnItsOwn_AndThePublicPortKnowsNothingOfIt()
    {
        var (site, admin) = (ServerProcess.FreePort(), ServerProcess.FreePort());
        using var factory = AdminTestRouter.Create(adminPort: admin);
        factory.UseKestrel(kestrel =>
        {
            kestrel.ListenLocalhost(site);
            kestrel.ListenLocalhost(admin);
        });
        factory.StartServer();
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminTestRouter.AdminKey);
        using var uploader = new HttpClient();
        uploader.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", RouterFactory.ApiKey);

        var onAdminPort = await client.GetAsync($"http://localhost:{admin}/admin/api/storages");
        var onSitePort = await client.GetAsync($"http://localhost:{site}/admin/api/storages");
        var signInOnSite = await client.GetAsync($"http://localhost:{site}/admin/signin");

        // Naming the admin port in the Host header changes nothing: the connection's port decides.
        var spoofed = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"http://localhost:{site}/admin/api/storages") { Headers = { Host = $"localhost:{admin}" } });

        Assert.Equal(HttpStatusCode.OK, onAdminPort.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"http://localhost:{admin}/admin/signin")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, onSitePort.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, signInOnSite.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, spoofed.StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await uploader.PutAsync($"http://localhost:{site}/api/v1/objects/p/a.png", TestFiles.Raw(TestFiles.Png(), "image/png"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await uploader.GetAsync($"http://localhost:{site}/p/a.png")).StatusCode);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(70000)]
    public void APortOutOfRange_IsRefusedAtStart_NamingTheField(int port)
    {
        var result = new AdminOptionsValidator().Validate(null, new AdminOptions { Port = port });

        Assert.Equal([$"Admin:Port: {port} is not a TCP port (1-65535)."], result.Failures);
    }
}

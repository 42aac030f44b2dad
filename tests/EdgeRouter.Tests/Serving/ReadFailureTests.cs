using System.Net;
using EdgeRouter.Catalog;
using EdgeRouter.Tests.TestUtilities;
using EdgeRouter.Tests.Uploads;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace EdgeRouter.Tests.Serving;

/// <summary>
/// Reads short-circuit past the exception-handling middleware, so the read handler itself must turn a failure it
/// did not foresee into an answer no CDN keeps.
/// </summary>
public sealed class ReadFailureTests
{
    [Theory]
    [InlineData("GET")]
    [InlineData("HEAD")]
    public async Task AnUnexpectedFailure_Answers500_NoStore_WithAProblem(string method)
    {
        using var factory = new RouterFactory("""{ "storages": [ { "id": "s", "api": "local", "root": "s", "read": "stream" } ] }""", services =>
        {
            services.RemoveAll<IObjectCatalog>();
            services.AddSingleton<IObjectCatalog, BrokenLookupCatalog>();
        });
        using var client = factory.CreateAnonymousClient();

        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), "/2026/01/01/a.png"));

        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        if (method == "GET")
        {
            await UploadApiTests.AssertProblemAsync(response, HttpStatusCode.InternalServerError, "The router failed to serve this object; the reason is in its log.");
        }
        else
        {
            Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
            Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        }
    }

    private sealed class BrokenLookupCatalog() : DelegatingCatalog(new CountingCatalog())
    {
        public override ValueTask<ObjectRecord?> FindAsync(string key, CancellationToken cancellationToken) => throw new InvalidOperationException("a bug");
    }
}

using System.Net;
using System.Net.Http.Headers;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.OutOfProcess;

/// <summary>Wrong upload keys lock out the client that sent them, and behind a known proxy that client is the one X-Forwarded-For names.</summary>
public sealed class ClientAddressTests
{
    [Fact]
    public async Task WrongUploadKeys_LockOutTheirClient_WithRetryAfter_EvenForTheRightKey()
    {
        await using var host = new RouterHost(new Dictionary<string, string> { ["EdgeRouter__Uploads__MaxFailedKeyAttempts"] = "3" });
        await host.StartAsync();

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(host, "wrong-key", forwardedFor: null)).StatusCode);
        }

        using var locked = await SendAsync(host, RouterHost.ApiKey, forwardedFor: null);
        Assert.Equal(HttpStatusCode.TooManyRequests, locked.StatusCode);
        Assert.Equal(TimeSpan.FromMinutes(5), locked.Headers.RetryAfter?.Delta);
        Assert.Contains("Too many wrong API keys from this address", await locked.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Without known proxies, X-Forwarded-For is not believed: a client cannot escape its lock-out by naming another.
        Assert.Equal(HttpStatusCode.TooManyRequests, (await SendAsync(host, RouterHost.ApiKey, forwardedFor: "203.0.113.9")).StatusCode);
    }

    [Fact]
    public async Task BehindAKnownProxy_EachForwardedClientIsLockedOutAlone()
    {
        await using var host = new RouterHost(new Dictionary<string, string>
        {
            ["EdgeRouter__Uploads__MaxFailedKeyAttempts"] = "3",
            ["EdgeRouter__KnownProxies__0"] = "127.0.0.1",
        });
        await host.StartAsync();

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(host, "wrong-key", forwardedFor: "203.0.113.7")).StatusCode);
        }

        // The guessing client is locked out; another client behind the same proxy is not.
        Assert.Equal(HttpStatusCode.TooManyRequests, (await SendAsync(host, RouterHost.ApiKey, forwardedFor: "203.0.113.7")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(host, RouterHost.ApiKey, forwardedFor: "198.51.100.20")).StatusCode);
    }

    private static async Task<HttpResponseMessage> SendAsync(RouterHost host, string key, string? forwardedFor)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/objects") { Content = TestFiles.Raw(TestFiles.Png(), "image/png") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        if (forwardedFor is not null)
        {
            request.Headers.Add("X-Forwarded-For", forwardedFor);
        }

        return await host.Client.SendAsync(request);
    }
}

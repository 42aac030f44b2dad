using System.Net;
using System.Text.Json.Nodes;
using EdgeRouter.Tests.Cdn;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.OutOfProcess;

/// <summary>The built router, killed with SIGKILL after a delete's commit and before its purge went out.</summary>
public sealed class PurgeAfterCrashTests
{
    [Fact]
    public async Task ADeleteWhosePurgeWasNotSent_IsPurgedAfterARestart()
    {
        using var cdn = new CdnTestServer();

        // An idle worker looks again only after an hour: the first look is at start, so until a restart the purge
        // stays in the outbox, committed with the delete.
        await using var host = new RouterHost(new Dictionary<string, string>
        {
            ["EdgeRouter__Cdn__Targets__0__Name"] = "hook",
            ["EdgeRouter__Cdn__Targets__0__Kind"] = "webhook",
            ["EdgeRouter__Cdn__Targets__0__Url"] = cdn.Url + "/hooks/purge",
            ["EdgeRouter__Cdn__Targets__0__Secret"] = CdnTestServer.WebhookSecret,
            ["EdgeRouter__Cdn__PollInterval"] = "01:00:00",
        });
        await host.StartAsync();
        Assert.Equal(HttpStatusCode.Created, (await host.Client.PutAsync("/api/v1/objects/takedown.png", TestFiles.Raw(TestFiles.Png(), "image/png"))).StatusCode);
        await Task.Delay(500);
        Assert.Equal(HttpStatusCode.NoContent, (await host.Client.DeleteAsync("/api/v1/objects/takedown.png")).StatusCode);
        Assert.Equal([["pending"]], host.Query("SELECT state FROM purges").Select(r => r.ToList()));

        await host.KillAsync();
        Assert.Empty(cdn.Requests("/hooks/purge"));
        await host.StartAsync();

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (host.Query("SELECT state FROM purges").Single()[0] is not "sent")
        {
            Assert.True(DateTime.UtcNow < deadline, "The purge was not sent after the restart." + host.Output);
            await Task.Delay(100);
        }

        var hook = Assert.Single(cdn.Requests("/hooks/purge"));
        CdnTestServer.AssertSigned(hook);
        var sent = JsonNode.Parse(hook.RequestMessage.Body!)!;
        Assert.Equal(("deleted", "takedown.png", host.BaseUrl + "takedown.png"), ((string?)sent["event"], (string?)sent["key"], (string?)sent["url"]));

        // The metrics count it, and the queue the worker saw at its start held it.
        var metrics = await host.Client.GetStringAsync("/metrics");
        Assert.Matches(@"(?m)^edgerouter_cdn_purges_total\{[^}]*outcome=""sent""[^}]*target=""hook""[^}]*\} 1\b", metrics);
        Assert.Matches(@"(?m)^edgerouter_cdn_purge_queue_pending(\{[^}]*\})? [01]\b", metrics);
        Assert.Matches(@"(?m)^edgerouter_cdn_purge_queue_age_seconds(\{[^}]*\})? \d", metrics);
    }
}

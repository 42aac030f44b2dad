namespace EdgeRouter.Tests.Jobs;

public sealed class JobRunnerTests
{
    [Fact]
    public async Task AJobQueuedThroughThisInstance_StartsAtOnce_NotAtTheNextPoll()
    {
        // An hour between polls: only the wake-up of each POST can start its job before WaitAsync gives up (30 s).
        using var router = JobsTestRouter.Create(
            """{ "id": "local", "api": "local", "root": "data/local", "read": "stream" }""",
            new Dictionary<string, string?> { ["EdgeRouter:Jobs:PollInterval"] = "01:00:00" });
        using var admin = JobsTestRouter.AdminClient(router);
        await Task.Delay(500); // the runner's first look, at start, is over: it now waits for its next poll

        var first = await JobsTestRouter.WaitAsync(admin, await JobsTestRouter.StartAsync(admin, """{ "kind": "verify", "storage": "local" }"""), TimeSpan.FromSeconds(30));
        var second = await JobsTestRouter.WaitAsync(admin, await JobsTestRouter.StartAsync(admin, """{ "kind": "verify", "storage": "local" }"""), TimeSpan.FromSeconds(30));

        Assert.Equal("succeeded", (string?)first["state"]);
        Assert.Equal("succeeded", (string?)second["state"]);
    }
}

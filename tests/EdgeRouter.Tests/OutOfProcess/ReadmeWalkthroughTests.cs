using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.OutOfProcess;

/// <summary>README's curl walk-through, run as written against the built router on its shipped defaults.</summary>
public sealed class ReadmeWalkthroughTests
{
    [Fact]
    public async Task TheWalkthrough_RunsAsWritten_AndEveryStatusItPromisesComesBack()
    {
        var readme = await File.ReadAllLinesAsync(Path.Combine(Repository.Root, "README.md"));
        var start = Array.FindIndex(readme, l => l.StartsWith("### A walk-through with curl", StringComparison.Ordinal));
        var open = Array.FindIndex(readme, start, l => l == "```bash");
        var close = Array.FindIndex(readme, open + 1, l => l == "```");
        await using var host = new RouterHost();
        await host.StartAsync();
        var script = string.Join('\n', readme[(open + 1)..close])
            .Replace("KEY=change-me-to-a-long-random-key", "KEY=" + RouterHost.ApiKey, StringComparison.Ordinal)
            .Replace("http://localhost:5080", host.BaseUrl.TrimEnd('/'), StringComparison.Ordinal);
        var folder = Directory.CreateTempSubdirectory("edgerouter-walk-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(folder, "walk.sh"), "set -eu\n" + script);

            var (exit, output) = Commands.RunIn(folder, "bash", "walk.sh");

            Assert.True(exit == 0, output);
            var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            Assert.Equal(["same bytes", "200", "206", "304", "204", "404"], lines[^6..]);
            Assert.Contains(lines, l => l.StartsWith("{\"key\":", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}

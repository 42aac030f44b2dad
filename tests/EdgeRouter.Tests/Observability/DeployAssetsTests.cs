using System.Net;
using System.Text.RegularExpressions;
using EdgeRouter.Tests.OutOfProcess;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.Observability;

/// <summary>deploy/: the alert rules pass promtool, and every metric the rules and the dashboard name is one a live router exports.</summary>
public sealed partial class DeployAssetsTests
{
    private static readonly string Rules = Path.Combine(Repository.Root, "deploy", "prometheus", "alerts.yml");
    private static readonly string Dashboard = Path.Combine(Repository.Root, "deploy", "grafana", "edgerouter.json");

    [Fact]
    public void TheAlertRules_PassPromtool()
    {
        var (exitCode, output) = Commands.Run("/usr/bin/promtool", "check", "rules", Rules);

        Assert.True(exitCode == 0, output);
        Assert.Contains("SUCCESS: 7 rules found", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryMetricTheRulesTheDashboardAndReadmesTableName_IsOneALiveRouterExports()
    {
        var named = MetricName().Matches(File.ReadAllText(Rules) + File.ReadAllText(Dashboard)).Select(m => m.Value).ToHashSet(StringComparer.Ordinal);
        Assert.True(named.Count >= 12, string.Join(", ", named));

        // README's table of the router's own metrics names histograms without the suffixes of their series.
        var readme = File.ReadAllText(Path.Combine(Repository.Root, "README.md"));
        var table = readme[readme.IndexOf("| metric | type |", StringComparison.Ordinal)..];
        table = table[..table.IndexOf("\n\n", StringComparison.Ordinal)];
        var documented = MetricName().Matches(table).Select(m => m.Value).Where(name => name.StartsWith("edgerouter_", StringComparison.Ordinal)).ToHashSet(StringComparer.Ordinal);
        Assert.True(documented.Count >= 18, string.Join(", ", documented));
        named.UnionWith(documented);

        // A storage nothing answers (uploads fail over from it), a capacity, a change channel nothing listens on (its
        // announcements fail), and a janitor that runs each second: every series the assets use then exists.
        await using var router = new RouterHost(
            new Dictionary<string, string>
            {
                ["EdgeRouter__Catalog__Redis"] = $"127.0.0.1:{ServerProcess.FreePort()}",
                ["EdgeRouter__Catalog__DeleteGrace"] = "00:00:01",
                ["EdgeRouter__Catalog__CacheTtl"] = "00:00:01",
                ["EdgeRouter__Catalog__JanitorInterval"] = "00:00:01",
            },
            storagesJson: $$"""
            { "storages": [
              { "id": "local", "api": "local", "root": "data/storage", "read": "stream", "weight": 1, "capacity": 100000000 },
              { "id": "gone", "api": "s3compatible", "read": "stream", "weight": 1000, "endpoint": "http://127.0.0.1:{{ServerProcess.FreePort()}}",
                "pathStyle": true, "bucket": "bucket", "accessKey": "AKIAEXAMPLE", "secretKey": "secret" } ] }
            """);
        await router.StartAsync();
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.Created, (await router.Client.PutAsync($"/api/v1/objects/assets/{i}.png", TestFiles.Raw(TestFiles.Png(), "image/png"))).StatusCode);
        }

        await router.Client.GetAsync("/assets/0.png");
        await router.Client.GetAsync("/assets/none.png");
        await router.Client.DeleteAsync("/api/v1/objects/assets/1.png");
        var storagesFile = Path.Combine(router.Root, "config", "storages.json");
        await File.WriteAllTextAsync(storagesFile, await File.ReadAllTextAsync(storagesFile)); // read again: a reload

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var exported = await router.Client.GetStringAsync("/metrics");
            var missing = named.Where(name => !Regex.IsMatch(exported, $"^{name}(?:_bucket|_count|_sum)?[{{ ]", RegexOptions.Multiline)).ToList();
            if (missing.Count == 0)
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Not exported by a live router: {string.Join(", ", missing)}");
            await Task.Delay(500);
        }
    }

    [GeneratedRegex(@"\b(?:edgerouter|http_server|kestrel)_[a-z_]+\b")]
    private static partial Regex MetricName();
}

using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.Observability;

/// <summary>
/// Debian's Prometheus on loopback, scraping the given targets every second, with its data in a temporary folder.
/// Its query API answers what it has scraped.
/// </summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("edgerouter-prometheus-").FullName;
    private readonly ServerProcess _server;
    private readonly HttpClient _api;

    public PrometheusServer(params string[] targets)
    {
        var port = ServerProcess.FreePort();
        File.WriteAllText(Path.Combine(_folder, "prometheus.yml"), $$"""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: edgerouter
                static_configs:
                  - targets: [{{string.Join(", ", targets.Select(t => $"'{t}'"))}}]
            """);
        _server = new ServerProcess("prometheus", "/usr/bin/prometheus",
        [
            "--config.file=" + Path.Combine(_folder, "prometheus.yml"), "--storage.tsdb.path=" + Path.Combine(_folder, "data"),
            "--web.listen-address=127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture),
        ], port, _folder);
        _api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/") };
    }

    public Task StartAsync() => _server.StartAsync(TimeSpan.FromSeconds(30));

    /// <summary>An instant query's samples, each as its labels and value.</summary>
    public async Task<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)>> QueryAsync(string promql)
    {
        var answer = await _api.GetFromJsonAsync<JsonElement>("api/v1/query?query=" + Uri.EscapeDataString(promql));
        Assert.Equal("success", answer.GetProperty("status").GetString());
        return [.. answer.GetProperty("data").GetProperty("result").EnumerateArray().Select(sample => (
            (IReadOnlyDictionary<string, string>)sample.GetProperty("metric").EnumerateObject().ToDictionary(l => l.Name, l => l.Value.GetString()!),
            double.Parse(sample.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture)))];
    }

    /// <summary>What Prometheus says of its scrape targets (health and last error).</summary>
    public async Task<string> TargetsAsync() => await _api.GetStringAsync("api/v1/targets");

    public async ValueTask DisposeAsync()
    {
        _api.Dispose();
        await _server.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }
}

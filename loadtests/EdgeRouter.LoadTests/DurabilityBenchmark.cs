using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace EdgeRouter.LoadTests;

/// <summary>
/// What a durable 201 costs: uploads to Local storage on SQLite with <c>Uploads:SyncToDisk</c> on (the default: the
/// file and its folder flushed, the catalog committed with synchronous=FULL) against off, two routers side by side,
/// alternating rounds so drift hits both. Reports milliseconds per upload and their ratio, one client and eight.
/// </summary>
internal static class DurabilityBenchmark
{
    private const string ApiKey = "loadtest-key";

    public static async Task<int> RunAsync(int count, int rounds, string resultsRoot, CancellationToken cancellationToken)
    {
        Processes.Run("dotnet", "build", "src/EdgeRouter/EdgeRouter.csproj", "-c", "Release", "-v", "q", "-nologo");
        var work = Directory.CreateTempSubdirectory("edgerouter-durability-bench-").FullName;
        await using var processes = new Processes();
        try
        {
            var routers = new Dictionary<bool, string>();
            foreach (var sync in new[] { true, false })
            {
                var root = Path.Combine(work, sync ? "synced" : "unsynced");
                Directory.CreateDirectory(Path.Combine(root, "config"));
                await File.WriteAllTextAsync(
                    Path.Combine(root, "config", "storages.json"),
                    """{ "storages": [ { "id": "local", "api": "local", "root": "./data/storage", "read": "stream", "keyLayout": "direct" } ] }""",
                    cancellationToken);
                var port = Processes.FreePort();
                var router = processes.Start($"router-{(sync ? "synced" : "unsynced")}", "dotnet", [Path.Combine(Processes.RepositoryRoot, "src/EdgeRouter/bin/Release/net10.0/EdgeRouter.dll"), "--urls", $"http://127.0.0.1:{port}"],
                    new Dictionary<string, string>
                    {
                        ["EDGEROUTER_API_KEY"] = ApiKey,
                        ["EdgeRouter__SiteUrl"] = $"http://127.0.0.1:{port}/",
                        ["EdgeRouter__Uploads__SyncToDisk"] = sync ? "true" : "false",
                        ["EdgeRouter__Uploads__SpoolDirectory"] = Path.Combine(root, "spool"),
                        ["Logging__LogLevel__Default"] = "Warning",
                    },
                    workingDirectory: root);
                await Processes.WaitForPortAsync(port, router, "router");
                routers[sync] = $"http://127.0.0.1:{port}";
            }

            using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
            var cases = new[] { ("1 KB", 1024, 1), ("1 KB", 1024, 8), ("1 MB", 1024 * 1024, 1), ("1 MB", 1024 * 1024, 8) };
            var best = new Dictionary<(string, int, bool), double>();
            for (var round = 1; round <= rounds; round++)
            {
                foreach (var (label, size, clients) in cases)
                {
                    foreach (var sync in new[] { true, false })
                    {
                        var ms = await MeasureAsync(http, routers[sync], size, count, clients, cancellationToken);
                        best[(label, clients, sync)] = Math.Min(best.GetValueOrDefault((label, clients, sync), double.MaxValue), ms);
                        Console.WriteLine($"  round {round}/{rounds}: {label}, {clients} client(s), sync {(sync ? "on " : "off")}: {ms:0.000} ms per upload");
                    }
                }
            }

            var summary = new StringBuilder().AppendLine(CultureInfo.InvariantCulture, $"Uploads to Local + SQLite, {count} per case, best of {rounds} rounds (ms per upload, wall clock / uploads):");
            summary.AppendLine("  size   clients   SyncToDisk=true   SyncToDisk=false   cost");
            foreach (var (label, _, clients) in cases)
            {
                var on = best[(label, clients, true)];
                var off = best[(label, clients, false)];
                summary.AppendLine(CultureInfo.InvariantCulture, $"  {label,-6} {clients,7}   {on,15:0.000}   {off,16:0.000}   {on / off,4:0.00}x (+{on - off:0.000} ms)");
            }

            var folder = Path.Combine(resultsRoot, DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
            Directory.CreateDirectory(folder);
            var report = best.Select(b => new { size = b.Key.Item1, clients = b.Key.Item2, syncToDisk = b.Key.Item3, msPerUpload = Math.Round(b.Value, 3) });
            await File.WriteAllTextAsync(Path.Combine(folder, "upload-durability.json"), JsonSerializer.Serialize(report, Report.Json), cancellationToken);
            await File.WriteAllTextAsync(Path.Combine(folder, "upload-durability.md"), "```\n" + summary + "```\n", cancellationToken);
            Console.Write(summary);
            Console.WriteLine($"Results: {folder}");
            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>Wall-clock milliseconds per upload of <paramref name="count"/> uploads by <paramref name="clients"/> clients at once.</summary>
    private static async Task<double> MeasureAsync(HttpClient http, string router, int size, int count, int clients, CancellationToken cancellationToken)
    {
        var body = RandomPng.Create(size);
        var next = 0;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) <= count)
            {
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
                using var response = await http.PostAsync(router + "/api/v1/objects", content, cancellationToken);
                if (!response.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException($"The router answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
                }
            }
        }));
        return watch.Elapsed.TotalMilliseconds / count;
    }
}

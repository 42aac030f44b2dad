using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace EdgeRouter.LoadTests;

/// <summary>Settings of one read load-test run; every one is a command-line option.</summary>
public sealed record ReadSettings(
    int Objects,
    TimeSpan Duration,
    TimeSpan WarmUp,
    int Repeats,
    int Connections,
    int Threads,
    bool Pin,
    bool Smoke,
    IReadOnlySet<string>? Only,
    SharedCatalog? Shared = null,
    bool Telemetry = false);

/// <summary>Run the router on a PostgreSQL catalog and Redis (the scale-out configuration) instead of SQLite.</summary>
public sealed record SharedCatalog(string PostgresConnection, string Redis);

/// <summary>
/// A router configuration measured as a target of its own: <c>edgerouter</c> is the shipped one; with
/// <c>--telemetry</c> it is measured beside <c>edgerouter-off</c> (no metrics), <c>edgerouter-otlp</c> (metrics and
/// logs also exported over OTLP, no traces), <c>edgerouter-traced</c> (OTLP export of metrics, logs and traces at the
/// default 1 %) and <c>edgerouter-traced-scraped</c> (metrics scraped only, traces and logs over OTLP), to a sink that
/// answers 200.
/// </summary>
public sealed record RouterVariant(string Name, IReadOnlyDictionary<string, string> Environment)
{
    public const string Shipped = "edgerouter";
    public const string Reference = "edgerouter-off";

    public static IReadOnlyList<RouterVariant> For(ReadSettings settings, string otlpSink) => settings.Telemetry
        ?
        [
            new(Reference, new Dictionary<string, string> { ["EdgeRouter__Metrics__Enabled"] = "false" }),
            new(Shipped, new Dictionary<string, string>()),
            new("edgerouter-otlp", new Dictionary<string, string> { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlpSink, ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf", ["OTEL_TRACES_EXPORTER"] = "none" }),
            new("edgerouter-traced", new Dictionary<string, string> { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlpSink, ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf" }),
            new("edgerouter-traced-scraped", new Dictionary<string, string> { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlpSink, ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf", ["OTEL_METRICS_EXPORTER"] = "none" }),
        ]
        : [new(Shipped, new Dictionary<string, string>())];

    public static bool IsRouter(string target) => target.StartsWith(Shipped, StringComparison.Ordinal);
}

/// <summary>One measured run of a scenario on one target; for a crawl scenario on the router, what the crawl did to it.</summary>
public sealed record Measurement(WrkResult Wrk, double CpuUsPerRequest, CrawlFigures? Crawl = null);

/// <summary>Under a crawl: the hot set's origin cache hit ratio, the gen2 collections during the run, and the router's peak RSS.</summary>
public sealed record CrawlFigures(double HotHitRatio, double Gen2Collections, double PeakRssMB, double OriginCacheMB);

/// <summary>A pass-or-fail check of a run that is not a throughput figure (the stampede's backend reads).</summary>
public sealed record Check(string Name, string Result, bool Passed);

/// <summary>
/// Read throughput of one EdgeRouter instance against nginx baselines in the same run: seeds objects through the
/// router's upload API, then, for each repeat (fresh processes), warms the router up and runs every scenario on the
/// router and on its baseline in turn, so drift hits both. Servers run on core 1 and wrk on core 0.
/// </summary>
internal static class ReadLoadTest
{
    private const string ApiKey = "loadtest-key";
    private static readonly string[] ReportFiles = ["report.json", "report.md", "chart.svg"];

    public static async Task<int> RunAsync(ReadSettings settings, string resultsRoot, CancellationToken cancellationToken)
    {
        Processes.Run("bash", "scripts/test-deps.sh");
        Processes.Run("dotnet", "build", "src/EdgeRouter/EdgeRouter.csproj", "-c", "Release", "-v", "q", "-nologo");

        var scenarios = Scenarios.All.Where(s => settings.Only is null || settings.Only.Contains(s.Name)).ToList();
        var work = Directory.CreateTempSubdirectory("edgerouter-reads-").FullName;
        var files = Path.Combine(work, "files");
        Directory.CreateDirectory(files);
        Directory.CreateDirectory(Path.Combine(work, "config"));
        File.SetUnixFileMode(work, (UnixFileMode)0x1ED); // 755: nginx workers run as another user
        var ports = new Ports(Processes.FreePort(), Processes.FreePort(), Processes.FreePort(), Processes.FreePort(), Processes.FreePort(), Processes.FreePort());
        var variants = RouterVariant.For(settings, $"http://127.0.0.1:{ports.OtlpSink}");
        await File.WriteAllTextAsync(Path.Combine(work, "nginx.conf"), NginxConfig(ports, files, work), cancellationToken);

        try
        {
            // 1. Seed through the real upload API, one key set (owning storage) at a time.
            Dictionary<string, string> keyFiles;
            await using (var seeding = new Processes())
            {
                await StartRouterAsync(seeding, work, ports, files, "redirect", pin: false, cacheEntries: null, originCacheBytes: null, settings.Shared, variants[0]);
                keyFiles = await SeedAsync(work, ports, files, settings.Objects, scenarios, cancellationToken);
            }

            // 2. Measure: fresh processes for each repeat.
            var measurements = new Dictionary<(string Scenario, string Target), List<Measurement>>();
            var checks = new List<Check>();
            for (var repeat = 1; repeat <= settings.Repeats; repeat++)
            {
                await using var servers = new Processes();
                var nginx = servers.Start("nginx", settings.Pin ? "taskset" : "/usr/sbin/nginx",
                    [.. settings.Pin ? ["-c", "1", "/usr/sbin/nginx"] : Array.Empty<string>(), "-p", work, "-c", Path.Combine(work, "nginx.conf"), "-e", Path.Combine(work, "nginx-error.log")]);
                await Processes.WaitForPortAsync(ports.Direct, nginx, "nginx");

                // Scenarios that need another catalog cache size, or an origin cache sized to their crawl, run on their own
                // router, started and warmed up for them. Router variants take turns, in an order that rotates with the
                // repeat, so drift hits each alike.
                foreach (var group in scenarios.GroupBy(s => (s.CatalogCacheEntries, OriginCacheBytes: OriginCacheBytes(s, keyFiles))))
                {
                    for (var v = 0; v < variants.Count; v++)
                    {
                        var variant = variants[(v + repeat - 1) % variants.Count];
                        await using var routerProcess = new Processes();
                        var router = await StartRouterAsync(routerProcess, work, ports, files, "redirect", settings.Pin, group.Key.CatalogCacheEntries, group.Key.OriginCacheBytes, settings.Shared, variant);
                        var groupScenarios = group.ToList();
                        var measured = groupScenarios.Where(s => s.Keys != KeyChoice.Stampede).ToList();
                        Progress($"repeat {repeat}/{settings.Repeats}: warming {variant.Name}{(group.Key.CatalogCacheEntries is { } entries ? $" (catalog cache {entries} entries)" : string.Empty)}{(group.Key.OriginCacheBytes is { } bytes ? $" (origin cache {bytes / 1e6:0.#} MB)" : string.Empty)} up for {settings.WarmUp.TotalSeconds:0} s");
                        var warmSlice = TimeSpan.FromSeconds(Math.Max(1, settings.WarmUp.TotalSeconds / Math.Max(1, measured.Count)));
                        foreach (var scenario in measured)
                        {
                            await Wrk.RunAsync(scenario, ports.RouterUrl, keyFiles, warmSlice, settings.Connections, settings.Threads, settings.Pin, work, cancellationToken);
                        }

                        foreach (var scenario in groupScenarios)
                        {
                            if (scenario.Keys == KeyChoice.Stampede)
                            {
                                checks.Add(await StampedeAsync(ports, keyFiles[scenario.KeySet], $"repeat {repeat}, {variant.Name}", cancellationToken));
                                continue;
                            }

                            // The nginx baseline once per repeat, beside the first variant.
                            foreach (var target in v == 0 ? new[] { Target.Router, scenario.Baseline } : [Target.Router])
                            {
                                var name = target == Target.Router ? variant.Name : Name(target);
                                Progress($"repeat {repeat}/{settings.Repeats}: {scenario.Name} on {name} for {settings.Duration.TotalSeconds:0} s");
                                var process = target == Target.Router ? router : nginx;
                                var hotStorage = target == Target.Router && scenario.ScanKeySet is not null ? Scenarios.KeySets.Single(k => k.Name == scenario.KeySet).Storage : null;
                                var crawlBefore = hotStorage is null ? default : await CrawlStateAsync(ports, hotStorage, cancellationToken);
                                var cpuBefore = CpuTicks(process);
                                var result = await Wrk.RunAsync(scenario, ports.UrlOf(target), keyFiles, settings.Duration, settings.Connections, settings.Threads, settings.Pin, work, cancellationToken);
                                var cpuUs = (CpuTicks(process) - cpuBefore) * (1_000_000.0 / 100);
                                CrawlFigures? crawl = null;
                                if (hotStorage is not null)
                                {
                                    var after = await CrawlStateAsync(ports, hotStorage, cancellationToken);
                                    var (hits, all) = (after.Hits - crawlBefore.Hits, after.Hits + after.Misses - crawlBefore.Hits - crawlBefore.Misses);
                                    crawl = new CrawlFigures(all == 0 ? 0 : hits / all, after.Gen2 - crawlBefore.Gen2, PeakRssMB(router), group.Key.OriginCacheBytes!.Value / 1e6);
                                }

                                if (!measurements.TryGetValue((scenario.Name, name), out var list))
                                {
                                    measurements[(scenario.Name, name)] = list = [];
                                }

                                list.Add(new Measurement(result, result.Requests == 0 ? 0 : cpuUs / result.Requests, crawl));
                            }
                        }
                    }
                }
            }

            Console.WriteLine();
            var folder = Path.Combine(resultsRoot, DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
            var report = ReadReport.Build(settings, scenarios, measurements, checks);
            await ReadReport.WriteAsync(report, folder, cancellationToken);
            Console.WriteLine($"Results: {folder}");
            return settings.Smoke ? SmokeVerdict(report, folder) : 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static int SmokeVerdict(ReadReport.Document report, string folder)
    {
        var problems = report.Rows.Where(r => r.Requests == 0 || r.Errors > 0).Select(r => $"{r.Scenario} on {r.Target}: {r.Requests} requests, {r.Errors} errors").ToList();
        problems.AddRange(report.Checks.Where(c => !c.Passed).Select(c => $"{c.Name}: {c.Result}"));
        problems.AddRange(ReportFiles.Where(f => !File.Exists(Path.Combine(folder, f))).Select(f => $"{f} was not written"));
        foreach (var problem in problems)
        {
            Console.Error.WriteLine($"smoke: {problem}");
        }

        Console.WriteLine(problems.Count == 0 ? "smoke: every scenario answered with no errors; reports written." : "smoke: FAILED");
        return problems.Count == 0 ? 0 : 1;
    }

    private static async Task<Process> StartRouterAsync(Processes processes, string work, Ports ports, string files, string seedingStorage, bool pin, int? cacheEntries, long? originCacheBytes, SharedCatalog? shared, RouterVariant variant)
    {
        await WriteStoragesAsync(work, ports, files, seedingStorage);
        string[] router = ["dotnet", Path.Combine(Processes.RepositoryRoot, "src/EdgeRouter/bin/Release/net10.0/EdgeRouter.dll"), "--urls", ports.RouterUrl];
        var process = processes.Start("router", pin ? "taskset" : router[0], pin ? ["-c", "1", .. router] : router[1..],
            new Dictionary<string, string>(Cache(cacheEntries, originCacheBytes).Concat(Shared(shared)).Concat(variant.Environment))
            {
                ["EDGEROUTER_API_KEY"] = ApiKey,
                ["EdgeRouter__SiteUrl"] = ports.RouterUrl + "/",
                ["EdgeRouter__Uploads__MaxUploadBytes"] = "4194304",
                ["EdgeRouter__Uploads__SpoolDirectory"] = Path.Combine(work, "spool"),
                ["Logging__LogLevel__Default"] = "Warning",
            },
            workingDirectory: work);
        await Processes.WaitForPortAsync(ports.Router, process, "router");
        return process;

        static IEnumerable<KeyValuePair<string, string>> Shared(SharedCatalog? shared) => shared is null ? [] :
        [
            new("EdgeRouter__Catalog__Provider", "postgres"),
            new("EdgeRouter__Catalog__ConnectionString", shared.PostgresConnection),
            new("EdgeRouter__Catalog__Redis", shared.Redis),
        ];

        static IEnumerable<KeyValuePair<string, string>> Cache(int? entries, long? originCacheBytes)
        {
            if (entries is { } n)
            {
                yield return new("EdgeRouter__Catalog__CacheEntryLimit", n.ToString(CultureInfo.InvariantCulture));
            }

            if (originCacheBytes is { } bytes)
            {
                yield return new("EdgeRouter__OriginCache__MemoryBytes", bytes.ToString(CultureInfo.InvariantCulture));
                yield return new("EdgeRouter__OriginCache__MaxObjectBytes", Math.Min(bytes, 1024 * 1024).ToString(CultureInfo.InvariantCulture));
            }
        }
    }

    /// <summary>
    /// Local storages on one folder (which nginx serves), one per read mode, and the same with the origin cache on
    /// (<c>proxy</c> and <c>stream</c> without it are the figures from before it); only <paramref name="seeding"/>
    /// takes uploads.
    /// </summary>
    private static Task WriteStoragesAsync(string work, Ports ports, string files, string seeding)
    {
        string Entry(string id, string read, string? url, bool cache) => $$"""
            { "id": "{{id}}", "api": "local", "root": "{{files}}", "read": "{{read}}", "weight": {{(id == seeding ? 1 : 0)}}{{(url is null ? string.Empty : $", \"storageUrl\": \"{url}\"")}}{{(read == "redirect" ? string.Empty : $", \"cache\": {(cache ? "true" : "false")}")}} }
            """;
        var direct = $"http://127.0.0.1:{ports.Direct}/";
        string[] storages =
        [
            Entry("redirect", "redirect", direct, cache: false),
            Entry("proxy", "proxy", direct, cache: false),
            Entry("stream", "stream", null, cache: false),
            Entry("proxy-cached", "proxy", direct, cache: true),
            Entry("stream-cached", "stream", null, cache: true),
            Entry("scan", "stream", null, cache: true),
        ];
        return File.WriteAllTextAsync(Path.Combine(work, "config", "storages.json"), $$"""{ "storages": [ {{string.Join(", ", storages)}} ] }""");
    }

    /// <summary>A crawl scenario's origin cache: a tenth of the crawled set's bytes.</summary>
    private static long? OriginCacheBytes(Scenario scenario, Dictionary<string, string> keyFiles)
        => scenario.ScanKeySet is { } scan ? File.ReadLines(keyFiles[scan]).LongCount() * Scenarios.KeySets.Single(k => k.Name == scan).SizeBytes / 10 : null;

    /// <summary>The router's origin cache lookups of one storage and its gen2 collections so far, from its <c>/metrics</c>.</summary>
    private static async Task<(double Hits, double Misses, double Gen2)> CrawlStateAsync(Ports ports, string storage, CancellationToken cancellationToken)
    {
        using var http = new HttpClient();
        var text = await http.GetStringAsync(ports.RouterUrl + "/metrics", cancellationToken);
        return (
            MetricSum(text, "edgerouter_origin_cache_lookups_total", $"storage=\"{storage}\"", "result=\"hit\""),
            MetricSum(text, "edgerouter_origin_cache_lookups_total", $"storage=\"{storage}\"", "result=\"miss\""),
            MetricSum(text, "dotnet_gc_collections_total", "gc_heap_generation=\"gen2\""));
    }

    /// <summary>The process's peak resident set (VmHWM), in MB.</summary>
    private static double PeakRssMB(Process process)
    {
        var line = File.ReadLines($"/proc/{process.Id}/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
    }

    /// <summary>The sum of a metric's samples in Prometheus text whose labels include every one of <paramref name="labels"/>.</summary>
    private static double MetricSum(string text, string name, params string[] labels) => text.Split('\n')
        .Where(l => l.StartsWith(name, StringComparison.Ordinal) && l.Length > name.Length && l[name.Length] is '{' or ' ' && labels.All(label => l.Contains(label, StringComparison.Ordinal)))
        .Sum(l => double.Parse((l.Contains('}') ? l[(l.LastIndexOf('}') + 1)..] : l[name.Length..]).Trim().Split(' ')[0], CultureInfo.InvariantCulture));

    /// <summary>
    /// 1,000 requests at once for one key no request read yet (the router is fresh): every one must get the whole
    /// object, and the origin cache must have read it from the backend once.
    /// </summary>
    private static async Task<Check> StampedeAsync(Ports ports, string keysFile, string when, CancellationToken cancellationToken)
    {
        const int Requests = 1000;
        var key = (await File.ReadAllLinesAsync(keysFile, cancellationToken))[0];
        var size = Scenarios.KeySets.Single(k => k.Name == "stampede-100KB").SizeBytes;
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Requests });
        async Task<double> FilledAsync() => MetricSum(await http.GetStringAsync(ports.RouterUrl + "/metrics", cancellationToken), "edgerouter_origin_cache_filled_bytes_total");

        var before = await FilledAsync();
        var whole = await Task.WhenAll(Enumerable.Range(0, Requests).Select(async _ =>
        {
            using var response = await http.GetAsync(ports.RouterUrl + key, cancellationToken);
            return response.IsSuccessStatusCode && (await response.Content.ReadAsByteArrayAsync(cancellationToken)).Length == size;
        }));
        var reads = (await FilledAsync() - before) / size;
        var complete = whole.Count(w => w);
        return new Check("stampede", $"{when}: {complete}/{Requests} concurrent requests for one cold {size / 1024} KB key got the whole object; backend reads: {reads:0.##}", complete == Requests && reads == 1);
    }

    private static async Task<Dictionary<string, string>> SeedAsync(string work, Ports ports, string files, int objects, IReadOnlyList<Scenario> scenarios, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = new Uri(ports.RouterUrl) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
        var keyFiles = new Dictionary<string, string>();
        var needed = scenarios.SelectMany(s => new[] { s.KeySet, s.ScanKeySet }).ToHashSet();
        foreach (var set in Scenarios.KeySets.Where(k => needed.Contains(k.Name)))
        {
            // Send uploads to the set's storage only, through the router's hot reload of storages.json.
            await WriteStoragesAsync(work, ports, files, set.Storage);
            var body = RandomPng.Create(set.SizeBytes);
            await WaitForPlacementAsync(http, body, set.Storage, cancellationToken);

            var count = Math.Max(10, (int)(objects * set.ShareOfObjects));
            var keys = new string[count];
            var done = 0;
            await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (i, ct) =>
            {
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
                using var response = await http.PostAsync("/api/v1/objects", content, ct);
                var created = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
                if (!response.IsSuccessStatusCode || created.GetProperty("storage").GetString() != set.Storage)
                {
                    throw new InvalidOperationException($"Seeding {set.Name} failed: {(int)response.StatusCode} {created}");
                }

                keys[i] = "/" + created.GetProperty("key").GetString();
                if (Interlocked.Increment(ref done) % 250 == 0)
                {
                    Progress($"seeding {set.Name}: {done}/{count}");
                }
            });

            var path = Path.Combine(work, $"keys-{set.Name}.txt");
            await File.WriteAllLinesAsync(path, keys, cancellationToken);
            keyFiles[set.Name] = path;
            Progress($"seeded {set.Name}: {count} objects of {set.SizeBytes} bytes on storage '{set.Storage}'");
            Console.WriteLine();
        }

        return keyFiles;
    }

    private static async Task WaitForPlacementAsync(HttpClient http, byte[] body, string storage, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            var created = await (await http.PostAsync("/api/v1/objects", content, cancellationToken)).Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
            await http.DeleteAsync("/api/v1/objects/" + created.GetProperty("key").GetString(), cancellationToken);
            if (created.GetProperty("storage").GetString() == storage)
            {
                return;
            }

            await Task.Delay(200, cancellationToken);
        }

        throw new TimeoutException($"The router did not pick up the storages.json that sends uploads to '{storage}'.");
    }

    /// <summary>User plus system CPU ticks (1/100 s) of a process and all its children (nginx workers).</summary>
    private static long CpuTicks(Process process)
    {
        long total = 0;
        foreach (var stat in Directory.EnumerateDirectories("/proc").Select(d => Path.Combine(d, "stat")))
        {
            try
            {
                var text = File.ReadAllText(stat);
                var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
                var pid = int.Parse(Path.GetFileName(Path.GetDirectoryName(stat))!, CultureInfo.InvariantCulture);
                var parent = int.Parse(fields[1], CultureInfo.InvariantCulture);
                if (pid == process.Id || parent == process.Id)
                {
                    total += long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
                }
            }
            catch (Exception ex) when (ex is IOException or FormatException or UnauthorizedAccessException or ArgumentOutOfRangeException)
            {
                // Not a process folder, or the process ended meanwhile.
            }
        }

        return total;
    }

    private static string NginxConfig(Ports ports, string files, string work) => $$"""
        worker_processes 1;
        daemon off;
        pid {{work}}/nginx.pid;
        error_log {{work}}/nginx-error.log warn;
        events { worker_connections 4096; }
        http {
            access_log off;
            sendfile on;
            tcp_nopush on;
            tcp_nodelay on;
            keepalive_requests 1000000;
            keepalive_timeout 65;
            types { image/png png; image/jpeg jpg; }
            default_type application/octet-stream;
            client_body_temp_path {{work}}/nginx-body;
            proxy_temp_path {{work}}/nginx-proxy;
            fastcgi_temp_path {{work}}/nginx-fastcgi;
            uwsgi_temp_path {{work}}/nginx-uwsgi;
            scgi_temp_path {{work}}/nginx-scgi;
            upstream files { server 127.0.0.1:{{ports.Direct}}; keepalive 64; }
            # The files, served directly: the backend of proxy mode and the "direct" baseline.
            server { listen 127.0.0.1:{{ports.Direct}}; root {{files}}; }
            # proxy_pass with upstream keepalive: the baseline of proxy mode.
            server {
                listen 127.0.0.1:{{ports.Proxy}};
                location / { proxy_pass http://files; proxy_http_version 1.1; proxy_set_header Connection ""; }
            }
            # proxy_pass with proxy_cache (a lock, as the router's): after the warm-up every request is a HIT.
            proxy_cache_path {{work}}/nginx-cache levels=1:2 keys_zone=files:16m max_size=4g inactive=1h use_temp_path=off;
            server {
                listen 127.0.0.1:{{ports.ProxyCache}};
                location / {
                    proxy_pass http://files; proxy_http_version 1.1; proxy_set_header Connection "";
                    proxy_cache files; proxy_cache_valid 200 1h; proxy_cache_lock on;
                }
            }
            # return 302: the baseline of redirect mode.
            server { listen 127.0.0.1:{{ports.Redirect}}; location / { return 302 http://127.0.0.1:{{ports.Direct}}$request_uri; } }
            # An OTLP/HTTP sink that takes every export (an empty body is an empty, successful response).
            server { listen 127.0.0.1:{{ports.OtlpSink}}; location / { return 200; } }
        }
        """;

    private static string Name(Target target) => target switch
    {
        Target.Router => "edgerouter",
        Target.NginxDirect => "nginx-direct",
        Target.NginxProxyPass => "nginx-proxy_pass",
        Target.NginxProxyCache => "nginx-proxy_cache",
        _ => "nginx-return-302",
    };

    private static void Progress(string line) => Console.Write($"\r{line,-110}");

    private sealed record Ports(int Router, int Direct, int Proxy, int Redirect, int OtlpSink, int ProxyCache)
    {
        public string RouterUrl => $"http://127.0.0.1:{Router}";

        public string UrlOf(Target target) => target switch
        {
            Target.Router => RouterUrl,
            Target.NginxDirect => $"http://127.0.0.1:{Direct}",
            Target.NginxProxyPass => $"http://127.0.0.1:{Proxy}",
            Target.NginxProxyCache => $"http://127.0.0.1:{ProxyCache}",
            _ => $"http://127.0.0.1:{Redirect}",
        };
    }
}

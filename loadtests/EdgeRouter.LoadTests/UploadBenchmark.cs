using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using EdgeRouter.Storage;

namespace EdgeRouter.LoadTests;

/// <summary>
/// A large upload through the router to a real S3 server (s3rver), against the same upload straight to the
/// server with the SDK, alternating the two so drift hits both. Reports throughput, their ratio and the
/// router's peak RSS.
/// </summary>
internal static class UploadBenchmark
{
    private const string ApiKey = "loadtest-key";
    private const string Bucket = "bench";

    public static async Task<int> RunAsync(long size, int repeats, string resultsRoot, CancellationToken cancellationToken)
    {
        Processes.Run("bash", "scripts/test-deps.sh");
        Processes.Run("dotnet", "build", "src/EdgeRouter/EdgeRouter.csproj", "-c", "Release", "-v", "q", "-nologo");

        var work = Directory.CreateTempSubdirectory("edgerouter-upload-bench-").FullName;
        await using var processes = new Processes();
        try
        {
            var s3Port = Processes.FreePort();
            var s3 = processes.Start("s3rver", Path.Combine(Processes.RepositoryRoot, "tests/servers/node_modules/.bin/s3rver"),
                ["-d", Path.Combine(work, "s3"), "-a", "127.0.0.1", "-p", s3Port.ToString(CultureInfo.InvariantCulture), "--silent", "--configure-bucket", Bucket]);
            await Processes.WaitForPortAsync(s3Port, s3, "s3rver");
            var endpoint = $"http://127.0.0.1:{s3Port}";

            var storageEntry = $$"""
                { "id": "s3", "api": "s3compatible", "read": "stream", "endpoint": "{{endpoint}}", "pathStyle": true, "bucket": "{{Bucket}}",
                  "accessKey": "S3RVER", "secretKey": "S3RVER", "probe": "list" }
                """;
            Directory.CreateDirectory(Path.Combine(work, "config"));
            await File.WriteAllTextAsync(Path.Combine(work, "config", "storages.json"), $$"""{ "storages": [ {{storageEntry}} ] }""", cancellationToken);
            var routerPort = Processes.FreePort();
            var router = processes.Start("router", "dotnet", [Path.Combine(Processes.RepositoryRoot, "src/EdgeRouter/bin/Release/net10.0/EdgeRouter.dll"), "--urls", $"http://127.0.0.1:{routerPort}"],
                new Dictionary<string, string>
                {
                    ["EDGEROUTER_API_KEY"] = ApiKey,
                    ["EdgeRouter__SiteUrl"] = $"http://127.0.0.1:{routerPort}/",
                    ["EdgeRouter__Uploads__MaxUploadBytes"] = (size + 1024).ToString(CultureInfo.InvariantCulture),
                    ["EdgeRouter__Uploads__SpoolDirectory"] = Path.Combine(work, "spool"),
                    ["Logging__LogLevel__Default"] = "Warning",
                },
                workingDirectory: work);
            await Processes.WaitForPortAsync(routerPort, router, "router");

            var file = Path.Combine(work, "upload.png");
            await WriteTestFileAsync(file, size);
            var direct = Direct(endpoint);

            var rows = new List<(string Run, double DirectMBps, double RouterMBps)>();
            using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(30) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
            for (var i = 1; i <= repeats; i++)
            {
                var directSeconds = await TimeAsync(async () =>
                {
                    await using var stream = File.OpenRead(file);
                    await direct.PutAsync($"direct/{i}.png", stream, new ObjectWriteOptions("image/png", "public, max-age=60", size, Overwrite: true), cancellationToken);
                });
                var routerSeconds = await TimeAsync(async () =>
                {
                    await using var stream = File.OpenRead(file);
                    using var content = new StreamContent(stream, 1 << 20);
                    content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
                    content.Headers.ContentLength = size;
                    using var response = await http.PutAsync($"http://127.0.0.1:{routerPort}/api/v1/objects/router/{i}.png?overwrite=true", content, cancellationToken);
                    if (!response.IsSuccessStatusCode)
                    {
                        throw new InvalidOperationException($"The router answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                    }
                });
                rows.Add(($"{i}", size / directSeconds / 1e6, size / routerSeconds / 1e6));
                Console.WriteLine($"  run {i}/{repeats}: direct {size / directSeconds / 1e6:0.0} MB/s, router {size / routerSeconds / 1e6:0.0} MB/s");
            }

            var peakRss = Processes.PeakRss(router);
            var bestDirect = rows.Max(r => r.DirectMBps);
            var bestRouter = rows.Max(r => r.RouterMBps);
            var report = new
            {
                scenario = "upload to s3rver",
                sizeBytes = size,
                repeats,
                runs = rows.Select(r => new { r.Run, directMBps = Math.Round(r.DirectMBps, 1), routerMBps = Math.Round(r.RouterMBps, 1) }),
                bestDirectMBps = Math.Round(bestDirect, 1),
                bestRouterMBps = Math.Round(bestRouter, 1),
                ratio = Math.Round(bestRouter / bestDirect, 2),
                routerPeakRssMiB = Math.Round(peakRss / 1048576.0, 1),
            };
            var folder = Path.Combine(resultsRoot, DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
            Directory.CreateDirectory(folder);
            await File.WriteAllTextAsync(Path.Combine(folder, "upload-s3.json"), JsonSerializer.Serialize(report, Report.Json), cancellationToken);
            var summary = new StringBuilder()
                .AppendLine(CultureInfo.InvariantCulture, $"Upload of {size / 1048576} MiB to s3rver, best of {repeats}:")
                .AppendLine(CultureInfo.InvariantCulture, $"  direct (SDK, same part loop)  {bestDirect,8:0.0} MB/s")
                .AppendLine(CultureInfo.InvariantCulture, $"  through EdgeRouter            {bestRouter,8:0.0} MB/s   ratio {bestRouter / bestDirect:0.00}x")
                .AppendLine(CultureInfo.InvariantCulture, $"  router peak RSS (VmHWM)       {peakRss / 1048576.0,8:0.0} MiB")
                .ToString();
            Console.Write(summary);
            await File.WriteAllTextAsync(Path.Combine(folder, "upload-s3.md"), "```\n" + summary + "```\n", cancellationToken);
            Console.WriteLine($"Results: {folder}");
            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static Storage.S3.S3ObjectStore Direct(string endpoint)
    {
        var plan = new Storage.S3.S3ClientPlan("s3compatible", Bucket, string.Empty, "us-east-1", endpoint, ForcePathStyle: true, "S3RVER", "S3RVER",
            ChunkedEncoding: false, ChecksumsWhenRequired: true, PublicReadAcl: true, ConditionalCreate: false, PartSizeBytes: 8 * 1024 * 1024, TimeSpan.FromMinutes(5), ProbeByWriting: false);
        return new Storage.S3.S3ObjectStore(plan, plan.CreateClient(null), TimeProvider.System);
    }

    private static async Task WriteTestFileAsync(string path, long size)
    {
        var block = new byte[1 << 20];
        Random.Shared.NextBytes(block);
        await using var file = File.Create(path);
        for (long written = 0; written < size; written += block.Length)
        {
            var count = (int)Math.Min(block.Length, size - written);
            if (written == 0)
            {
                RandomPng.Signature.CopyTo(block);
            }

            await file.WriteAsync(block.AsMemory(0, count));
        }
    }

    private static async Task<double> TimeAsync(Func<Task> action)
    {
        var watch = Stopwatch.StartNew();
        await action();
        return watch.Elapsed.TotalSeconds;
    }
}

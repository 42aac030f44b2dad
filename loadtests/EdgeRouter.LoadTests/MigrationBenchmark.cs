using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EdgeRouter.LoadTests;

/// <summary>
/// Migration throughput: the router's <c>migrate</c> job against <c>rclone copy</c> (Debian's rclone) between the same
/// two storages, in one run: a Local folder to an S3 bucket (s3rver), a bucket on one S3 server to a bucket on another
/// (two s3rver processes), and a Local folder to another Local folder. Each runs as shipped: rclone with its defaults
/// (4 transfers, 8 checkers), the router with Jobs:Parallelism 8. The router's figure is the job alone (the objects are
/// imported, untimed, by a fresh router before each run); it reads each object, hashes it, writes it, checks the copy
/// (the S3 ETag against the MD5 of what it sent, or else by reading it back), and commits the switch; rclone checks
/// size and, where both ends have one, MD5. Each tool's copy is counted afterwards: a run that copied fewer objects fails.
/// </summary>
internal static class MigrationBenchmark
{
    private const string ApiKey = "loadtest-key";
    private const string AdminKey = "loadtest-admin-key";
    private const string Bucket = "migration-bench";
    private const string SourceBucket = "migration-source";

    public static async Task<int> RunAsync(int objects, int size, int repeats, bool syncToDisk, string resultsRoot, CancellationToken cancellationToken)
    {
        if (!File.Exists("/usr/bin/rclone") && !File.Exists("/usr/local/bin/rclone"))
        {
            Console.Error.WriteLine("migrate compares the router with rclone: install Debian's (apt-get install rclone) first.");
            return 2;
        }

        Processes.Run("dotnet", "build", "src/EdgeRouter/EdgeRouter.csproj", "-c", "Release", "-v", "q", "-nologo");
        var work = Directory.CreateTempSubdirectory("edgerouter-migration-bench-").FullName;
        await using var processes = new Processes();
        try
        {
            var endpoint = await StartS3rverAsync(processes, "s3rver", Path.Combine(work, "s3"), Bucket);
            var sourceEndpoint = await StartS3rverAsync(processes, "s3rver-source", Path.Combine(work, "s3-source"), SourceBucket);

            var source = Path.Combine(work, "source");
            for (var i = 0; i < objects; i++)
            {
                var bytes = RandomPng.Create(size);
                var path = Path.Combine(source, "bench", (i / 500).ToString("D3", CultureInfo.InvariantCulture), $"{i:D6}.png");
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                await File.WriteAllBytesAsync(path, bytes, cancellationToken);
            }

            // The source bucket holds the same objects as the source folder, put there (untimed) by rclone.
            var s3Source = new Remotes(endpoint, sourceEndpoint);
            Rclone(source, $"src:{SourceBucket}", s3Source);
            var rows = new List<(string Pair, int Run, double Rclone, double Router)>();
            for (var run = 1; run <= repeats; run++)
            {
                foreach (var pair in new[] { "local → s3", "s3 → s3", "local → local" })
                {
                    var toS3 = pair.EndsWith("s3", StringComparison.Ordinal);
                    var fromS3 = pair.StartsWith("s3", StringComparison.Ordinal);
                    var target = $"run{run}-{(fromS3 ? "s3s3" : toS3 ? "s3" : "local")}";

                    // rclone first in odd runs, the router first in even ones, so drift (a warming disk cache) hits both.
                    double rclone = 0, router = 0;
                    foreach (var tool in run % 2 == 1 ? new[] { "rclone", "router" } : ["router", "rclone"])
                    {
                        if (tool == "rclone")
                        {
                            // From the bucket's folder, not its root: s3rver answers a delimited listing of a bucket's
                            // root with nothing, and rclone copy lists folder by folder.
                            var destination = toS3 ? $"dest:{Bucket}/{target}-rclone/bench" : Path.Combine(work, target + "-rclone", "bench");
                            rclone = Rclone(fromS3 ? $"src:{SourceBucket}/bench" : Path.Combine(source, "bench"), destination, s3Source);
                            RequireCount(destination, objects, s3Source);
                        }
                        else
                        {
                            var sourceEntry = fromS3 ? SourceS3Entry(sourceEndpoint) : $$"""{ "id": "source", "api": "local", "root": "{{source}}", "read": "stream" }""";
                            router = await RouterAsync(processes, work, sourceEntry, toS3 ? S3Entry(endpoint, target + "-router/") : LocalEntry(Path.Combine(work, target + "-router")), objects, run, syncToDisk, cancellationToken);
                        }
                    }

                    rows.Add((pair, run, objects / rclone, objects / router));
                    Console.WriteLine($"  run {run}/{repeats}, {pair}: rclone {objects / rclone:0.0} objects/s, router {objects / router:0.0} objects/s ({rclone / router:0.00}x)");
                }
            }

            var summary = new StringBuilder()
                .AppendLine(CultureInfo.InvariantCulture, $"Migration of {objects} objects of {size / 1024} KiB, best of {repeats} (objects per second; rclone --transfers 4 --checkers 8, router Jobs:Parallelism 8, Uploads:SyncToDisk={syncToDisk.ToString().ToLowerInvariant()}):")
                .AppendLine("  pair             rclone copy   router migrate   router / rclone");
            foreach (var pair in rows.GroupBy(r => r.Pair))
            {
                var rclone = pair.Max(r => r.Rclone);
                var router = pair.Max(r => r.Router);
                summary.AppendLine(CultureInfo.InvariantCulture, $"  {pair.Key,-15} {rclone,12:0.0}   {router,14:0.0}   {router / rclone,15:0.00}x");
            }

            var folder = Path.Combine(resultsRoot, DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
            Directory.CreateDirectory(folder);
            await File.WriteAllTextAsync(Path.Combine(folder, "migrate-vs-rclone.json"), JsonSerializer.Serialize(rows.Select(r => new { pair = r.Pair, run = r.Run, rcloneObjectsPerSecond = Math.Round(r.Rclone, 1), routerObjectsPerSecond = Math.Round(r.Router, 1) }), Report.Json), cancellationToken);
            await File.WriteAllTextAsync(Path.Combine(folder, "migrate-vs-rclone.md"), "```\n" + summary + "```\n", cancellationToken);
            Console.Write(summary);
            Console.WriteLine($"Results: {folder}");
            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static string S3Entry(string endpoint, string prefix) => $$"""
        { "id": "target", "api": "s3compatible", "read": "stream", "weight": 0, "endpoint": "{{endpoint}}", "pathStyle": true, "bucket": "{{Bucket}}",
          "prefix": "{{prefix}}", "accessKey": "S3RVER", "secretKey": "S3RVER", "probe": "list" }
        """;

    /// <summary>Starts an s3rver keeping its objects in <paramref name="folder"/> with <paramref name="bucket"/>; returns its endpoint.</summary>
    private static async Task<string> StartS3rverAsync(Processes processes, string name, string folder, string bucket)
    {
        var port = Processes.FreePort();
        var server = processes.Start(name, Path.Combine(Processes.RepositoryRoot, "tests/servers/node_modules/.bin/s3rver"),
            ["-d", folder, "-a", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "--silent", "--configure-bucket", bucket],
            new Dictionary<string, string> { ["NODE_OPTIONS"] = "--openssl-legacy-provider" });
        await Processes.WaitForPortAsync(port, server, name);
        return $"http://127.0.0.1:{port}";
    }

    private static string SourceS3Entry(string endpoint) => $$"""
        { "id": "source", "api": "s3compatible", "read": "stream", "endpoint": "{{endpoint}}", "pathStyle": true, "bucket": "{{SourceBucket}}",
          "accessKey": "S3RVER", "secretKey": "S3RVER", "probe": "list" }
        """;

    private static string LocalEntry(string root) => $$"""{ "id": "target", "api": "local", "root": "{{root}}", "read": "stream", "weight": 0 }""";

    /// <summary>The two S3 servers as rclone remotes: <c>dest:</c> (the target) and <c>src:</c> (the source bucket's).</summary>
    private sealed record Remotes(string Destination, string Source);

    /// <summary>Seconds <c>rclone copy</c> takes, with the S3 remotes given in the environment (no config file).</summary>
    private static double Rclone(string source, string destination, Remotes remotes)
    {
        var watch = Stopwatch.StartNew();
        RunRclone(remotes, "copy", source, destination, "--transfers", "4", "--checkers", "8", "--s3-no-check-bucket");
        return watch.Elapsed.TotalSeconds;
    }

    /// <summary>Fails the run unless <paramref name="destination"/> holds <paramref name="objects"/> objects: a time is only a rate if the copy happened.</summary>
    private static void RequireCount(string destination, int objects, Remotes remotes)
    {
        var size = JsonNode.Parse(RunRclone(remotes, "size", "--json", destination))!;
        if ((long?)size["count"] != objects)
        {
            throw new InvalidOperationException($"rclone copy left {size["count"]} objects at {destination}, not {objects}.");
        }
    }

    private static string RunRclone(Remotes remotes, params string[] arguments)
    {
        var start = new ProcessStartInfo("rclone", arguments) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var (name, endpoint) in new[] { ("DEST", remotes.Destination), ("SRC", remotes.Source) })
        {
            start.Environment[$"RCLONE_CONFIG_{name}_TYPE"] = "s3";
            start.Environment[$"RCLONE_CONFIG_{name}_PROVIDER"] = "Other";
            start.Environment[$"RCLONE_CONFIG_{name}_ENDPOINT"] = endpoint;
            start.Environment[$"RCLONE_CONFIG_{name}_ACCESS_KEY_ID"] = "S3RVER";
            start.Environment[$"RCLONE_CONFIG_{name}_SECRET_ACCESS_KEY"] = "S3RVER";
            start.Environment[$"RCLONE_CONFIG_{name}_FORCE_PATH_STYLE"] = "true";
        }

        start.Environment["RCLONE_CONFIG"] = "/dev/null";

        // rclone's AWS SDK refuses a CA bundle (AWS_CA_BUNDLE, set on some machines) with its own HTTP transport;
        // the endpoints here are plain HTTP anyway.
        start.Environment.Remove("AWS_CA_BUNDLE");
        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"rclone {arguments[0]} failed ({process.ExitCode}): {errors.Result}");
        }

        return output;
    }

    /// <summary>Seconds the router's migrate job takes (from queued to succeeded), after an untimed import of the source.</summary>
    private static async Task<double> RouterAsync(Processes processes, string work, string sourceEntry, string targetEntry, int objects, int run, bool syncToDisk, CancellationToken cancellationToken)
    {
        var root = Path.Combine(work, $"router-{run}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path.Combine(root, "config"));
        await File.WriteAllTextAsync(
            Path.Combine(root, "config", "storages.json"),
            $$"""{ "storages": [ {{sourceEntry}}, {{targetEntry}} ] }""",
            cancellationToken);
        var port = Processes.FreePort();
        var router = processes.Start($"router-{run}", "dotnet", [Path.Combine(Processes.RepositoryRoot, "src/EdgeRouter/bin/Release/net10.0/EdgeRouter.dll"), "--urls", $"http://127.0.0.1:{port}"],
            new Dictionary<string, string>
            {
                ["EDGEROUTER_API_KEY"] = ApiKey,
                ["Admin__KeyHashes__0"] = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(AdminKey))),
                ["EdgeRouter__SiteUrl"] = $"http://127.0.0.1:{port}/",
                ["EdgeRouter__Uploads__SpoolDirectory"] = Path.Combine(root, "spool"),
                ["EdgeRouter__Jobs__PollInterval"] = "00:00:00.100",
                ["EdgeRouter__Uploads__SyncToDisk"] = syncToDisk ? "true" : "false",
                ["Logging__LogLevel__Default"] = "Warning",
            },
            workingDirectory: root);
        await Processes.WaitForPortAsync(port, router, "router");
        using var admin = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/admin/api/"), Timeout = TimeSpan.FromMinutes(5) };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        await RunJobAsync(admin, """{ "kind": "import", "storage": "source" }""", cancellationToken);
        var watch = Stopwatch.StartNew();
        var job = await RunJobAsync(admin, """{ "kind": "migrate", "from": "source", "to": "target" }""", cancellationToken);
        var seconds = watch.Elapsed.TotalSeconds;
        if ((long?)job["report"]?["moved"] != objects)
        {
            throw new InvalidOperationException($"The migrate job moved {job["report"]?["moved"]} objects, not {objects}: {job.ToJsonString()}");
        }

        router.Kill(entireProcessTree: true);
        await router.WaitForExitAsync(cancellationToken);
        return seconds;
    }

    private static async Task<JsonObject> RunJobAsync(HttpClient admin, string spec, CancellationToken cancellationToken)
    {
        using var created = await admin.PostAsync("jobs", new StringContent(spec, Encoding.UTF8, "application/json"), cancellationToken);
        var id = (string)(await created.Content.ReadFromJsonAsync<JsonObject>(cancellationToken))!["id"]!;
        while (true)
        {
            var job = (await admin.GetFromJsonAsync<JsonObject>($"jobs/{id}", cancellationToken))!;
            switch ((string?)job["state"])
            {
                case "succeeded" when (long?)job["errors"] is 0:
                    return job;
                case "succeeded" or "failed" or "cancelled":
                    throw new InvalidOperationException($"The job did not succeed cleanly: {job.ToJsonString()}");
            }

            await Task.Delay(20, cancellationToken);
        }
    }
}

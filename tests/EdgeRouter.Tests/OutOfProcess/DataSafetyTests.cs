using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using EdgeRouter.Tests.TestUtilities;
using Microsoft.Data.Sqlite;

namespace EdgeRouter.Tests.OutOfProcess;

/// <summary>
/// An acknowledged version is never altered or lost: the built router as a process, on its shipped settings
/// (Local storage, SQLite), killed with SIGKILL, its catalog locked, its disks full, its uploads slow.
/// </summary>
public sealed class DataSafetyTests
{
    private static readonly int[] Sizes = [1024, 64 * 1024, 300 * 1024, 1536 * 1024];

    [Fact]
    public async Task AnOverwriteStorm_KilledTwentyTimes_NeverServesAWrongOrLostVersion_AndTheJanitorLeavesNothingBehind()
    {
        await using var host = new RouterHost(new Dictionary<string, string>
        {
            // Seconds instead of an hour and ten minutes, so the janitor's work can be seen within the test.
            ["EdgeRouter__Catalog__DeleteGrace"] = "00:00:02",
            ["EdgeRouter__Catalog__JanitorInterval"] = "00:00:01",
            ["EdgeRouter__Uploads__MaxUploadDuration"] = "00:00:06",
        });
        var keys = Enumerable.Range(0, 24).Select(i => $"storm/k{i:D2}.png").ToArray();
        var history = new History();
        var random = new Random(15);

        for (var round = 0; round < 20; round++)
        {
            await host.StartAsync();
            await history.VerifyAsync(host.Client, keys, $"after kill {round}");

            var writing = true;
            var writers = Enumerable.Range(0, 12).Select(w => Task.Run(async () =>
            {
                var mine = new Random((round * 100) + w);
                while (Volatile.Read(ref writing))
                {
                    var key = keys[mine.Next(keys.Length)];
                    var body = TestFiles.Png(Sizes[mine.Next(Sizes.Length)]);
                    history.Begin(key, body);
                    try
                    {
                        using var response = await host.Client.PutAsync($"/api/v1/objects/{key}?overwrite=true", TestFiles.Raw(body, "image/png"));
                        if (response.StatusCode == HttpStatusCode.Created)
                        {
                            history.Acknowledge(key);
                        }
                    }
                    catch (HttpRequestException)
                    {
                        // Killed under it: the version stays "in flight", committed or not.
                    }
                }
            })).ToList();

            // Generated keys too, with bodies large enough to be spooled to disk.
            writers.Add(Task.Run(async () =>
            {
                while (Volatile.Read(ref writing))
                {
                    var body = TestFiles.Png(2 * 1024 * 1024);
                    try
                    {
                        using var response = await host.Client.PostAsync("/api/v1/objects", TestFiles.Raw(body, "image/png"));
                        if (response.StatusCode == HttpStatusCode.Created)
                        {
                            var created = await response.Content.ReadFromJsonAsync<JsonElement>();
                            history.AcknowledgeNew(created.GetProperty("key").GetString()!, body);
                        }
                    }
                    catch (HttpRequestException)
                    {
                    }
                }
            }));

            await Task.Delay(random.Next(300, 1500));
            await host.KillAsync();
            Volatile.Write(ref writing, false);
            await Task.WhenAll(writers);
        }

        await host.StartAsync();
        await history.VerifyAsync(host.Client, keys, "after the last kill");
        Assert.True(history.Acknowledged > 100, $"only {history.Acknowledged} uploads were acknowledged in 20 rounds");

        // One janitor interval after the intents of the killed uploads expired: only what records name is left.
        var deadline = Stopwatch.StartNew();
        string state;
        while (true)
        {
            var files = host.StorageFiles();
            var locations = host.Query("SELECT location FROM objects").Select(r => (string)r[0]).Order(StringComparer.Ordinal).ToList();
            var intents = host.Query("SELECT count(*) FROM upload_intents")[0][0];
            var queued = host.Query("SELECT count(*) FROM pending_deletes")[0][0];
            var spool = Directory.Exists(host.SpoolPath) ? Directory.GetFiles(host.SpoolPath).Length : 0;
            state = $"{files.Count} files, {locations.Count} records, {intents} intents, {queued} queued deletions, {spool} spool files; "
                + $"unnamed: {string.Join(", ", files.Except(locations).Take(10))}; missing: {string.Join(", ", locations.Except(files).Take(10))}";
            Assert.Empty(locations.Except(files));
            if (files.SequenceEqual(locations) && intents is 0L && queued is 0L && spool == 0)
            {
                break;
            }

            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), "the janitor did not clean up: " + state + Environment.NewLine + host.Output);
            await Task.Delay(500);
        }

        var usage = host.Query("SELECT bytes, objects FROM storage_usage WHERE storage_id = 'local'").Single();
        var sum = host.Query("SELECT coalesce(sum(size), 0), count(*) FROM objects WHERE storage_id = 'local'").Single();
        Assert.Equal(sum, usage);
        Assert.Equal((long)sum[0], host.StorageFiles().Sum(f => new FileInfo(Path.Combine(host.StoragePath, f)).Length));
    }

    [Fact]
    public async Task ReadersDuringOverwrites_GetWholeVersions_EachUnderItsOwnETag()
    {
        await using var host = new RouterHost();
        await host.StartAsync();
        var keys = Enumerable.Range(0, 6).Select(i => $"live/{i}.png").ToArray();
        foreach (var key in keys)
        {
            Assert.Equal(HttpStatusCode.Created, (await host.Client.PutAsync("/api/v1/objects/" + key, TestFiles.Raw(TestFiles.Png(200_000), "image/png"))).StatusCode);
        }

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var writes = 0;
        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            var random = new Random(w);
            while (!stop.IsCancellationRequested)
            {
                var body = TestFiles.Png(Sizes[random.Next(Sizes.Length)]);
                using var response = await host.Client.PutAsync($"/api/v1/objects/{keys[random.Next(keys.Length)]}?overwrite=true", TestFiles.Raw(body, "image/png"));
                Assert.Equal(HttpStatusCode.Created, response.StatusCode);
                Interlocked.Increment(ref writes);
            }
        }));
        var outcomes = new ConcurrentBag<string>();
        var readers = Enumerable.Range(0, 6).Select(r => Task.Run(async () =>
        {
            var random = new Random(100 + r);
            while (!stop.IsCancellationRequested)
            {
                outcomes.Add(await ReadOnceAsync(host.Client, keys[random.Next(keys.Length)]));
            }
        }));

        await Task.WhenAll(writers.Concat(readers));

        var counts = outcomes.GroupBy(o => o.Split(':')[0]).ToDictionary(g => g.Key, g => g.Count());
        Assert.True(counts.GetValueOrDefault("whole") > 100 && writes > 20, $"too little happened: {writes} writes, {string.Join(", ", counts)}");
        Assert.Equal([], outcomes.Where(o => !o.StartsWith("whole", StringComparison.Ordinal)).Take(10));
    }

    [Fact]
    public async Task ACommitThatFails_DuringAnOverwrite_Is503_AndThePreviousVersionIsServedWhole_WithNothingOfTheNewLeft()
    {
        // Two seconds of waiting for the lock instead of thirty.
        await using var host = new RouterHost(new Dictionary<string, string> { ["EdgeRouter__Catalog__ConnectionString"] = "Data Source=data/catalog.db;Default Timeout=2" });
        await host.StartAsync();
        var first = TestFiles.Png(300_000);
        Assert.Equal(HttpStatusCode.Created, (await host.Client.PutAsync("/api/v1/objects/locked/a.png", TestFiles.Raw(first, "image/png"))).StatusCode);

        var gate = new TaskCompletionSource();
        var upload = host.Client.PutAsync("/api/v1/objects/locked/a.png?overwrite=true", new GatedContent(TestFiles.Png(400_000), 64 * 1024, gate.Task));
        await GatedContent.WaitForStagingFileAsync(Path.Combine(host.StoragePath, "locked"), upload);

        // Another process takes the catalog's write lock while the new version is being written.
        await using (var holder = new SqliteConnection($"Data Source={host.CatalogPath};Pooling=False"))
        {
            await holder.OpenAsync();
            await using (var begin = holder.CreateCommand())
            {
                begin.CommandText = "BEGIN IMMEDIATE";
                await begin.ExecuteNonQueryAsync();
            }

            gate.SetResult();
            using var response = await upload.WaitAsync(TimeSpan.FromSeconds(30));

            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Contains("nothing was kept", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.NotNull(response.Headers.RetryAfter);

            // Still locked: the previous version is served, whole, under its own ETag, and the new bytes are gone.
            Assert.Equal("whole:" + TestFiles.Sha256(first), await ReadOnceAsync(host.Client, "locked/a.png"));
            Assert.Equal(["locked/a.png"], host.StorageFiles());
        }

        Assert.Equal("whole:" + TestFiles.Sha256(first), await ReadOnceAsync(host.Client, "locked/a.png"));
    }

    [Fact]
    public async Task ASlowUpload_HoldsUpNoOtherKey_ADeleteOfItsKeyAnswersAtOnce_AndTheUploadThenLosesLeavingNothing()
    {
        await using var host = new RouterHost();
        await host.StartAsync();
        Assert.Equal(HttpStatusCode.Created, (await host.Client.PutAsync("/api/v1/objects/slow/a.png", TestFiles.Raw(TestFiles.Png(), "image/png"))).StatusCode);

        // The slow body stops after its first 8 KB until the test lets it go on: whatever waited for it would hang here.
        var gate = new TaskCompletionSource();
        var slow = host.Client.PutAsync("/api/v1/objects/slow/a.png?overwrite=true", new GatedContent(TestFiles.Png(100_000), 8 * 1024, gate.Task));
        await GatedContent.WaitForStagingFileAsync(Path.Combine(host.StoragePath, "slow"), slow);

        var others = await Task.WhenAll(Enumerable.Range(0, 100).Chunk(8).Select(async chunk =>
        {
            var statuses = new List<HttpStatusCode>();
            foreach (var i in chunk)
            {
                using var response = await host.Client.PutAsync($"/api/v1/objects/other/{i}.png", TestFiles.Raw(TestFiles.Png(), "image/png"));
                statuses.Add(response.StatusCode);
            }

            return statuses;
        })).WaitAsync(TimeSpan.FromSeconds(60));
        using var deleted = await host.Client.DeleteAsync("/api/v1/objects/slow/a.png").WaitAsync(TimeSpan.FromSeconds(30));

        Assert.False(slow.IsCompleted);
        Assert.All(others.SelectMany(s => s), s => Assert.Equal(HttpStatusCode.Created, s));
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);

        gate.SetResult();
        using var lost = await slow.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(HttpStatusCode.Conflict, lost.StatusCode);
        Assert.Contains("was deleted while this upload was in progress; nothing was kept", await lost.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await host.Client.GetAsync("/slow/a.png")).StatusCode);

        // Only the deleted version, kept for its grace; nothing of the upload that lost.
        Assert.Equal(["slow/a.png"], host.StorageFiles().Where(f => f.StartsWith("slow/", StringComparison.Ordinal)));
        Assert.Equal(100, host.StorageFiles().Count(f => f.StartsWith("other/", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task AnUploadThatTricklesBelowTheMinimumRate_IsCutOff_AndLeavesNothing()
    {
        await using var host = new RouterHost(new Dictionary<string, string> { ["EdgeRouter__Uploads__MinBytesPerSecond"] = "50000" });
        await host.StartAsync();
        var clock = Stopwatch.StartNew();

        // 1 KB every 200 ms: 5 KB/s, a tenth of the minimum; whole, it would take 40 s.
        string outcome;
        try
        {
            using var response = await host.Client.PutAsync("/api/v1/objects/slow/trickle.png", new TrickleContent(TestFiles.Png(200_000), 1024, TimeSpan.FromMilliseconds(200)));
            outcome = ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
        }
        catch (HttpRequestException)
        {
            outcome = "reset";
        }

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"the trickle went on for {clock.Elapsed.TotalSeconds:0} s");
        Assert.Contains(outcome, new[] { "408", "400", "reset" });
        Assert.Equal(HttpStatusCode.NotFound, (await host.Client.GetAsync("/slow/trickle.png")).StatusCode);
        var deadline = Stopwatch.StartNew();
        while (host.StorageFiles().Count > 0)
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(10), "left behind: " + string.Join(", ", host.StorageFiles()));
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task AFullSpoolDisk_Is507NamingTheRoutersOwnDisk_AndNoStorageIsMarkedUnhealthy()
    {
        await using var host = new RouterHost();
        using var spool = await TmpfsMount.CreateAsync(host.SpoolPath, "1m");
        await host.StartAsync();

        using var response = await host.Client.PostAsync("/api/v1/objects", TestFiles.Raw(TestFiles.Png(3 * 1024 * 1024), "image/png"));

        Assert.Equal(HttpStatusCode.InsufficientStorage, response.StatusCode);
        var detail = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!;
        Assert.Equal("The router could not spool the upload to its own disk: its disk is full. No storage is at fault; try again later.", detail);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Empty(host.StorageFiles());

        // The storage is as healthy as before: ready, and a body that fits in memory is stored.
        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync("/readyz")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await host.Client.PostAsync("/api/v1/objects", TestFiles.Raw(TestFiles.Png(100_000), "image/png"))).StatusCode);
    }

    [Fact]
    public async Task AStorageWhoseDiskIsFull_Is507WithRetryAfter_AndStaysHealthy()
    {
        await using var host = new RouterHost();
        using var disk = await TmpfsMount.CreateAsync(host.StoragePath, "1m");
        await host.StartAsync();

        using var response = await host.Client.PostAsync("/api/v1/objects", TestFiles.Raw(TestFiles.Png(2 * 1024 * 1024), "image/png"));

        Assert.Equal(HttpStatusCode.InsufficientStorage, response.StatusCode);
        Assert.Equal("No storage has room for this upload.", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
        Assert.Equal(TimeSpan.FromMinutes(1), response.Headers.RetryAfter?.Delta);
        Assert.Empty(host.StorageFiles());
        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync("/readyz")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await host.Client.PostAsync("/api/v1/objects", TestFiles.Raw(TestFiles.Png(100_000), "image/png"))).StatusCode);
    }

    /// <summary>"whole:{sha}" for a 200 whose body is its ETag's and its Content-Length's; anything else names what went wrong.</summary>
    private static async Task<string> ReadOnceAsync(HttpClient client, string key)
    {
        try
        {
            using var response = await client.GetAsync("/" + key, HttpCompletionOption.ResponseHeadersRead);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return $"status:{(int)response.StatusCode}";
            }

            var body = await response.Content.ReadAsByteArrayAsync();
            var sha = TestFiles.Sha256(body);
            if (response.Headers.ETag?.Tag != $"\"{sha}\"")
            {
                return $"mismatch:{key} ETag {response.Headers.ETag?.Tag} but body {sha}";
            }

            return response.Content.Headers.ContentLength == body.Length ? "whole:" + sha : $"mismatch:{key} Content-Length {response.Content.Headers.ContentLength} but {body.Length} bytes";
        }
        catch (HttpRequestException ex)
        {
            return $"reset:{key} {ex.Message}";
        }
    }

    /// <summary>What was uploaded to each key: every version ever sent (acknowledged or cut off by a kill), and which keys hold an acknowledged one.</summary>
    private sealed class History
    {
        private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, byte>> _sent = new();
        private readonly ConcurrentDictionary<string, byte> _acknowledged = new();
        private readonly ConcurrentDictionary<string, string> _created = new();
        private int _count;

        public int Acknowledged => Volatile.Read(ref _count);

        public void Begin(string key, byte[] body) => _sent.GetOrAdd(key, _ => new())[TestFiles.Sha256(body)] = 0;

        public void Acknowledge(string key)
        {
            _acknowledged[key] = 0;
            Interlocked.Increment(ref _count);
        }

        public void AcknowledgeNew(string key, byte[] body)
        {
            _created[key] = TestFiles.Sha256(body);
            Interlocked.Increment(ref _count);
        }

        public async Task VerifyAsync(HttpClient client, IEnumerable<string> keys, string when)
        {
            foreach (var key in keys)
            {
                var outcome = await ReadOnceAsync(client, key);
                if (outcome == "status:404")
                {
                    Assert.False(_acknowledged.ContainsKey(key), $"{when}: {key} had an acknowledged version and is gone");
                    continue;
                }

                Assert.StartsWith("whole:", outcome, StringComparison.Ordinal);
                Assert.True(_sent[key].ContainsKey(outcome["whole:".Length..]), $"{when}: {key} serves a version nobody sent");
            }

            foreach (var (key, sha) in _created)
            {
                Assert.Equal("whole:" + sha, await ReadOnceAsync(client, key));
            }
        }
    }

    /// <summary>An image/png body sent <c>chunk</c> bytes at a time, <c>pause</c> apart.</summary>
    private sealed class TrickleContent : HttpContent
    {
        private readonly byte[] _body;
        private readonly int _chunk;
        private readonly TimeSpan _pause;

        public TrickleContent(byte[] body, int chunk, TimeSpan pause)
        {
            (_body, _chunk, _pause) = (body, chunk, pause);
            Headers.ContentType = new MediaTypeHeaderValue("image/png");
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            for (var offset = 0; offset < _body.Length; offset += _chunk)
            {
                await stream.WriteAsync(_body.AsMemory(offset, Math.Min(_chunk, _body.Length - offset)));
                await stream.FlushAsync();
                await Task.Delay(_pause);
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = _body.Length;
            return true;
        }
    }

    /// <summary>A small tmpfs mounted on a folder, for a disk that fills up. Needs root, as CI has.</summary>
    private sealed class TmpfsMount : IDisposable
    {
        private readonly string _path;

        private TmpfsMount(string path) => _path = path;

        public static async Task<TmpfsMount> CreateAsync(string path, string size)
        {
            Directory.CreateDirectory(path);
            var (code, output) = await RunAsync("mount", "-t", "tmpfs", "-o", $"size={size}", "tmpfs", path);
            Assert.True(code == 0, $"mounting a {size} tmpfs on {path} failed (the disk-full tests need root): {output}");
            return new TmpfsMount(path);
        }

        public void Dispose() => RunAsync("umount", "-l", _path).GetAwaiter().GetResult();

        private static async Task<(int Code, string Output)> RunAsync(string file, params string[] arguments)
        {
            using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardError = true, RedirectStandardOutput = true })!;
            var output = await process.StandardError.ReadToEndAsync() + await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            return (process.ExitCode, output);
        }
    }
}

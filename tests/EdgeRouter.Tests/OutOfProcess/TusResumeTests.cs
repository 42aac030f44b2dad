using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.OutOfProcess;

/// <summary>
/// tus-js-client 4.3.1, a client no one here wrote, uploads 50 MB with an upload token to the built router, which is
/// killed with SIGKILL at 40 % and started again: the client resumes from the offset the router reports.
/// </summary>
public sealed class TusResumeTests
{
    [Fact]
    public async Task A50MBUploadWithAToken_KilledAt40Percent_ResumesAfterARestart_AndIsStoredOnceByteForByte()
    {
        await using var host = new RouterHost(new Dictionary<string, string>
        {
            ["EdgeRouter__Uploads__Tokens__SigningKeys__0__Id"] = "k1",
            ["EdgeRouter__Uploads__Tokens__SigningKeys__0__Secret"] = "tus-resume-secret-that-is-long-enough-7",
        });
        await host.StartAsync();
        var png = TestFiles.Png(50 * 1024 * 1024);
        var file = Path.Combine(host.Root, "big.png");
        await File.WriteAllBytesAsync(file, png);
        using var minted = await host.Client.PostAsJsonAsync("/api/v1/upload-tokens", new { keyPrefix = "big/", maxBytes = 60 * 1024 * 1024 });
        Assert.Equal(HttpStatusCode.Created, minted.StatusCode);
        var token = (string)(await minted.Content.ReadFromJsonAsync<JsonObject>())!["token"]!;

        var lines = new ConcurrentQueue<string>();
        var (killedAfter, sentBeforeKill) = (0, 0L);
        using var client = new Process
        {
            StartInfo = new ProcessStartInfo("node", ["tus-upload.mjs", host.BaseUrl + "api/v1/tus/", file, token, "60"])
            {
                WorkingDirectory = Path.Combine(Repository.Root, "tests", "servers"),
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            },
        };
        client.OutputDataReceived += (_, e) => lines.Enqueue(e.Data ?? string.Empty);
        client.ErrorDataReceived += (_, e) => lines.Enqueue("stderr " + e.Data);
        client.Start();
        client.BeginOutputReadLine();
        client.BeginErrorReadLine();
        try
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (!Progress(lines).Any(sent => sent >= png.Length * 4L / 10))
            {
                Assert.True(DateTime.UtcNow < deadline && !client.HasExited, "The upload did not reach 40 %: " + string.Join(" | ", lines));
                await Task.Delay(20);
            }

            await host.KillAsync();
            killedAfter = lines.Count;
            sentBeforeKill = Progress(lines).Max();
            await Task.Delay(1_000);
            await host.StartAsync();

            using var finished = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            await client.WaitForExitAsync(finished.Token);
        }
        finally
        {
            if (!client.HasExited)
            {
                client.Kill();
            }
        }

        var output = string.Join(" | ", lines);
        Assert.True(client.ExitCode == 0, output);
        var key = lines.Single(l => l.StartsWith("key ", StringComparison.Ordinal))[4..];
        Assert.StartsWith("big/", key, StringComparison.Ordinal);
        Assert.Contains(lines, l => l.StartsWith("done ", StringComparison.Ordinal));
        Assert.Equal(png, await host.Client.GetByteArrayAsync("/" + key));

        // It resumed from what the router had kept (at most the chunk in flight lost), not from the start.
        Assert.True(Progress(lines.Skip(killedAfter)).Min() >= sentBeforeKill - (2 * 1024 * 1024), $"After the restart the client sent from {Progress(lines.Skip(killedAfter)).Min()}, though {sentBeforeKill} bytes had gone before the kill.");
        Assert.Equal([[1L]], host.Query("SELECT count(*) FROM objects").Select(r => r.ToList()));
        Assert.Equal([[key]], host.Query("SELECT object_key FROM resumable_uploads").Select(r => r.ToList()));
    }

    private static IEnumerable<long> Progress(IEnumerable<string> lines)
        => lines.Where(l => l.StartsWith("progress ", StringComparison.Ordinal)).Select(l => long.Parse(l.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public async Task AWholeFileInOnePatch_PastKestrelsDefaultBodyLimit_IsTaken()
    {
        await using var host = new RouterHost();
        await host.StartAsync();
        var png = TestFiles.Png(40 * 1024 * 1024);
        host.Client.DefaultRequestHeaders.Add("Tus-Resumable", "1.0.0");
        using var create = new HttpRequestMessage(HttpMethod.Post, "/api/v1/tus/") { Headers = { { "Upload-Length", png.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) } } };
        using var created = await host.Client.SendAsync(create);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var chunk = new ByteArrayContent(png);
        chunk.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/offset+octet-stream");

        using var patched = await host.Client.SendAsync(new HttpRequestMessage(HttpMethod.Patch, created.Headers.Location) { Content = chunk, Headers = { { "Upload-Offset", "0" } } });

        Assert.Equal(HttpStatusCode.NoContent, patched.StatusCode);
        Assert.Equal(png, await host.Client.GetByteArrayAsync("/" + patched.Headers.GetValues("EdgeRouter-Object-Key").Single()));
    }
}

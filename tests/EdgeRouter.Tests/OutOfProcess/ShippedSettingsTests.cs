using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EdgeRouter.Tests.Storage.Sftp;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.OutOfProcess;

/// <summary>
/// A storage API in the real process with the shipped Serving settings (inline socket completions on): concurrent
/// reads, concurrent uploads and deletes that reach the backend, each far within any timeout. The in-process tests
/// cannot see a blocking call on a socket thread: the process-wide setting that makes it stall is not in force there.
/// </summary>
[Collection(SshdGroup.Name)]
public sealed class ShippedSettingsTests(SshdFixture sshd)
{
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(10);

    [Fact]
    public Task Sftp_ServesConcurrentReadsUploadsAndDeletes_WithTheShippedSettings()
        => AssertConcurrentRoundTripsAsync($$"""{ "storages": [ {{sshd.StorageJson()}} ] }""", location => File.Exists(Path.Combine(sshd.Root, location)));

    private static async Task AssertConcurrentRoundTripsAsync(string storages, Func<string, bool> existsAtBackend)
    {
        await using var host = new RouterHost(new Dictionary<string, string> { ["Logging__LogLevel__Default"] = "Information" }, storagesJson: storages);
        await host.StartAsync();
        try
        {
            await RoundTripsAsync(host, existsAtBackend);
        }
        catch (Exception ex) when (ex is TimeoutException or Xunit.Sdk.XunitException)
        {
            throw new InvalidOperationException($"{ex.Message}{Environment.NewLine}The router said:{Environment.NewLine}{host.Output}", ex);
        }
    }

    private static async Task RoundTripsAsync(RouterHost host, Func<string, bool> existsAtBackend)
    {
        var clock = Stopwatch.StartNew();

        // 8 uploads at once, 22 MB among them.
        var bodies = Enumerable.Range(0, 8).Select(i => TestFiles.Png(i == 0 ? 22 * 1024 * 1024 : 200_000)).ToList();
        var uploads = await Task.WhenAll(bodies.Select(async body =>
        {
            using var response = await host.Client.PostAsync("/api/v1/objects", TestFiles.Raw(body, "image/png")).WaitAsync(Budget);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
        }));

        // 16 reads at once, whole and ranged.
        await Task.WhenAll(Enumerable.Range(0, 16).Select(async i =>
        {
            var index = i % bodies.Count;
            using var request = new HttpRequestMessage(HttpMethod.Get, "/" + uploads[index]);
            if (i % 2 == 1)
            {
                request.Headers.Range = new(10, 1009);
            }

            using var response = await host.Client.SendAsync(request).WaitAsync(Budget);
            var body = await response.Content.ReadAsByteArrayAsync().WaitAsync(Budget);
            Assert.Equal(i % 2 == 1 ? bodies[index].AsSpan(10, 1000).ToArray() : bodies[index], body);
        }));

        // Deletes that reach the backend.
        await Task.WhenAll(uploads.Select(async key =>
        {
            using var response = await host.Client.DeleteAsync($"/api/v1/objects/{key}?immediate=true").WaitAsync(Budget);
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        }));
        Assert.All(uploads, key => Assert.False(existsAtBackend(key), $"{key} is still on the backend"));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"the round took {clock.Elapsed.TotalSeconds:0.0} s");
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EdgeRouter.Tests.Storage.Azure;
using EdgeRouter.Tests.Storage.Ftp;
using EdgeRouter.Tests.Storage.Gcs;
using EdgeRouter.Tests.Storage.S3;
using EdgeRouter.Tests.Storage.Sftp;
using EdgeRouter.Tests.Storage.Swift;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.OutOfProcess;

/// <summary>
/// Each storage API in the real process with the shipped Serving settings (inline socket completions on, the origin
/// cache on): concurrent uploads, concurrent reads (whole and ranged, from the backend and from the cache) and deletes
/// that reach the backend, each far within any timeout. The
/// in-process tests cannot see a blocking call on a socket thread: the process-wide setting under which it stalls is
/// not in force there. (Local, the default storage, is driven this way by <see cref="DataSafetyTests"/>.)
/// </summary>
internal static class ShippedSettings
{
    // Far below the 30 s operation timeout at which the stalls this guards against ended, and far above what a busy CI
    // machine needs (a 22 MB SFTP upload took over 10 s there when each write waited for its answer).
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(20);

    public static async Task AssertConcurrentRoundTripsAsync(string storageEntry, Func<string, Task<bool>> existsAtBackend)
    {
        await using var host = new RouterHost(new Dictionary<string, string> { ["Logging__LogLevel__Default"] = "Information" }, storagesJson: $$"""{ "storages": [ {{storageEntry}} ] }""");
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

    private static async Task RoundTripsAsync(RouterHost host, Func<string, Task<bool>> existsAtBackend)
    {
        var clock = Stopwatch.StartNew();

        // 8 uploads at once, 22 MB among them.
        var bodies = Enumerable.Range(0, 8).Select(i => TestFiles.Png(i == 0 ? 22 * 1024 * 1024 : 200_000)).ToList();
        var keys = await Task.WhenAll(bodies.Select(async body =>
        {
            using var response = await host.Client.PostAsync("/api/v1/objects", TestFiles.Raw(body, "image/png")).WaitAsync(Budget);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
        }));

        // 16 reads at once, whole and ranged. The 22 MB object is above the origin cache's limit, so its reads (whole and
        // ranged) reach the backend each time; the others are read once, whole, to fill the cache.
        await Task.WhenAll(Enumerable.Range(0, 16).Select(async i =>
        {
            var index = i % 2 == 0 ? i % bodies.Count : (i / 2) % bodies.Count;
            using var request = new HttpRequestMessage(HttpMethod.Get, "/" + keys[index]);
            if (i % 2 == 1)
            {
                request.Headers.Range = new(10, 1009);
            }

            using var response = await host.Client.SendAsync(request).WaitAsync(Budget);
            var body = await response.Content.ReadAsByteArrayAsync().WaitAsync(Budget);
            Assert.Equal(i % 2 == 1 ? bodies[index].AsSpan(10, 1000).ToArray() : bodies[index], body);
        }));

        // Deletes that reach the backend.
        await Task.WhenAll(keys.Select(async key =>
        {
            using var response = await host.Client.DeleteAsync($"/api/v1/objects/{key}?immediate=true").WaitAsync(Budget);
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        }));
        foreach (var key in keys)
        {
            Assert.False(await existsAtBackend(key), $"{key} is still on the backend");
        }

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"the round took {clock.Elapsed.TotalSeconds:0.0} s");
    }
}

[Collection(SshdGroup.Name)]
public sealed class SftpShippedSettingsTests(SshdFixture sshd)
{
    [Fact]
    public Task ConcurrentReadsUploadsAndDeletes_WithTheShippedSettings()
        => ShippedSettings.AssertConcurrentRoundTripsAsync(sshd.StorageJson(), key => Task.FromResult(File.Exists(Path.Combine(sshd.Root, key))));
}

[Collection(FtpServersGroup.Name)]
public sealed class FtpShippedSettingsTests(FtpServersFixture ftp)
{
    [Fact]
    public Task ConcurrentReadsUploadsAndDeletes_WithTheShippedSettings()
        => ShippedSettings.AssertConcurrentRoundTripsAsync(ftp.StorageJson(), key => Task.FromResult(File.Exists(Path.Combine(ftp.Root, key))));
}

[Collection(S3rverGroup.Name)]
public sealed class S3ShippedSettingsTests(S3rverFixture s3)
{
    [Fact]
    public Task ConcurrentReadsUploadsAndDeletes_WithTheShippedSettings()
        => ShippedSettings.AssertConcurrentRoundTripsAsync(s3.StorageJson(), s3.ExistsAsync);
}

[Collection(AzuriteGroup.Name)]
public sealed class AzureShippedSettingsTests(AzuriteFixture azurite)
{
    [Fact]
    public Task ConcurrentReadsUploadsAndDeletes_WithTheShippedSettings()
        => ShippedSettings.AssertConcurrentRoundTripsAsync(azurite.StorageJson(), async key => (await azurite.DirectContainer().GetBlobClient(key).ExistsAsync()).Value);
}

[Collection(GcsGroup.Name)]
public sealed class GcsShippedSettingsTests(GcsFixture gcs)
{
    [Fact]
    public Task ConcurrentReadsUploadsAndDeletes_WithTheShippedSettings()
        => ShippedSettings.AssertConcurrentRoundTripsAsync(gcs.StorageJson(), key => Task.FromResult(gcs.Server.TryGet(key, out _, out _, out _, out _)));
}

[Collection(SwiftGroup.Name)]
public sealed class SwiftShippedSettingsTests(SwiftFixture swift)
{
    [Fact]
    public Task ConcurrentReadsUploadsAndDeletes_WithTheShippedSettings()
        => ShippedSettings.AssertConcurrentRoundTripsAsync(swift.StorageJson(), async key =>
        {
            using var head = await swift.HeadAsync(key);
            return head is not null;
        });
}

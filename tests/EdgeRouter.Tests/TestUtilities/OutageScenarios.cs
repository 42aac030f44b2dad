using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EdgeRouter.Health;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeRouter.Tests.TestUtilities;

/// <summary>
/// What every remote storage must show when its server goes away, shared by each API's tests. The router under
/// test has the storage (weighted far above) and a healthy Local storage with id <c>local</c>.
/// </summary>
public static class OutageScenarios
{
    /// <summary>storages.json with <paramref name="storageEntry"/> (give it a high weight) and a healthy Local storage <c>local</c> of weight 1.</summary>
    public static string WithLocalFallback(string storageEntry)
        => $$"""{ "storages": [ {{storageEntry}}, { "id": "local", "api": "local", "root": "local", "read": "stream", "weight": 1 } ] }""";

    /// <summary>
    /// A router with <paramref name="storageEntry"/> (id <paramref name="storageId"/>) and a Local fallback keeps
    /// <paramref name="keptKey"/> on the storage. With the server stopped, uploads fail over to <c>local</c> and reads of
    /// the kept key answer 502/504 with <c>no-store</c>; once it is back and probed, it serves and takes uploads again.
    /// </summary>
    public static async Task AssertFailoverWhileStoppedAsync(string storageEntry, string storageId, string keptKey, Func<Task> stop, Func<Task> start)
    {
        using var factory = new RouterFactory(WithLocalFallback(storageEntry));
        using var router = factory.CreateAuthorizedClient();
        await router.PutAsync($"/api/v1/objects/{keptKey}?overwrite=true", TestFiles.Raw(TestFiles.Png(), "image/png"));
        Assert.Equal(storageId, (await router.GetFromJsonAsync<JsonElement>("/api/v1/objects/" + keptKey)).GetProperty("storage").GetString());

        await stop();
        try
        {
            Assert.Equal("local", await UploadAsync(router));
            var read = await router.GetAsync("/" + keptKey);
            Assert.True(read.StatusCode is HttpStatusCode.BadGateway or HttpStatusCode.GatewayTimeout, $"answered {read.StatusCode}");
            Assert.True(read.Headers.CacheControl?.NoStore);
        }
        finally
        {
            await start();
        }

        await factory.Services.GetRequiredService<StorageHealthMonitor>().ProbeAllAsync(TimeSpan.FromSeconds(20), CancellationToken.None);
        Assert.True(factory.Services.GetRequiredService<IStorageHealth>().IsHealthy(storageId));
        Assert.Equal(HttpStatusCode.OK, (await router.GetAsync("/" + keptKey)).StatusCode);
        Assert.Equal(storageId, await UploadAsync(router));
    }

    /// <summary>
    /// The server crashes once 4 MB of a 12 MB upload have been sent: the upload lands on <c>local</c> whole, and
    /// nothing is left at the key on the server (<paramref name="pathOnServer"/>).
    /// </summary>
    public static async Task AssertCrashMidUploadFailsOverAsync(HttpClient router, string key, string pathOnServer, Func<Task> crash, Func<Task> restart)
    {
        var png = TestFiles.Png(12 * 1024 * 1024);
        HttpResponseMessage response;
        try
        {
            var body = new StreamContent(new CallbackAfter(png, 4 * 1024 * 1024, () => crash().GetAwaiter().GetResult()));
            body.Headers.ContentType = new("image/png");
            response = await router.PutAsync("/api/v1/objects/" + key, body);
        }
        finally
        {
            await restart();
        }

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("local", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("storage").GetString());
        Assert.Equal(png, await router.GetByteArrayAsync("/" + key));
        Assert.False(File.Exists(pathOnServer));
    }

    private static async Task<string?> UploadAsync(HttpClient router)
    {
        var response = await router.PostAsync("/api/v1/objects", TestFiles.Raw(TestFiles.Png(), "image/png"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("storage").GetString();
    }

    /// <summary>A request body that runs <paramref name="callback"/> once <paramref name="after"/> bytes have been read.</summary>
    private sealed class CallbackAfter(byte[] bytes, int after, Action callback) : MemoryStream(bytes)
    {
        private bool _called;

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (!_called && Position >= after)
            {
                _called = true;
                callback();
            }

            return base.Read(buffer, offset, Math.Min(count, 64 * 1024));
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => Task.FromResult(Read(buffer, offset, count));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var array = new byte[buffer.Length];
            var read = Read(array, 0, array.Length);
            array.AsSpan(0, read).CopyTo(buffer.Span);
            return ValueTask.FromResult(read);
        }
    }
}

using EdgeRouter.Storage.Local;

namespace EdgeRouter.Tests.Storage.Local;

/// <summary>Writes into one folder share its flushes, and none is told its rename is durable before a flush that began after it.</summary>
public sealed class FolderFlushesTests
{
    [Fact]
    public async Task WritesArrivingDuringAFlush_AreCoveredByTheNextOne_NotByTheOneRunning()
    {
        var flushes = new List<string>();
        var running = new SemaphoreSlim(0);
        var release = new SemaphoreSlim(0);
        var flusher = new FolderFlushes(folder =>
        {
            lock (flushes)
            {
                flushes.Add(folder);
            }

            running.Release();
            release.Wait();
        });

        var first = flusher.FlushAsync("/data/a");
        Assert.True(await running.WaitAsync(TimeSpan.FromSeconds(10)));

        // Renamed while the first flush runs: that flush may have read the folder before them.
        var later = Enumerable.Range(0, 10).Select(_ => flusher.FlushAsync("/data/a")).ToList();
        release.Release();
        await first.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.All(later, t => Assert.False(t.IsCompleted));

        // One more flush covers all ten.
        Assert.True(await running.WaitAsync(TimeSpan.FromSeconds(10)));
        release.Release();
        await Task.WhenAll(later).WaitAsync(TimeSpan.FromSeconds(10));

        lock (flushes)
        {
            Assert.Equal(["/data/a", "/data/a"], flushes);
        }
    }

    [Fact]
    public async Task AFlushThatFails_FailsEveryWriteItWasToCover()
    {
        var flusher = new FolderFlushes(folder => throw new IOException($"Could not flush folder '{folder}'."));

        var error = await Assert.ThrowsAsync<IOException>(() => flusher.FlushAsync("/data/a"));

        Assert.Equal("Could not flush folder '/data/a'.", error.Message);
        await Assert.ThrowsAsync<IOException>(() => flusher.FlushAsync("/data/a"));
    }
}

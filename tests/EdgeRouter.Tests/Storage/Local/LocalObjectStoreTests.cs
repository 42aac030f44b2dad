using EdgeRouter.Storage;
using EdgeRouter.Storage.Local;
using EdgeRouter.Tests.Storage;

namespace EdgeRouter.Tests.Storage.Local;

/// <summary>The storage contract on a folder of this machine, plus what only Local can show (files on disk).</summary>
public sealed class LocalObjectStoreTests : StorageContractTests, IDisposable
{
    private readonly string _sandbox = Directory.CreateTempSubdirectory("edgerouter-local-").FullName;
    private readonly LocalObjectStore _store;

    public LocalObjectStoreTests()
    {
        // The root sits one level down, so anything escaping it would land in the sandbox where the test can see it.
        _store = new LocalObjectStore(Path.Combine(_sandbox, "root"), TimeProvider.System);
    }

    protected override IObjectStore Store => _store;

    // A root under a file cannot be created, whoever runs the tests (root included).
    protected override IObjectStore CreateRefusedStore()
    {
        var blocker = Path.Combine(_sandbox, "file-not-folder");
        File.WriteAllText(blocker, "x");
        return new LocalObjectStore(Path.Combine(blocker, "root"), TimeProvider.System);
    }

    [Fact]
    public async Task Put_LeavesNoTemporaryFileBehind()
    {
        await _store.PutAsync("a/b/c.png", new MemoryStream(new byte[100]), new ObjectWriteOptions("image/png", "x"), CancellationToken.None);

        var files = Directory.GetFiles(_store.Root, "*", SearchOption.AllDirectories);
        Assert.Equal([Path.Combine(_store.Root, "a", "b", "c.png")], files);
    }

    [Fact]
    public async Task List_LeavesOutStagedWrites_AndLinks_SoNothingOutsideTheRootIsListed()
    {
        await _store.PutAsync("kept/a.png", new MemoryStream(new byte[10]), new ObjectWriteOptions("image/png", "x"), CancellationToken.None);
        var folder = Path.Combine(_store.Root, "kept");
        File.WriteAllText(Path.Combine(folder, ObjectKeys.TemporaryFileName("kept/b.png")), "half-written");
        var outside = Directory.CreateDirectory(Path.Combine(_sandbox, "outside"));
        File.WriteAllText(Path.Combine(outside.FullName, "secret.txt"), "secret");
        File.CreateSymbolicLink(Path.Combine(folder, "passwd.png"), Path.Combine(outside.FullName, "secret.txt"));
        Directory.CreateSymbolicLink(Path.Combine(folder, "linked"), outside.FullName);

        var listed = await ListAsync(string.Empty, null);

        Assert.Equal(["kept/a.png"], listed.Select(o => o.Location));
    }

    [Fact]
    public void GetPhysicalPath_StaysUnderTheRoot()
    {
        Assert.Equal(Path.Combine(_store.Root, "2026", "01", "02", "x.png"), _store.GetPhysicalPath("2026/01/02/x.png"));
    }

    public void Dispose() => Directory.Delete(_sandbox, recursive: true);

    protected override Task AssertNothingEscapedAsync()
    {
        var outside = Directory.GetFileSystemEntries(_sandbox, "*", SearchOption.AllDirectories)
            .Where(p => !p.StartsWith(_store.Root, StringComparison.Ordinal) && p != _store.Root)
            .ToList();
        Assert.Empty(outside);
        return Task.CompletedTask;
    }
}

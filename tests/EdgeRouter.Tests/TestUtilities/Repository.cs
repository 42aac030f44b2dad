namespace EdgeRouter.Tests.TestUtilities;

public static class Repository
{
    /// <summary>The folder holding EdgeRouter.sln, found above the test binaries.</summary>
    public static string Root { get; } = Find();

    private static string Find()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "EdgeRouter.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("EdgeRouter.sln not found above the test binaries.");
    }
}

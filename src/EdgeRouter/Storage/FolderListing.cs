using System.Runtime.CompilerServices;

namespace EdgeRouter.Storage;

/// <summary>An entry of one folder of a file-system-like backend (local disk, FTP, SFTP). Links are never entries.</summary>
internal readonly record struct FolderEntry(string Name, bool IsFolder, long Size, DateTimeOffset? LastModified);

/// <summary>
/// <see cref="IObjectStore.ListAsync"/> for backends that only list one folder at a time: a depth-first walk that
/// yields locations in ordinal order (a folder sorts as its name plus '/', as its locations do), visits only the
/// folders that can hold a location under the prefix and after the start, and skips the router's own names.
/// </summary>
internal static class FolderListing
{
    /// <param name="listFolder">The entries of a folder given relative to the root ("" or "a/b/"); null when it does not exist.</param>
    public static IAsyncEnumerable<ListedObject> WalkAsync(
        Func<string, CancellationToken, Task<IReadOnlyList<FolderEntry>?>> listFolder,
        string prefix,
        string? startAfter,
        CancellationToken cancellationToken)
        // The deepest folder the prefix names whole: "2019/05/a" starts in "2019/05/".
        => WalkFolderAsync(listFolder, prefix[..(prefix.LastIndexOf('/') + 1)], prefix, startAfter, cancellationToken);

    private static async IAsyncEnumerable<ListedObject> WalkFolderAsync(
        Func<string, CancellationToken, Task<IReadOnlyList<FolderEntry>?>> listFolder,
        string folder,
        string prefix,
        string? startAfter,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var entries = await listFolder(folder, cancellationToken);
        if (entries is null)
        {
            yield break;
        }

        var sorted = entries
            .Where(e => e.Name is not ("" or "." or "..") && !e.Name.Contains('/', StringComparison.Ordinal))
            .Select(e => (Entry: e, Location: folder + e.Name + (e.IsFolder ? "/" : string.Empty)))
            .Where(e => !ObjectKeys.IsInternal(e.Location))
            .OrderBy(e => e.Location, StringComparer.Ordinal)
            .ToList();
        foreach (var (entry, location) in sorted)
        {
            if (!entry.IsFolder)
            {
                if (location.StartsWith(prefix, StringComparison.Ordinal) && (startAfter is null || string.CompareOrdinal(location, startAfter) > 0))
                {
                    yield return new ListedObject(location, entry.Size, entry.LastModified, ETag: null);
                }
            }
            else if (CanHold(location, prefix, startAfter))
            {
                await foreach (var inner in WalkFolderAsync(listFolder, location, prefix, startAfter, cancellationToken))
                {
                    yield return inner;
                }
            }
        }
    }

    /// <summary>Whether the folder (ending in '/') can hold a location under the prefix and after the start.</summary>
    private static bool CanHold(string folder, string prefix, string? startAfter)
    {
        if (!folder.StartsWith(prefix, StringComparison.Ordinal) && !prefix.StartsWith(folder, StringComparison.Ordinal))
        {
            return false;
        }

        // Every location in the folder starts with it: all of them sort before the start unless the start lies inside.
        return startAfter is null
            || string.CompareOrdinal(folder, startAfter) > 0
            || startAfter.StartsWith(folder, StringComparison.Ordinal);
    }
}

/// <summary>Listing helpers for backends whose SDK hands out an async sequence of items.</summary>
internal static class BackendListing
{
    /// <summary>
    /// <paramref name="source"/> as it is, but a failure the backend raises while fetching the next page is turned into
    /// <paramref name="failure"/>'s exception (a <see cref="StorageException"/>), as the store's other calls are.
    /// </summary>
    public static async IAsyncEnumerable<T> GuardAsync<T>(
        IAsyncEnumerable<T> source,
        Func<Exception, bool> isBackendFailure,
        Func<Exception, Exception> failure,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var items = source.GetAsyncEnumerator(cancellationToken);
        try
        {
            while (true)
            {
                try
                {
                    if (!await items.MoveNextAsync())
                    {
                        yield break;
                    }
                }
                catch (Exception ex) when (isBackendFailure(ex))
                {
                    throw failure(ex);
                }

                yield return items.Current;
            }
        }
        finally
        {
            await items.DisposeAsync();
        }
    }

    /// <summary>Whether a name the backend listed under the store's prefix is an object to report.</summary>
    public static bool IsObject(string location, string? startAfter)
        => location.Length > 0 && !location.EndsWith('/') && !ObjectKeys.IsInternal(location)
            && (startAfter is null || string.CompareOrdinal(location, startAfter) > 0);
}

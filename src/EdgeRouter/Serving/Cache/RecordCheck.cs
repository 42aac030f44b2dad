using EdgeRouter.Storage;

namespace EdgeRouter.Serving.Cache;

/// <summary>
/// What a body read into either tier must be before it is kept: exactly its record's length and SHA-256. One place
/// for the comparison and for what each failure says, whichever tier read it.
/// </summary>
internal static class RecordCheck
{
    /// <summary>Whether a SHA-256 digest is the record's (hex, as the catalog keeps it).</summary>
    public static bool Matches(ReadOnlySpan<byte> digest, string sha256)
        => Convert.ToHexStringLower(digest).Equals(sha256, StringComparison.OrdinalIgnoreCase);

    public static StorageException EndedEarly(string describe, long read, long length)
        => new($"{describe} ended after {read} of {length} bytes.");

    public static StorageException TooLong(string describe, long length)
        => new($"{describe} has more bytes than its catalog record's {length}.");

    public static StorageException NotTheRecords(string describe)
        => new($"{describe} does not have the SHA-256 its catalog record names.");

    /// <summary>How the failures name the object: its location and storage.</summary>
    public static string Describe(Catalog.ObjectRecord record) => $"'{record.Location}' on storage '{record.StorageId}'";
}

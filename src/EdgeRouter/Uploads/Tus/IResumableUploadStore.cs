using System.Data.Common;
using EdgeRouter.Catalog;

namespace EdgeRouter.Uploads.Tus;

/// <summary>
/// A resumable (tus) upload: its declared length and metadata, the token that created it (its claims, as JSON), when
/// it expires, and once complete, the object it became. Its bytes so far are a file in the resumable folder.
/// </summary>
public sealed record ResumableUpload(
    string Id,
    long Length,
    string? Metadata,
    string? Token,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt,
    string? ObjectKey = null,
    string? ObjectUrl = null);

/// <summary>Resumable uploads' state, in the catalog's database, so any instance (or a restarted one) resumes them.</summary>
public interface IResumableUploadStore
{
    Task CreateResumableAsync(ResumableUpload upload, CancellationToken cancellationToken);

    Task<ResumableUpload?> FindResumableAsync(string id, CancellationToken cancellationToken);

    /// <summary>Moves the expiry on after a write.</summary>
    Task TouchResumableAsync(string id, DateTimeOffset expiresAt, CancellationToken cancellationToken);

    /// <summary>Records the object the upload became (a later HEAD names it).</summary>
    Task CompleteResumableAsync(string id, string objectKey, string objectUrl, CancellationToken cancellationToken);

    /// <summary>Forgets the upload; false when there was none.</summary>
    Task<bool> DeleteResumableAsync(string id, CancellationToken cancellationToken);

    /// <summary>Uploads expired before <paramref name="before"/>, for the sweeper to remove.</summary>
    Task<IReadOnlyList<string>> ExpiredResumablesAsync(DateTimeOffset before, int limit, CancellationToken cancellationToken);
}

/// <summary>The statements, the same on SQLite and PostgreSQL.</summary>
internal static class ResumableUploadSql
{
    private const string Columns = "id, length, metadata, token, created_ms, expires_ms, object_key, object_url";

    public static Task<int> CreateAsync(DbConnection connection, ResumableUpload upload)
        => CatalogRows.ExecuteAsync(
            connection,
            $"INSERT INTO resumable_uploads ({Columns}) VALUES (@id, @length, @metadata, @token, @created, @expires, NULL, NULL)",
            ("id", upload.Id),
            ("length", upload.Length),
            ("metadata", upload.Metadata),
            ("token", upload.Token),
            ("created", upload.CreatedAt.ToUnixTimeMilliseconds()),
            ("expires", upload.ExpiresAt.ToUnixTimeMilliseconds()));

    public static async Task<ResumableUpload?> FindAsync(DbConnection connection, string id)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM resumable_uploads WHERE id = @id";
        CatalogRows.Add(command, "id", id);
        await using var reader = await command.ExecuteReaderAsync(CancellationToken.None);
        if (!await reader.ReadAsync(CancellationToken.None))
        {
            return null;
        }

        return new ResumableUpload(
            reader.GetString(0),
            reader.GetInt64(1),
            reader.IsDBNull(2) ? null : reader.GetString(2),
            reader.IsDBNull(3) ? null : reader.GetString(3),
            DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)),
            DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)),
            reader.IsDBNull(6) ? null : reader.GetString(6),
            reader.IsDBNull(7) ? null : reader.GetString(7));
    }

    public static Task<int> TouchAsync(DbConnection connection, string id, DateTimeOffset expiresAt)
        => CatalogRows.ExecuteAsync(connection, "UPDATE resumable_uploads SET expires_ms = @expires WHERE id = @id", ("id", id), ("expires", expiresAt.ToUnixTimeMilliseconds()));

    public static Task<int> CompleteAsync(DbConnection connection, string id, string objectKey, string objectUrl)
        => CatalogRows.ExecuteAsync(connection, "UPDATE resumable_uploads SET object_key = @key, object_url = @url WHERE id = @id", ("id", id), ("key", objectKey), ("url", objectUrl));

    public static async Task<bool> DeleteAsync(DbConnection connection, string id)
        => await CatalogRows.ExecuteAsync(connection, "DELETE FROM resumable_uploads WHERE id = @id", ("id", id)) == 1;

    public static async Task<IReadOnlyList<string>> ExpiredAsync(DbConnection connection, DateTimeOffset before, int limit)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id FROM resumable_uploads WHERE expires_ms < @before ORDER BY expires_ms LIMIT @limit";
        CatalogRows.Add(command, "before", before.ToUnixTimeMilliseconds());
        CatalogRows.Add(command, "limit", limit);
        return await CatalogRows.StringsAsync(command, CancellationToken.None);
    }
}

using EdgeRouter.Uploads.Tus;

namespace EdgeRouter.Catalog.Sqlite;

/// <summary>Resumable uploads' state, in the catalog's own file.</summary>
internal sealed partial class SqliteObjectCatalog
{
    public Task CreateResumableAsync(ResumableUpload upload, CancellationToken cancellationToken)
        => Write(connection => ResumableUploadSql.CreateAsync(connection, upload));

    public Task<ResumableUpload?> FindResumableAsync(string id, CancellationToken cancellationToken)
        => Run(connection => ResumableUploadSql.FindAsync(connection, id));

    public Task TouchResumableAsync(string id, DateTimeOffset expiresAt, CancellationToken cancellationToken)
        => Write(connection => ResumableUploadSql.TouchAsync(connection, id, expiresAt));

    public Task CompleteResumableAsync(string id, string objectKey, string objectUrl, CancellationToken cancellationToken)
        => Write(connection => ResumableUploadSql.CompleteAsync(connection, id, objectKey, objectUrl));

    public Task<bool> DeleteResumableAsync(string id, CancellationToken cancellationToken)
        => Write(connection => ResumableUploadSql.DeleteAsync(connection, id));

    public Task<IReadOnlyList<string>> ExpiredResumablesAsync(DateTimeOffset before, int limit, CancellationToken cancellationToken)
        => Run(connection => ResumableUploadSql.ExpiredAsync(connection, before, limit));
}

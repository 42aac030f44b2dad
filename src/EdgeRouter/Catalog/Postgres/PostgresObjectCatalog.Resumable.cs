using EdgeRouter.Uploads.Tus;

namespace EdgeRouter.Catalog.Postgres;

/// <summary>Resumable uploads' state, shared by every instance: any of them resumes an upload another began.</summary>
internal sealed partial class PostgresObjectCatalog
{
    public Task CreateResumableAsync(ResumableUpload upload, CancellationToken cancellationToken)
        => Run(connection => ResumableUploadSql.CreateAsync(connection, upload));

    public Task<ResumableUpload?> FindResumableAsync(string id, CancellationToken cancellationToken)
        => Query(connection => ResumableUploadSql.FindAsync(connection, id), cancellationToken);

    public Task TouchResumableAsync(string id, DateTimeOffset expiresAt, CancellationToken cancellationToken)
        => Run(connection => ResumableUploadSql.TouchAsync(connection, id, expiresAt));

    public Task CompleteResumableAsync(string id, string objectKey, string objectUrl, CancellationToken cancellationToken)
        => Run(connection => ResumableUploadSql.CompleteAsync(connection, id, objectKey, objectUrl));

    public Task<bool> DeleteResumableAsync(string id, CancellationToken cancellationToken)
        => Run(connection => ResumableUploadSql.DeleteAsync(connection, id));

    public Task<IReadOnlyList<string>> ExpiredResumablesAsync(DateTimeOffset before, int limit, CancellationToken cancellationToken)
        => Query(connection => ResumableUploadSql.ExpiredAsync(connection, before, limit), cancellationToken);
}

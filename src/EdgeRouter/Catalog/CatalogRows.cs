using System.Data.Common;

namespace EdgeRouter.Catalog;

/// <summary>Rows of the relational catalogs (SQLite, PostgreSQL), which share one set of columns.</summary>
internal static class CatalogRows
{
    public const string Columns = "key, storage_id, size, content_type, sha256, created_ms, location";

    public static ObjectRecord Record(DbDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1),
        reader.GetInt64(2),
        reader.GetString(3),
        reader.GetString(4),
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)))
    {
        Location = reader.GetString(6),
    };

    public static async Task<ObjectRecord?> FirstRecordAsync(DbCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Record(reader) : null;
    }

    public static Task<List<ObjectRecord>> RecordsAsync(DbCommand command, CancellationToken cancellationToken)
        => ReadAllAsync(command, Record, cancellationToken);

    /// <summary>Rows of (storage_id, location, key, expires_ms).</summary>
    public static Task<List<UploadIntent>> IntentsAsync(DbCommand command, CancellationToken cancellationToken)
        => ReadAllAsync(command, r => new UploadIntent(r.GetString(0), r.GetString(1), r.GetString(2), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(3))), cancellationToken);

    /// <summary>Rows of (storage_id, location).</summary>
    public static Task<List<PendingDelete>> PendingDeletesAsync(DbCommand command, CancellationToken cancellationToken)
        => ReadAllAsync(command, r => new PendingDelete(r.GetString(0), r.GetString(1)), cancellationToken);

    /// <summary>Rows of (storage_id, bytes, objects).</summary>
    public static async Task<Dictionary<string, StorageUsage>> UsageAsync(DbCommand command, CancellationToken cancellationToken)
        => (await ReadAllAsync(command, r => (Id: r.GetString(0), Usage: new StorageUsage(r.GetInt64(1), r.GetInt64(2))), cancellationToken))
            .ToDictionary(u => u.Id, u => u.Usage, StringComparer.Ordinal);

    private static async Task<List<T>> ReadAllAsync<T>(DbCommand command, Func<DbDataReader, T> read, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<T>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(read(reader));
        }

        return rows;
    }
}

/// <summary>The lock of a catalog that needs none.</summary>
internal sealed class NoLock : IAsyncDisposable
{
    public static readonly NoLock Instance = new();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

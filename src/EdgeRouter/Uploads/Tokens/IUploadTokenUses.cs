using System.Data.Common;
using EdgeRouter.Catalog;

namespace EdgeRouter.Uploads.Tokens;

/// <summary>How many times each upload token was used, in the catalog's database, so a cluster counts them as one.</summary>
public interface IUploadTokenUses
{
    /// <summary>Counts a use of the token; false when it has had its <paramref name="uses"/> already (a replay).</summary>
    Task<bool> TryUseUploadTokenAsync(string id, int uses, DateTimeOffset expiresAt, CancellationToken cancellationToken);
}

/// <summary>The statements, the same on SQLite and PostgreSQL: an upsert that counts a use only below the limit.</summary>
internal static class UploadTokenUsesSql
{
    public static async Task<bool> TryUseAsync(DbConnection connection, string id, int uses, DateTimeOffset expiresAt, DateTimeOffset now)
    {
        // Counts of expired tokens are of no use: a token is refused once expired, whatever its count.
        await using (var prune = connection.CreateCommand())
        {
            prune.CommandText = "DELETE FROM upload_token_uses WHERE expires_ms < @now";
            CatalogRows.Add(prune, "now", now.ToUnixTimeMilliseconds());
            await prune.ExecuteNonQueryAsync(CancellationToken.None);
        }

        await using var use = connection.CreateCommand();
        use.CommandText = """
            INSERT INTO upload_token_uses (id, used, expires_ms) VALUES (@id, 1, @expires)
            ON CONFLICT (id) DO UPDATE SET used = upload_token_uses.used + 1 WHERE upload_token_uses.used < @uses
            """;
        CatalogRows.Add(use, "id", id);
        CatalogRows.Add(use, "expires", expiresAt.ToUnixTimeMilliseconds());
        CatalogRows.Add(use, "uses", uses);
        return await use.ExecuteNonQueryAsync(CancellationToken.None) == 1;
    }
}

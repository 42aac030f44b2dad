using System.Data.Common;
using EdgeRouter.Catalog;

namespace EdgeRouter.Uploads.Tokens;

/// <summary>How many times each upload token was used, in the catalog's database, so a cluster counts them as one.</summary>
public interface IUploadTokenUses
{
    /// <summary>Counts a use of the token; false when it has had its <paramref name="uses"/> already (a replay).</summary>
    Task<bool> TryUseUploadTokenAsync(string id, int uses, DateTimeOffset expiresAt, CancellationToken cancellationToken);
}

public static class UploadTokenUsesExtensions
{
    /// <summary>Counts a use of <paramref name="token"/>; null when it was allowed, else the 401's detail (a replay).</summary>
    public static async Task<string?> UseAsync(this IUploadTokenUses uses, UploadToken token, CancellationToken cancellationToken)
        => await uses.TryUseUploadTokenAsync(token.Id, token.Uses, token.ExpiresAt, cancellationToken) ? null
            : token.Uses == 1 ? "This upload token was already used." : $"This upload token was already used {token.Uses} times.";
}

/// <summary>The statements, the same on SQLite and PostgreSQL: an upsert that counts a use only below the limit.</summary>
internal static class UploadTokenUsesSql
{
    public static async Task<bool> TryUseAsync(DbConnection connection, string id, int uses, DateTimeOffset expiresAt, DateTimeOffset now)
    {
        // Counts of expired tokens are of no use: a token is refused once expired, whatever its count.
        await CatalogRows.ExecuteAsync(connection, "DELETE FROM upload_token_uses WHERE expires_ms < @now", ("now", now.ToUnixTimeMilliseconds()));
        return await CatalogRows.ExecuteAsync(
            connection,
            """
            INSERT INTO upload_token_uses (id, used, expires_ms) VALUES (@id, 1, @expires)
            ON CONFLICT (id) DO UPDATE SET used = upload_token_uses.used + 1 WHERE upload_token_uses.used < @uses
            """,
            ("id", id),
            ("expires", expiresAt.ToUnixTimeMilliseconds()),
            ("uses", uses)) == 1;
    }
}

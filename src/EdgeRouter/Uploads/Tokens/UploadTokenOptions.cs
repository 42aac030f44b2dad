namespace EdgeRouter.Uploads.Tokens;

/// <summary><c>EdgeRouter:Uploads:Tokens</c>: the keys that sign upload tokens, and how long a token may live.</summary>
public sealed class UploadTokenOptions
{
    /// <summary>
    /// Signing keys, each <c>{ "Id": "k1", "Secret": "…" }</c> (the secret from the environment, at least 32
    /// characters). The last one signs new tokens; every one listed still verifies, so a key is rotated by adding
    /// its successor after it and removing it once its tokens have expired. None: upload tokens are off.
    /// </summary>
    public IList<UploadTokenSigningKey> SigningKeys { get; } = [];

    /// <summary>The longest a token may live; a request for longer is refused.</summary>
    public TimeSpan MaxLifetime { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// The origins a token's <c>callbackUrl</c> may name (the app's backend): the router posts only there. None: tokens
    /// carry no callback.
    /// </summary>
    public IList<string> CallbackOrigins { get; } = [];

    /// <summary>The HMAC-SHA256 key that signs completion callbacks (at least 32 characters, from the environment).</summary>
    public string? CallbackSecret { get; set; }
}

public sealed class UploadTokenSigningKey
{
    public string Id { get; set; } = string.Empty;

    public string Secret { get; set; } = string.Empty;
}

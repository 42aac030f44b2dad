namespace EdgeRouter.Storage.Swift;

/// <summary>The <c>swift</c> API's fields in storages.json: an OpenStack Swift account, reached through its Identity service.</summary>
public sealed class SwiftStorageSettings
{
    /// <summary>The Identity URL: <c>…/auth/v1.0</c> (tempauth), <c>…/v2.0</c> or <c>…/v3</c> (Keystone).</summary>
    public string? AuthUrl { get; set; }

    /// <summary>1 (tempauth, swauth), 2 or 3 (Keystone).</summary>
    public int AuthVersion { get; set; } = 3;

    /// <summary>The user; for version 1 in the form <c>account:user</c>.</summary>
    public string? Username { get; set; }

    public string? Password { get; set; }

    /// <summary>Version 2: the tenant, by name or id.</summary>
    public string? TenantName { get; set; }

    public string? TenantId { get; set; }

    /// <summary>Version 3: the project, by name (with <see cref="Domain"/>) or id.</summary>
    public string? ProjectName { get; set; }

    public string? ProjectId { get; set; }

    /// <summary>Version 3: the domain of the user and of a project given by name.</summary>
    public string Domain { get; set; } = "Default";

    /// <summary>Which <c>object-store</c> endpoint of the service catalog to use; required when it lists several regions.</summary>
    public string? Region { get; set; }

    /// <summary>public, internal or admin: which URL of the catalog's endpoint to use.</summary>
    public string Interface { get; set; } = "public";

    public string? Container { get; set; }

    /// <summary>The object store's account URL, instead of the one the Identity service returns (e.g. a private network address).</summary>
    public string? ObjectStoreUrl { get; set; }

    public string? Prefix { get; set; }

    /// <summary>Bodies larger than this go up as a static large object of segments this size.</summary>
    public int SegmentSizeBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>The account's <c>X-Account-Meta-Temp-URL-Key</c>; needed for <c>read: presigned</c>.</summary>
    public string? TempUrlKey { get; set; }

    public int PresignedExpirySeconds { get; set; } = 300;

    public int TimeoutSeconds { get; set; } = 60;
}

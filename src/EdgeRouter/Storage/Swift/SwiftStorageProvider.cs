using EdgeRouter.Configuration;

namespace EdgeRouter.Storage.Swift;

/// <summary>The <c>swift</c> API: OpenStack Swift through a small HTTP client (no .NET SDK is served), tempauth or Keystone v2/v3.</summary>
internal sealed class SwiftStorageProvider(TimeProvider timeProvider) : IStorageProvider
{
    private static readonly string[] Interfaces = ["public", "internal", "admin"];

    public string Api => StorageProviders.Swift;

    public bool SupportsPresignedReads => true;

    public void Validate(StorageConfig config, StorageValidationContext context)
    {
        if (StorageSettings.Bind<SwiftStorageSettings>(config, context) is not { } s)
        {
            return;
        }

        if (string.IsNullOrWhiteSpace(s.AuthUrl))
        {
            context.AddError("authUrl", "is required: the Identity URL, e.g. https://auth.example.com/v3.");
        }

        context.ValidateHttpUrl(s.AuthUrl, "authUrl");
        context.ValidateHttpUrl(s.ObjectStoreUrl, "objectStoreUrl");
        context.ValidatePrefix(s.Prefix);
        if (s.AuthVersion is not (1 or 2 or 3))
        {
            context.AddError("authVersion", "must be 1 (tempauth), 2 or 3 (Keystone).");
        }

        Require(s.Username, "username", context);
        Require(s.Password, "password", context);
        Require(s.Container, "container", context);
        if (s.AuthVersion == 2 && string.IsNullOrWhiteSpace(s.TenantName) == string.IsNullOrWhiteSpace(s.TenantId))
        {
            context.AddError("tenantName", "give exactly one of 'tenantName' or 'tenantId' with authVersion 2.");
        }

        if (s.AuthVersion == 3 && string.IsNullOrWhiteSpace(s.ProjectName) == string.IsNullOrWhiteSpace(s.ProjectId))
        {
            context.AddError("projectName", "give exactly one of 'projectName' (with 'domain') or 'projectId' with authVersion 3.");
        }

        if (!Interfaces.Contains(s.Interface))
        {
            context.AddError("interface", "must be public, internal or admin.");
        }

        if (s.SegmentSizeBytes is < 1024 * 1024 or > 1024 * 1024 * 1024)
        {
            context.AddError("segmentSizeBytes", "must be between 1 MiB (Swift's smallest segment) and 1 GiB.");
        }

        if (config.Read == ReadMode.Presigned && string.IsNullOrEmpty(s.TempUrlKey))
        {
            context.AddError("tempUrlKey", "is required with read 'presigned': the account's X-Account-Meta-Temp-URL-Key.");
        }

        if (s.PresignedExpirySeconds is < 1 or > 7 * 24 * 3600)
        {
            context.AddError("presignedExpirySeconds", "must be between 1 second and 7 days.");
        }
    }

    public IObjectStore Create(StorageConfig config, StorageProviderContext context)
    {
        var s = StorageSettings.Bind<SwiftStorageSettings>(config, null)!;
        var http = new HttpClient(new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(Math.Min(10, s.TimeoutSeconds)),
            AllowAutoRedirect = false,
        })
        {
            Timeout = TimeSpan.FromSeconds(s.TimeoutSeconds),
        };
        var auth = new SwiftAuthenticator(http, s, config.Id!, timeProvider);
        return new SwiftObjectStore(config.Id!, http, auth, s, timeProvider);
    }

    private static void Require(string? value, string field, StorageValidationContext context)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            context.AddError(field, "is required.");
        }
    }
}

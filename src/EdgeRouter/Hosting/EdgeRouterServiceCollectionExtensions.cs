using EdgeRouter.Admin;
using EdgeRouter.Caching;
using EdgeRouter.Caching.Redis;
using EdgeRouter.Catalog;
using EdgeRouter.Cdn;
using EdgeRouter.Catalog.Postgres;
using EdgeRouter.Catalog.Sqlite;
using EdgeRouter.Jobs;
using EdgeRouter.Configuration;
using EdgeRouter.Health;
using EdgeRouter.Hosting;
using EdgeRouter.Observability;
using EdgeRouter.Placement;
using EdgeRouter.Serving;
using EdgeRouter.Serving.Cache;
using EdgeRouter.Storage;
using EdgeRouter.Storage.Azure;
using EdgeRouter.Storage.Gcs;
using EdgeRouter.Storage.Swift;
using EdgeRouter.Storage.Ftp;
using EdgeRouter.Storage.Local;
using EdgeRouter.Storage.S3;
using EdgeRouter.Storage.Sftp;
using EdgeRouter.Uploads;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

#pragma warning disable IDE0130 // Extension methods live where IServiceCollection does, as ASP.NET Core's own do.
namespace Microsoft.Extensions.DependencyInjection;
#pragma warning restore IDE0130

public static class EdgeRouterServiceCollectionExtensions
{
    /// <summary>
    /// Adds the router: options from the <c>EdgeRouter</c> section (validated at start), storages.json with hot
    /// reload, the catalog with its cache, placement, health probes, the upload API and the read path.
    /// </summary>
    public static IServiceCollection AddEdgeRouter(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddOptions<EdgeRouterOptions>()
            .Bind(configuration.GetSection(EdgeRouterOptions.SectionName))
            .PostConfigure(options =>
            {
                // A plain key from the environment is hashed at once; only the hash is kept.
                if (configuration[ApiKeys.EnvironmentVariable] is { Length: > 0 } plain)
                {
                    options.Uploads.ApiKeys.Add(ApiKeys.Hash(plain));
                }

                CdnTargets.ExpandEnvironment(options.Cdn, Environment.GetEnvironmentVariable);
            })
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EdgeRouterOptions>, EdgeRouterOptionsValidator>());

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IRandomFactory, RandomFactory>();
        services.AddMetrics();
        services.TryAddSingleton<EdgeRouterMetrics>();
        services.AddEdgeRouterTelemetry(configuration);
        services.AddProblemDetails();
        services.AddExceptionHandler<CatalogUnavailableExceptionHandler>();

        // Storage: one provider per API, looked up by name.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStorageProvider, LocalStorageProvider>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStorageProvider, AmazonS3StorageProvider>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStorageProvider, S3CompatibleStorageProvider>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStorageProvider, OssStorageProvider>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStorageProvider, B2StorageProvider>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStorageProvider, SftpStorageProvider>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStorageProvider, FtpStorageProvider>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStorageProvider, AzureBlobStorageProvider>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStorageProvider, GcsStorageProvider>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStorageProvider, SwiftStorageProvider>());
        services.AddOptions<S3ClientOptions>();
        services.TryAddSingleton<StorageConfigValidator>();
        services.TryAddSingleton<StorageConfigManager>();
        services.TryAddSingleton<IStorageRegistry>(sp => sp.GetRequiredService<StorageConfigManager>());
        services.AddHostedService<StorageConfigStartup>();

        // Catalog: embedded SQLite, or PostgreSQL shared by several instances (which also keeps their shared
        // capacity reservations), behind an in-memory cache.
        Func<IServiceProvider, IObjectCatalog> database;
        if (CatalogProviders.UsesPostgres(configuration))
        {
            services.TryAddSingleton<PostgresObjectCatalog>();
            services.TryAddSingleton<ICapacityLedger>(sp => sp.GetRequiredService<PostgresObjectCatalog>());
            database = sp => sp.GetRequiredService<PostgresObjectCatalog>();
        }
        else
        {
            services.TryAddSingleton<SqliteObjectCatalog>();
            database = sp => sp.GetRequiredService<SqliteObjectCatalog>();
        }

        // With Redis: the channel that tells every instance what changed.
        if (CatalogProviders.UsesRedis(configuration))
        {
            services.TryAddSingleton<RedisClusterEvents>();
            services.TryAddSingleton<IClusterEvents>(sp => sp.GetRequiredService<RedisClusterEvents>());
            services.AddHealthChecks().AddCheck<ClusterEventsHealthCheck>("redis", tags: [EdgeRouterEndpointRouteBuilderExtensions.ReadyTag]);
        }

        services.TryAddSingleton<IObjectCatalog>(sp => new CachingObjectCatalog(
            new MeasuredObjectCatalog(database(sp), sp.GetRequiredService<EdgeRouterMetrics>()),
            sp.GetRequiredService<IOptions<EdgeRouterOptions>>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<EdgeRouterMetrics>(),
            sp.GetService<IClusterEvents>(),
            sp.GetRequiredService<KeysBeingWritten>()));
        services.TryAddSingleton(sp => new KeysBeingWritten(sp.GetRequiredService<IOptions<EdgeRouterOptions>>(), sp.GetRequiredService<TimeProvider>(), sp.GetService<IClusterEvents>()));
        services.TryAddSingleton<CatalogJanitor>();
        services.AddHostedService(sp => sp.GetRequiredService<CatalogJanitor>());
        services.TryAddSingleton<WriteCleanup>();

        // Placement.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPlacementPolicy, WeightedPlacementPolicy>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPlacementPolicy, FillFirstPlacementPolicy>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPlacementPolicy, LeastUsedPlacementPolicy>());
        services.TryAddSingleton<StorageUsageTracker>();
        services.TryAddSingleton<StoragePlacer>();

        // Health.
        services.TryAddSingleton<IStorageHealth, StorageHealthTracker>();
        services.TryAddSingleton<StorageHealthMonitor>();
        services.AddHostedService(sp => sp.GetRequiredService<StorageHealthMonitor>());
        services.AddHealthChecks()
            .AddCheck<CatalogHealthCheck>("catalog", tags: [EdgeRouterEndpointRouteBuilderExtensions.ReadyTag])
            .AddCheck<StoragesHealthCheck>("storages", tags: [EdgeRouterEndpointRouteBuilderExtensions.ReadyTag]);

        // Uploads.
        // No default scheme: reads (the hot path) never run the key handler; only the API's policy names it.
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeys.Scheme, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(ApiKeys.Scheme, policy => policy.AddAuthenticationSchemes(ApiKeys.Scheme).RequireAuthenticatedUser().RequireAssertion(c => !c.User.IsInRole(ApiKeys.TokenRole)))
            .AddPolicy(ApiKeys.UploadPolicy, policy => policy.AddAuthenticationSchemes(ApiKeys.Scheme).RequireAuthenticatedUser());
        services.TryAddSingleton<EdgeRouter.Uploads.Tokens.UploadTokenCodec>();
        services.TryAddSingleton<EdgeRouter.Uploads.Tokens.IUploadTokenUses>(sp => (EdgeRouter.Uploads.Tokens.IUploadTokenUses)database(sp));
        services.TryAddSingleton<EdgeRouter.Uploads.Tus.IResumableUploadStore>(sp => (EdgeRouter.Uploads.Tus.IResumableUploadStore)database(sp));
        services.TryAddSingleton<EdgeRouter.Uploads.Tus.TusHandler>();
        services.AddHostedService<EdgeRouter.Uploads.Tus.ResumableUploadSweeper>();
        services.AddCors(cors =>
        {
            var origins = configuration.GetSection($"{EdgeRouterOptions.SectionName}:Uploads:Cors:AllowedOrigins").Get<string[]>() ?? [];
            cors.AddPolicy(ObjectApiEndpoints.CorsPolicy, policy => policy
                .WithOrigins(origins)
                .WithMethods("POST", "PUT", "PATCH", "HEAD", "DELETE", "OPTIONS")
                .WithHeaders("Authorization", "Content-Type", "Upload-Length", "Upload-Offset", "Upload-Metadata", "Upload-Defer-Length", "Upload-Checksum", "Tus-Resumable", "X-Requested-With", "X-HTTP-Method-Override")
                .WithExposedHeaders("Location", "Upload-Offset", "Upload-Length", "Upload-Expires", "Tus-Resumable", "Tus-Version", "Tus-Extension", "Tus-Max-Size", "Tus-Checksum-Algorithm", "EdgeRouter-Object-Key", "EdgeRouter-Object-Url")
                .SetPreflightMaxAge(TimeSpan.FromHours(1)));
        });
        services.TryAddKeyedSingleton(ApiKeys.Scheme, (sp, _) =>
        {
            var uploads = sp.GetRequiredService<IOptions<EdgeRouterOptions>>().Value.Uploads;
            return new EdgeRouter.Admin.Authentication.FailedAttempts(uploads.MaxFailedKeyAttempts, uploads.KeyLockoutDuration, sp.GetRequiredService<TimeProvider>());
        });
        services.TryAddSingleton<KeyGenerator>();
        services.TryAddSingleton<UploadHandler>();
        services.TryAddSingleton<ObjectDeleter>();

        // Admin: its own key and API, fed by the router through the admin contract.
        services.AddEdgeRouterAdmin(configuration);
        services.TryAddSingleton<IAdminDataSource, AdminDataSource>();
        services.TryAddSingleton<TrafficRecorder>();
        services.AddHostedService(sp => sp.GetRequiredService<TrafficRecorder>());

        // Data mobility: jobs run under a lease in the catalog's database.
        services.TryAddSingleton<IJobStore>(sp => (IJobStore)database(sp));
        services.TryAddSingleton<ObjectMover>();
        services.TryAddSingleton<ObjectAdopter>();
        services.TryAddSingleton<LazyAdoption>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IJob, ImportJob>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IJob, MigrateJob>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IJob, DrainJob>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IJob, RebalanceJob>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IJob, VerifyJob>());
        services.TryAddSingleton<JobRunner>();
        services.AddHostedService(sp => sp.GetRequiredService<JobRunner>());
        services.TryAddSingleton<JobService>();

        // CDN coherence: purges recorded in each change's transaction, sent from the outbox; tags on every answer.
        services.TryAddSingleton<IPurgeOutbox>(sp => (IPurgeOutbox)database(sp));
        services.TryAddSingleton<CacheTags>();
        services.AddHttpClient(CdnTargets.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(30));
        services.TryAddSingleton<CdnTargets>();
        services.TryAddSingleton<CdnPurgeWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<CdnPurgeWorker>());
        services.TryAddSingleton<CdnPurges>();

        // Reads.
        services.AddHttpForwarder();
        services.TryAddSingleton<StorageForwarding>();
        services.TryAddSingleton<OriginCache>();
        services.TryAddSingleton<ObjectReadHandler>();
        return services;
    }
}

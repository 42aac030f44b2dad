using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using EdgeRouter.Admin;
using EdgeRouter.Admin.Api;
using EdgeRouter.Admin.Authentication;
using EdgeRouter.Admin.Ui;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Matching;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

#pragma warning disable IDE0130 // Extension methods live where IServiceCollection does, as ASP.NET Core's own do.
namespace Microsoft.Extensions.DependencyInjection;
#pragma warning restore IDE0130

public static class AdminServiceCollectionExtensions
{
    internal const string OpenApiDocument = "admin";

    private static readonly Action<ILogger, int, string, Exception?> AdminPortUnused = LoggerMessage.Define<int, string>(
        LogLevel.Warning, new EventId(902, "AdminPortUnused"), "Admin:Port is {Port}, but the router listens only on {Addresses}: add the port to its URLs, or the admin cannot be reached.");

    private static readonly Action<ILogger, Exception?> AdminIsOff = LoggerMessage.Define(
        LogLevel.Warning, new EventId(901, "AdminOff"), "The admin is off: no Admin:KeyHashes are configured.");

    /// <summary>
    /// Adds the admin: options from the <c>Admin</c> section (validated at start), the API's key scheme and the pages'
    /// cookie, both with lock-out, antiforgery for the pages' forms, and the pages' renderer. The host provides the
    /// data through <see cref="IAdminDataSource"/>.
    /// </summary>
    public static IServiceCollection AddEdgeRouterAdmin(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AdminOptions>().Bind(configuration.GetSection(AdminOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AdminOptions>, AdminOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<AdminLockout>();
        services.TryAddSingleton<AdminOperations>();

        // The keys that sign the admin's cookie and antiforgery tokens live under data/ (beside the catalog, on the
        // container's volume), so a restart does not sign everybody out. They are stored unencrypted, as the catalog
        // is: data/ is to be readable by the router's user alone.
        services.AddDataProtection().SetApplicationName("EdgeRouter");
        services.AddOptions<KeyManagementOptions>().Configure<IHostEnvironment, ILoggerFactory>((keys, environment, logging) =>
            keys.XmlRepository = new FileSystemXmlRepository(new DirectoryInfo(Path.Combine(environment.ContentRootPath, "data", "keys")), logging));

        services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, AdminKeyAuthenticationHandler>(AdminKeyAuthenticationHandler.SchemeName, null)
            .AddCookie(AdminPolicies.CookieScheme);
        services.AddOptions<CookieAuthenticationOptions>(AdminPolicies.CookieScheme).Configure<IOptions<AdminOptions>>((cookie, admin) =>
        {
            var pathBase = admin.Value.PathBase;
            cookie.Cookie.Name = ".EdgeRouter.Admin";
            cookie.Cookie.Path = pathBase;
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SameSite = SameSiteMode.Strict;
            cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            cookie.ExpireTimeSpan = TimeSpan.FromHours(8);
            cookie.SlidingExpiration = true;
            cookie.LoginPath = pathBase + "/signin";
            cookie.LogoutPath = pathBase + "/signout";
        });
        services.AddAuthorizationBuilder()
            .AddPolicy(AdminPolicies.Api, policy => policy.AddAuthenticationSchemes(AdminKeyAuthenticationHandler.SchemeName).RequireAuthenticatedUser())
            .AddPolicy(AdminPolicies.Ui, policy => policy.AddAuthenticationSchemes(AdminPolicies.CookieScheme).RequireAuthenticatedUser());
        services.AddAntiforgery(antiforgery =>
        {
            antiforgery.Cookie.Name = ".EdgeRouter.Admin.Antiforgery";
            antiforgery.Cookie.SameSite = SameSiteMode.Strict;
        });
        services.AddRazorComponents();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<MatcherPolicy, AdminPortPolicy>());

        // The admin API's own OpenAPI document: only its routes, not the router's public ones.
        services.AddOpenApi(OpenApiDocument, openApi => openApi.ShouldInclude = api => api.ActionDescriptor.EndpointMetadata.OfType<AdminApiMarker>().Any());
        return services;
    }

    // An admin port the router does not listen on makes the admin unreachable: say so once the server has started.
    private static void WarnIfNotListening(IServiceProvider services, int port)
    {
        var lifetime = services.GetRequiredService<IHostApplicationLifetime>();
        lifetime.ApplicationStarted.Register(() =>
        {
            var addresses = services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            if (addresses.Count > 0 && !addresses.Any(a => Uri.TryCreate(a.Replace("*", "localhost", StringComparison.Ordinal).Replace("+", "localhost", StringComparison.Ordinal), UriKind.Absolute, out var uri) && uri.Port == port))
            {
                AdminPortUnused(services.GetRequiredService<ILoggerFactory>().CreateLogger(AdminOperations.AuditCategory), port, string.Join(", ", addresses), null);
            }
        });
    }

    /// <summary>Maps the admin pages and API under <see cref="AdminOptions.PathBase"/>, or nothing (and says so) when no admin key is configured.</summary>
    public static IEndpointRouteBuilder MapEdgeRouterAdmin(this IEndpointRouteBuilder endpoints)
    {
        var options = endpoints.ServiceProvider.GetRequiredService<IOptions<AdminOptions>>().Value;
        if (!options.Enabled)
        {
            AdminIsOff(endpoints.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger(AdminOperations.AuditCategory), null);
            return endpoints;
        }

        var admin = endpoints.MapGroup(string.Empty);
        if (options.Port is { } port)
        {
            admin.WithMetadata(new AdminPortMetadata(port));
            WarnIfNotListening(endpoints.ServiceProvider, port);
        }

        admin.MapAdminUi(options);
        admin.MapAdminApi(options);
        admin.MapOpenApi(options.PathBase + "/api/openapi/{documentName}.json").RequireAuthorization(AdminPolicies.Api);
        return endpoints;
    }
}

using EdgeRouter.Admin;
using EdgeRouter.Admin.Api;
using EdgeRouter.Admin.Authentication;
using EdgeRouter.Admin.Ui;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
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

        // The admin API's own OpenAPI document: only its routes, not the router's public ones.
        services.AddOpenApi(OpenApiDocument, openApi => openApi.ShouldInclude = api => api.ActionDescriptor.EndpointMetadata.OfType<AdminApiMarker>().Any());
        return services;
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

        endpoints.MapAdminUi(options);
        endpoints.MapAdminApi(options);
        endpoints.MapOpenApi(options.PathBase + "/api/openapi/{documentName}.json").RequireAuthorization(AdminPolicies.Api);
        return endpoints;
    }
}

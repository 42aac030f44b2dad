using EdgeRouter.Admin;
using EdgeRouter.Admin.Api;
using EdgeRouter.Admin.Authentication;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
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
    internal const string PolicyName = "EdgeRouterAdmin";
    internal const string OpenApiDocument = "admin";

    private static readonly Action<ILogger, Exception?> AdminIsOff = LoggerMessage.Define(
        LogLevel.Warning, new EventId(901, "AdminOff"), "The admin is off: no Admin:KeyHashes are configured.");

    /// <summary>
    /// Adds the admin: options from the <c>Admin</c> section (validated at start), its own key scheme with lock-out and
    /// its policy. The host provides the data through <see cref="IAdminDataSource"/>.
    /// </summary>
    public static IServiceCollection AddEdgeRouterAdmin(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AdminOptions>().Bind(configuration.GetSection(AdminOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AdminOptions>, AdminOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<AdminLockout>();
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, AdminKeyAuthenticationHandler>(AdminKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder().AddPolicy(PolicyName, policy => policy.AddAuthenticationSchemes(AdminKeyAuthenticationHandler.SchemeName).RequireAuthenticatedUser());

        // The admin API's own OpenAPI document: only its routes, not the router's public ones.
        services.AddOpenApi(OpenApiDocument, openApi => openApi.ShouldInclude = api => api.ActionDescriptor.EndpointMetadata.OfType<AdminApiMarker>().Any());
        return services;
    }

    /// <summary>Maps the admin API under <see cref="AdminOptions.PathBase"/>, or nothing (and says so) when no admin key is configured.</summary>
    public static IEndpointRouteBuilder MapEdgeRouterAdmin(this IEndpointRouteBuilder endpoints)
    {
        var options = endpoints.ServiceProvider.GetRequiredService<IOptions<AdminOptions>>().Value;
        if (!options.Enabled)
        {
            AdminIsOff(endpoints.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger(AdminApiEndpoints.AuditCategory), null);
            return endpoints;
        }

        endpoints.MapAdminApi(options);
        endpoints.MapOpenApi(options.PathBase + "/api/openapi/{documentName}.json").RequireAuthorization(PolicyName);
        return endpoints;
    }
}

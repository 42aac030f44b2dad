using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeRouter.Admin.Api;

/// <summary>The JSON admin API under <c>{PathBase}/api</c>: storages with usage and health, objects, test connection.</summary>
internal static partial class AdminApiEndpoints
{
    public const int MaxPageSize = 1000;

    public static RouteGroupBuilder MapAdminApi(this IEndpointRouteBuilder endpoints, AdminOptions options)
    {
        var api = endpoints.MapGroup(options.PathBase + "/api").RequireAuthorization(AdminServiceCollectionExtensions.PolicyName).WithMetadata(new AdminApiMarker());

        api.MapGet("/storages", async (IAdminDataSource data, CancellationToken cancellationToken) =>
        {
            var storages = await data.GetStoragesAsync(cancellationToken);
            var weights = storages.Where(s => s.Active && s.Weight > 0).Sum(s => s.Weight);
            return Results.Ok(storages.Select(s => new
            {
                s.Id,
                s.Api,
                s.Read,
                s.Weight,
                SharePercent = s.Active && s.Weight > 0 && weights > 0 ? Math.Round(100 * s.Weight / weights, 1) : 0,
                s.Active,
                s.StorageUrl,
                s.CapacityBytes,
                s.UsedBytes,
                s.Objects,
                UsedPercent = s.CapacityBytes is > 0 and var capacity ? Math.Round(100.0 * s.UsedBytes / capacity, 1) : (double?)null,
                s.Health,
                Settings = SecretMasking.Apply(s.Settings),
            }));
        });

        api.MapGet("/objects", async (IAdminDataSource data, string? prefix, string? after, int? limit, CancellationToken cancellationToken) =>
        {
            var size = limit ?? 100;
            if (size is < 1 or > MaxPageSize)
            {
                return Results.Problem(title: "Bad page size", detail: $"'limit' must be between 1 and {MaxPageSize}.", statusCode: StatusCodes.Status400BadRequest);
            }

            var page = await data.ListObjectsAsync(prefix ?? string.Empty, after, size, cancellationToken);
            return Results.Ok(new { items = page, next = page.Count == size ? page[^1].Key : null });
        });

        api.MapPatch("/storages/{id}", async (string id, AdminStorageChange change, HttpContext context, IAdminDataSource data, ILoggerFactory loggers, CancellationToken cancellationToken) =>
        {
            if (change.Weight is null && change.Active is null)
            {
                return Results.Problem(title: "Nothing to change", detail: "Send 'weight' and/or 'active'.", statusCode: StatusCodes.Status400BadRequest);
            }

            var before = (await data.GetStoragesAsync(cancellationToken)).FirstOrDefault(s => s.Id == id);
            var problems = await data.UpdateStorageAsync(id, change, cancellationToken);
            if (problems is null || before is null)
            {
                return Results.Problem(title: "Unknown storage", detail: $"There is no storage '{id}'.", statusCode: StatusCodes.Status404NotFound);
            }

            if (problems.Count > 0)
            {
                // The same messages storages.json gets, so an operator can fix either the same way.
                return Results.Problem(title: "Invalid change", detail: string.Join(" ", problems), statusCode: StatusCodes.Status400BadRequest, extensions: new Dictionary<string, object?> { ["errors"] = problems });
            }

            var audit = loggers.CreateLogger(AuditCategory);
            if (audit.IsEnabled(LogLevel.Information))
            {
                var what = "change storage " + id;
                var outcome = $"weight {before.Weight} -> {change.Weight ?? before.Weight}, active {before.Active} -> {change.Active ?? before.Active}";
                Log.Audit(audit, context.User.Identity?.Name ?? "?", what, outcome);
            }

            return Results.NoContent();
        });

        api.MapPost("/storages/{id}/test", async (string id, HttpContext context, IAdminDataSource data, ILoggerFactory loggers, CancellationToken cancellationToken) =>
        {
            var result = await data.TestStorageAsync(id, cancellationToken);
            if (result is null)
            {
                return Results.Problem(title: "Unknown storage", detail: $"There is no storage '{id}'.", statusCode: StatusCodes.Status404NotFound);
            }

            var audit = loggers.CreateLogger(AuditCategory);
            if (audit.IsEnabled(LogLevel.Information))
            {
                Log.Audit(audit, context.User.Identity?.Name ?? "?", "test connection of storage " + id, result.Succeeded ? "passed" : "failed");
            }
            return Results.Ok(result);
        });

        return api;
    }

    /// <summary>The log category of the audit trail: who did what, and with what outcome.</summary>
    public const string AuditCategory = "EdgeRouter.Admin.Audit";

    private static partial class Log
    {
        [LoggerMessage(EventId = 900, Level = LogLevel.Information, Message = "admin {Who}: {What} -> {Outcome}")]
        public static partial void Audit(ILogger logger, string who, string what, string outcome);
    }
}

/// <summary>Marks the admin API's endpoints, so its OpenAPI document holds them wherever the admin is mounted.</summary>
internal sealed class AdminApiMarker;

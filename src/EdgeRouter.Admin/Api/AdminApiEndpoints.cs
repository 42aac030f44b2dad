using EdgeRouter.Admin.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace EdgeRouter.Admin.Api;

/// <summary>The JSON admin API under <c>{PathBase}/api</c>: storages with usage and health, objects, test connection.</summary>
internal static class AdminApiEndpoints
{
    public const int MaxPageSize = 1000;

    public static RouteGroupBuilder MapAdminApi(this IEndpointRouteBuilder endpoints, AdminOptions options)
    {
        var api = endpoints.MapGroup(options.PathBase + "/api").RequireAuthorization(AdminPolicies.Api).WithMetadata(new AdminApiMarker());

        api.MapGet("/storages", async (AdminOperations admin, CancellationToken cancellationToken) =>
        {
            var overview = await admin.GetOverviewAsync(cancellationToken);
            return Results.Ok(overview.Storages.Select(view => new
            {
                view.Storage.Id,
                view.Storage.Api,
                view.Storage.Read,
                view.Storage.Weight,
                view.SharePercent,
                view.Storage.Active,
                view.Storage.StorageUrl,
                view.Storage.CapacityBytes,
                view.Storage.UsedBytes,
                view.Storage.Objects,
                view.UsedPercent,
                view.Storage.Health,
                view.Settings,
            }));
        });

        api.MapGet("/objects", async (AdminOperations admin, string? prefix, string? after, int? limit, CancellationToken cancellationToken) =>
        {
            var size = limit ?? 100;
            if (size is < 1 or > MaxPageSize)
            {
                return Results.Problem(title: "Bad page size", detail: $"'limit' must be between 1 and {MaxPageSize}.", statusCode: StatusCodes.Status400BadRequest);
            }

            var page = await admin.ListObjectsAsync(prefix ?? string.Empty, after, size, cancellationToken);
            return Results.Ok(new { items = page, next = page.Count == size ? page[^1].Key : null });
        });

        api.MapDelete("/objects/{**key}", async (string key, HttpContext context, AdminOperations admin, CancellationToken cancellationToken) =>
            await admin.DeleteObjectAsync(Who(context), key, cancellationToken) is null
                ? Results.Problem(title: "Not found", detail: $"No object has the key '{key}'.", statusCode: StatusCodes.Status404NotFound)
                : Results.NoContent());

        api.MapPatch("/storages/{id}", async (string id, AdminStorageChange change, HttpContext context, AdminOperations admin, CancellationToken cancellationToken) =>
        {
            var result = await admin.UpdateStorageAsync(Who(context), id, change, cancellationToken);
            return result.Outcome switch
            {
                AdminChangeOutcome.Done => Results.NoContent(),
                AdminChangeOutcome.UnknownStorage => Results.Problem(title: "Unknown storage", detail: result.Problems[0], statusCode: StatusCodes.Status404NotFound),

                // The same messages storages.json gets, so an operator can fix either the same way.
                _ => Results.Problem(title: "Invalid change", detail: string.Join(" ", result.Problems), statusCode: StatusCodes.Status400BadRequest, extensions: new Dictionary<string, object?> { ["errors"] = result.Problems }),
            };
        });

        api.MapPost("/storages/{id}/test", async (string id, HttpContext context, AdminOperations admin, CancellationToken cancellationToken) =>
            await admin.TestStorageAsync(Who(context), id, cancellationToken) is { } result
                ? Results.Ok(result)
                : Results.Problem(title: "Unknown storage", detail: $"There is no storage '{id}'.", statusCode: StatusCodes.Status404NotFound));

        return api;
    }

    public static string Who(HttpContext context) => context.User.Identity?.Name ?? "?";
}

/// <summary>Marks the admin API's endpoints, so its OpenAPI document holds them wherever the admin is mounted.</summary>
internal sealed class AdminApiMarker;

using EdgeRouter.Catalog;
using EdgeRouter.Observability;
using EdgeRouter.Placement;
using EdgeRouter.Storage;

namespace EdgeRouter.Uploads;

/// <summary><c>/api/v1/objects</c>: upload, look up and delete objects. Every route needs an upload API key.</summary>
internal static class ObjectApiEndpoints
{
    public const string Route = "/api/v1/objects";

    public static IEndpointRouteBuilder MapObjectApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup(Route).RequireAuthorization(ApiKeys.Scheme).WithTags("Objects");
        group.MapPost("/", (HttpContext context, UploadHandler handler) => handler.UploadAsync(context, null));
        // An empty catch-all binds as null; it goes through key validation like any other key, for a precise 400.
        group.MapPut("/{**key}", (HttpContext context, string? key, UploadHandler handler) => handler.UploadAsync(context, key ?? string.Empty));
        group.MapGet("/{**key}", GetAsync);
        group.MapDelete("/{**key}", DeleteAsync);
        return endpoints;
    }

    private static async Task<IResult> GetAsync(string? key, IObjectCatalog catalog, IStorageRegistry registry, UploadHandler handler, CancellationToken cancellationToken)
    {
        if (ObjectKeys.Validate(key) is { } error)
        {
            return Problems.Result(StatusCodes.Status400BadRequest, "Invalid key", error);
        }

        var record = await catalog.FindAsync(key!, cancellationToken);
        return record is null
            ? NotFound(key!)
            : Results.Ok(handler.ToResponse(record, registry.Current.ById.GetValueOrDefault(record.StorageId)));
    }

    private static async Task<IResult> DeleteAsync(string? key, bool? immediate, ObjectDeleter deleter, CancellationToken cancellationToken)
    {
        if (ObjectKeys.Validate(key) is { } error)
        {
            return Problems.Result(StatusCodes.Status400BadRequest, "Invalid key", error);
        }

        return await deleter.DeleteAsync(key!, immediate ?? false, cancellationToken) is null ? NotFound(key!) : Results.NoContent();
    }

    private static IResult NotFound(string key)
        => Problems.Result(StatusCodes.Status404NotFound, "Not found", $"No object has the key '{key}'.");
}

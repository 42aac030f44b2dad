using EdgeRouter.Catalog;
using EdgeRouter.Observability;
using EdgeRouter.Placement;
using EdgeRouter.Storage;

namespace EdgeRouter.Uploads;

/// <summary><c>/api/v1/objects</c>: upload, look up and delete objects. Every route needs an upload API key.</summary>
internal static partial class ObjectApiEndpoints
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

    private static async Task<IResult> DeleteAsync(
        string? key,
        IObjectCatalog catalog,
        KeyLocks keyLocks,
        StorageUsageTracker usage,
        PendingDeleteProcessor deletes,
        ILogger<UploadHandler> logger,
        CancellationToken cancellationToken)
    {
        if (ObjectKeys.Validate(key) is { } error)
        {
            return Problems.Result(StatusCodes.Status400BadRequest, "Invalid key", error);
        }

        await using (await keyLocks.AcquireAsync(key!, cancellationToken))
        {
            var record = await catalog.FindAsync(key!, cancellationToken);
            if (record is null || !await catalog.RemoveAsync(record, cancellationToken))
            {
                return NotFound(key!);
            }

            // From here the key is gone for readers; the object itself is deleted now or, failing that, by the sweeper.
            usage.Remove(record.StorageId, record.Size);
            await deletes.TryDeleteAsync(new PendingDelete(record.StorageId, record.Key), CancellationToken.None);
            Log.Deleted(logger, key!, record.StorageId);
            return Results.NoContent();
        }
    }

    private static IResult NotFound(string key)
        => Problems.Result(StatusCodes.Status404NotFound, "Not found", $"No object has the key '{key}'.");

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.ObjectDeleted, Level = LogLevel.Information, Message = "Deleted {Key} (was on {StorageId})")]
        public static partial void Deleted(ILogger logger, string key, string storageId);
    }
}

using EdgeRouter.Catalog;
using EdgeRouter.Observability;
using EdgeRouter.Placement;
using EdgeRouter.Storage;

namespace EdgeRouter.Uploads;

/// <summary><c>/api/v1/objects</c>: upload (with an API key or an upload token), look up and delete (with an API key) objects.</summary>
internal static class ObjectApiEndpoints
{
    public const string Route = "/api/v1/objects";

    /// <summary>The CORS policy of the routes a browser uploads through (<c>Uploads:Cors:AllowedOrigins</c>).</summary>
    public const string CorsPolicy = "EdgeRouterUploads";

    public static IEndpointRouteBuilder MapObjectApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup(Route).WithTags("Objects");

        // Creating takes an API key or an upload token, from the server or from a browser on an allowed origin.
        group.MapPost("/", (HttpContext context, UploadHandler handler) => handler.UploadAsync(context, null)).RequireAuthorization(ApiKeys.UploadPolicy).RequireCors(CorsPolicy);
        // An empty catch-all binds as null; it goes through key validation like any other key, for a precise 400.
        group.MapPut("/{**key}", (HttpContext context, string? key, UploadHandler handler) => handler.UploadAsync(context, key ?? string.Empty)).RequireAuthorization(ApiKeys.UploadPolicy).RequireCors(CorsPolicy);

        // Reading the catalog and deleting take an API key.
        group.MapGet("/{**key}", GetAsync).RequireAuthorization(ApiKeys.Scheme);
        group.MapDelete("/{**key}", DeleteAsync).RequireAuthorization(ApiKeys.Scheme);
        endpoints.MapPost(Tokens.UploadTokenEndpoints.Route, Tokens.UploadTokenEndpoints.CreateAsync).RequireAuthorization(ApiKeys.Scheme).WithTags("Upload tokens");

        // Resumable uploads (tus 1.0): creating takes a key or a token; an upload's own URL then takes a key or that token.
        var tus = endpoints.MapGroup(Tus.TusHandler.Route).WithTags("Resumable uploads").RequireCors(CorsPolicy);
        tus.MapMethods("/", [HttpMethods.Options], (HttpContext context, Tus.TusHandler handler) => handler.Describe(context));
        tus.MapMethods("/{id}", [HttpMethods.Options], (HttpContext context, Tus.TusHandler handler) => handler.Describe(context));
        tus.MapPost("/", (HttpContext context, Tus.TusHandler handler) => handler.CreateAsync(context)).RequireAuthorization(ApiKeys.UploadPolicy);
        tus.MapMethods("/{id}", [HttpMethods.Head], (HttpContext context, string id, Tus.TusHandler handler) => handler.HeadAsync(context, id));
        tus.MapPatch("/{id}", (HttpContext context, string id, Tus.TusHandler handler) => handler.PatchAsync(context, id));
        tus.MapDelete("/{id}", (HttpContext context, string id, Tus.TusHandler handler) => handler.TerminateAsync(context, id));
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

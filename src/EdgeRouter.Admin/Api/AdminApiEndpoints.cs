using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeRouter.Admin.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace EdgeRouter.Admin.Api;

/// <summary>The JSON admin API under <c>{PathBase}/api</c>: storages (list, add, edit, remove, test), objects (find, delete).</summary>
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

        api.MapGet("/traffic", (AdminOperations admin) => Results.Ok(admin.GetTraffic()));

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

        api.MapDelete("/objects/{**key}", async (string key, bool? immediate, HttpContext context, AdminOperations admin, CancellationToken cancellationToken) =>
            await admin.DeleteObjectAsync(Who(context), key, immediate ?? false, cancellationToken) is null
                ? Results.Problem(title: "Not found", detail: $"No object has the key '{key}'.", statusCode: StatusCodes.Status404NotFound)
                : Results.NoContent());

        api.MapPost("/storages", async (JsonObject entry, HttpContext context, AdminOperations admin, CancellationToken cancellationToken) =>
            NewId(entry) is { } id
                ? ToResult(
                    await admin.EditStorageAsync(Who(context), AdminOperations.Edit(AdminEditKind.Add, id, entry), cancellationToken),
                    Results.Created($"{options.PathBase}/api/storages/{Uri.EscapeDataString(id)}", null))
                : NoId);

        // PUT replaces a storage's entry, PATCH changes the fields it names (null removes one); in both, a secret sent
        // blank or masked keeps its stored value.
        api.MapPut("/storages/{id}", async (string id, JsonObject entry, HttpContext context, AdminOperations admin, CancellationToken cancellationToken) =>
            ToResult(await admin.EditStorageAsync(Who(context), AdminOperations.Edit(AdminEditKind.Replace, id, entry), cancellationToken), Results.NoContent()));

        api.MapPatch("/storages/{id}", async (string id, JsonObject changes, HttpContext context, AdminOperations admin, CancellationToken cancellationToken) =>
            ToResult(await admin.EditStorageAsync(Who(context), AdminOperations.Edit(AdminEditKind.Merge, id, changes), cancellationToken), Results.NoContent()));

        api.MapDelete("/storages/{id}", async (string id, HttpContext context, AdminOperations admin, CancellationToken cancellationToken) =>
            ToResult(await admin.EditStorageAsync(Who(context), new AdminStorageEdit(AdminEditKind.Remove, id), cancellationToken), Results.NoContent()));

        // Without a body, tests the storage as saved; with one, as those changes (PATCH's) would leave it, saving nothing.
        api.MapPost("/storages/{id}/test", async (string id, HttpContext context, AdminOperations admin, CancellationToken cancellationToken) =>
        {
            if (context.Request.HasJsonContentType())
            {
                var changes = await context.Request.ReadFromJsonAsync<JsonObject>(cancellationToken);
                return ToResult(await admin.TestDraftAsync(Who(context), AdminOperations.Edit(AdminEditKind.Merge, id, changes), cancellationToken));
            }

            return await admin.TestStorageAsync(Who(context), id, cancellationToken) is { } result
                ? Results.Ok(result)
                : Results.Problem(title: "Unknown storage", detail: $"There is no storage '{id}'.", statusCode: StatusCodes.Status404NotFound);
        });

        // A new storage's draft, tested before it is added.
        api.MapPost("/storages/test", async (JsonObject entry, HttpContext context, AdminOperations admin, CancellationToken cancellationToken) =>
            NewId(entry) is { } id
                ? ToResult(await admin.TestDraftAsync(Who(context), AdminOperations.Edit(AdminEditKind.Add, id, entry), cancellationToken))
                : NoId);

        // Data-mobility jobs: queued here, run by whichever instance claims them, followed by id.
        api.MapPost("/jobs", async (JsonObject spec, HttpContext context, AdminOperations admin, CancellationToken cancellationToken) =>
        {
            var created = await admin.CreateJobAsync(Who(context), spec, cancellationToken);
            return created.Job is { } job
                ? Results.Accepted($"{options.PathBase}/api/jobs/{job.Id}", new { id = job.Id })
                : Invalid(created.Problems, "Invalid job");
        });

        api.MapGet("/jobs", async (AdminOperations admin, CancellationToken cancellationToken) =>
            Results.Ok((await admin.ListJobsAsync(100, cancellationToken)).Select(ToJson)));

        api.MapGet("/jobs/{id}", async (string id, AdminOperations admin, CancellationToken cancellationToken) =>
            await admin.GetJobAsync(id, cancellationToken) is { } job ? Results.Ok(ToJson(job)) : NoJob(id));

        api.MapDelete("/jobs/{id}", async (string id, HttpContext context, AdminOperations admin, CancellationToken cancellationToken) =>
            await admin.CancelJobAsync(Who(context), id, cancellationToken) is { } job ? Results.Ok(ToJson(job)) : NoJob(id));

        // CDN purges: the outbox (pending, sent, dead with the CDN's answer), a retry of a dead one, a purge by hand.
        api.MapGet("/purges", async (string? state, int? limit, AdminOperations admin, CancellationToken cancellationToken) =>
            state is null or "pending" or "sent" or "dead"
                ? Results.Ok(await admin.ListPurgesAsync(state, Math.Clamp(limit ?? 100, 1, 1000), cancellationToken))
                : Invalid([$"'state' must be pending, sent or dead (was '{state}')."], "Invalid query"));

        api.MapPost("/purges", async (AdminPurgeRequest request, HttpContext context, AdminOperations admin, CancellationToken cancellationToken) =>
        {
            var result = await admin.PurgeAsync(Who(context), request, cancellationToken);
            return result.Problems.Count == 0 ? Results.Accepted($"{options.PathBase}/api/purges", new { recorded = result.Recorded }) : Invalid(result.Problems, "Invalid purge");
        });

        api.MapPost("/purges/{id:long}/retry", async (long id, HttpContext context, AdminOperations admin, CancellationToken cancellationToken) =>
            await admin.RetryPurgeAsync(Who(context), id, cancellationToken)
                ? Results.Ok(new { id, state = "pending" })
                : Results.Problem(title: "Unknown purge", detail: $"There is no dead-lettered purge {id}.", statusCode: StatusCodes.Status404NotFound));

        return api;
    }

    private static IResult NoJob(string id) => Results.Problem(title: "Unknown job", detail: $"There is no job '{id}'.", statusCode: StatusCodes.Status404NotFound);

    private static object ToJson(AdminJob job)
    {
        var now = DateTimeOffset.UtcNow;
        return new
        {
            id = job.Id,
            kind = job.Kind,
            state = job.State,
            processed = job.Processed,
            total = job.Total,
            bytes = job.Bytes,
            errors = job.Errors,
            createdAt = job.CreatedAt,
            startedAt = job.StartedAt,
            finishedAt = job.FinishedAt,
            cancelRequested = job.CancelRequested,
            owner = job.Owner,
            objectsPerSecond = job.Rate(now),
            etaSeconds = job.Remaining(now)?.TotalSeconds,
            spec = job.Spec,
            report = job.Report,
        };
    }

    public static string Who(HttpContext context) => context.User.Identity?.Name ?? "?";

    private static IResult NoId => Results.Problem(title: "Invalid storage", detail: "A new storage needs an 'id'.", statusCode: StatusCodes.Status400BadRequest);

    // The id of a new storage's entry: a non-empty string, or null.
    private static string? NewId(JsonObject entry)
        => entry["id"] is JsonValue id && id.GetValueKind() == JsonValueKind.String && (string?)id is { Length: > 0 } storageId ? storageId : null;

    private static IResult ToResult(AdminChangeResult result, IResult done) => result.Outcome switch
    {
        AdminChangeOutcome.Done => done,
        AdminChangeOutcome.UnknownStorage => Results.Problem(title: "Unknown storage", detail: result.Problems[0], statusCode: result.ProblemStatus),
        AdminChangeOutcome.Conflict => Results.Problem(title: "Conflict", detail: result.Problems[0], statusCode: result.ProblemStatus),

        // The same messages storages.json gets, so an operator can fix either the same way.
        _ => Invalid(result.Problems),
    };

    private static IResult ToResult(AdminDraftTest draft) => draft.Test is { } test ? Results.Ok(test) : Invalid(draft.Problems);

    private static IResult Invalid(IReadOnlyList<string> problems, string title = "Invalid storage")
        => Results.Problem(title: title, detail: string.Join(" ", problems), statusCode: StatusCodes.Status400BadRequest, extensions: new Dictionary<string, object?> { ["errors"] = problems });
}

/// <summary>Marks the admin API's endpoints, so its OpenAPI document holds them wherever the admin is mounted.</summary>
internal sealed class AdminApiMarker;

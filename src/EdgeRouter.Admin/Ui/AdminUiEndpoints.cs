using System.Globalization;
using System.Security.Claims;
using System.Text.Json.Nodes;
using EdgeRouter.Admin.Api;
using EdgeRouter.Admin.Authentication;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EdgeRouter.Admin.Ui;

/// <summary>
/// The operators' pages: server-rendered Razor components, plain HTML forms (no script), cookie sign-in with the admin
/// key, and an antiforgery token checked on every post. Each post answers with a redirect or the page it changed.
/// </summary>
internal static class AdminUiEndpoints
{
    private const int ObjectsPageSize = 50;

    public static void MapAdminUi(this IEndpointRouteBuilder endpoints, AdminOptions options)
    {
        var pathBase = options.PathBase;
        var pages = endpoints.MapGroup(pathBase).AddEndpointFilter(PageHeaders).ExcludeFromDescription();
        var signedIn = pages.MapGroup(string.Empty).RequireAuthorization(AdminPolicies.Ui);
        var posts = signedIn.MapGroup(string.Empty).AddEndpointFilter(RequireAntiforgery);

        pages.MapGet("/signin", (HttpContext context, IAntiforgery antiforgery, string? returnUrl)
            => Page<SignInPage>(new { PathBase = pathBase, Token = TokenFor(context, antiforgery), ReturnUrl = returnUrl }));

        pages.MapPost("/signin", SignInAsync).AddEndpointFilter(RequireAntiforgery);

        signedIn.MapGet("/", async (HttpContext context, IAntiforgery antiforgery, AdminOperations admin, CancellationToken cancellationToken)
            => Page<DashboardPage>(new { PathBase = pathBase, Token = TokenFor(context, antiforgery), Overview = await admin.GetOverviewAsync(cancellationToken), Traffic = admin.GetTraffic() }));

        signedIn.MapGet("/storages", async (HttpContext context, IAntiforgery antiforgery, AdminOperations admin, string? done, CancellationToken cancellationToken)
            => Page<StoragesPage>(new { PathBase = pathBase, Token = TokenFor(context, antiforgery), Overview = await admin.GetOverviewAsync(cancellationToken), Done = done }));

        posts.MapPost("/storages/{id}", async (string id, HttpContext context, IAntiforgery antiforgery, AdminOperations admin, CancellationToken cancellationToken) =>
        {
            var problems = new List<string>();
            var changes = ReadQuickChange(context.Request.Form, problems);
            var result = problems.Count > 0
                ? new AdminChangeResult(AdminChangeOutcome.Invalid, problems)
                : await admin.EditStorageAsync(AdminApiEndpoints.Who(context), AdminOperations.Edit(AdminEditKind.Merge, id, changes), cancellationToken);
            return result.Outcome == AdminChangeOutcome.Done
                ? Done(pathBase, "storages", $"Storage '{id}' changed.")
                : Page<StoragesPage>(
                    new { PathBase = pathBase, Token = TokenFor(context, antiforgery), Overview = await admin.GetOverviewAsync(cancellationToken), Problems = result.Problems },
                    result.ProblemStatus);
        });

        signedIn.MapGet("/storages/new", (HttpContext context, IAntiforgery antiforgery, IAdminDataSource data)
            => EditPage(pathBase, context, antiforgery, data, new StorageForm(), isNew: true));

        signedIn.MapGet("/storages/{id}/edit", async (string id, HttpContext context, IAntiforgery antiforgery, IAdminDataSource data, AdminOperations admin, CancellationToken cancellationToken)
            => await admin.FindStorageAsync(id, cancellationToken) is { } storage
                ? EditPage(pathBase, context, antiforgery, data, StorageForm.From(storage), isNew: false)
                : Done(pathBase, "storages", $"There is no storage '{id}'."));

        posts.MapPost("/storages/new", (HttpContext context, IAntiforgery antiforgery, IAdminDataSource data, AdminOperations admin, CancellationToken cancellationToken)
            => SaveOrTestAsync(pathBase, context, antiforgery, data, admin, id: null, cancellationToken));

        posts.MapPost("/storages/{id}/edit", (string id, HttpContext context, IAntiforgery antiforgery, IAdminDataSource data, AdminOperations admin, CancellationToken cancellationToken)
            => SaveOrTestAsync(pathBase, context, antiforgery, data, admin, id, cancellationToken));

        posts.MapPost("/storages/{id}/remove", async (string id, HttpContext context, IAntiforgery antiforgery, IAdminDataSource data, AdminOperations admin, CancellationToken cancellationToken) =>
        {
            var result = context.Request.Form["confirm"] != "yes"
                ? new AdminChangeResult(AdminChangeOutcome.Invalid, ["Tick the box to confirm the removal."])
                : await admin.EditStorageAsync(AdminApiEndpoints.Who(context), new AdminStorageEdit(AdminEditKind.Remove, id), cancellationToken);
            if (result.Outcome == AdminChangeOutcome.Done)
            {
                return Done(pathBase, "storages", $"Storage '{id}' removed.");
            }

            return await admin.FindStorageAsync(id, cancellationToken) is { } storage
                ? EditPage(pathBase, context, antiforgery, data, StorageForm.From(storage), isNew: false, result.Problems, status: result.ProblemStatus)
                : Done(pathBase, "storages", result.Problems[0]);
        });

        posts.MapPost("/storages/{id}/test", async (string id, HttpContext context, IAntiforgery antiforgery, AdminOperations admin, CancellationToken cancellationToken) =>
        {
            var test = await admin.TestStorageAsync(AdminApiEndpoints.Who(context), id, cancellationToken);
            return Page<StoragesPage>(
                new { PathBase = pathBase, Token = TokenFor(context, antiforgery), Overview = await admin.GetOverviewAsync(cancellationToken), Test = test, Problems = test is null ? new[] { $"There is no storage '{id}'." } : null },
                test is null ? StatusCodes.Status404NotFound : StatusCodes.Status200OK);
        });

        signedIn.MapGet("/objects", async (HttpContext context, IAntiforgery antiforgery, AdminOperations admin, string? prefix, string? after, string? done, CancellationToken cancellationToken) =>
        {
            var items = await admin.ListObjectsAsync(prefix ?? string.Empty, after, ObjectsPageSize, cancellationToken);
            return Page<ObjectsPage>(new
            {
                PathBase = pathBase,
                Token = TokenFor(context, antiforgery),
                Items = items,
                Prefix = prefix ?? string.Empty,
                After = after,
                Next = items.Count == ObjectsPageSize ? items[^1].Key : null,
                Done = done,
            });
        });

        signedIn.MapGet("/objects/delete", async (HttpContext context, IAntiforgery antiforgery, AdminOperations admin, string? key, CancellationToken cancellationToken) =>
        {
            var found = key is null ? null : (await admin.ListObjectsAsync(key, null, 1, cancellationToken)).FirstOrDefault(o => o.Key == key);
            return found is null
                ? Done(pathBase, "objects", $"There is no object '{key}'.")
                : Page<DeleteObjectPage>(new { PathBase = pathBase, Token = TokenFor(context, antiforgery), Object = found });
        });

        posts.MapPost("/objects/delete", async (HttpContext context, AdminOperations admin, CancellationToken cancellationToken) =>
        {
            var key = context.Request.Form["key"].ToString();
            var immediate = string.Equals(context.Request.Form["immediate"], "true", StringComparison.Ordinal);
            var deleted = await admin.DeleteObjectAsync(AdminApiEndpoints.Who(context), key, immediate, cancellationToken);
            return Done(pathBase, "objects", deleted is null ? $"There is no object '{key}'." : $"Deleted '{key}'.");
        });

        signedIn.MapGet("/jobs", async (HttpContext context, IAntiforgery antiforgery, AdminOperations admin, string? done, CancellationToken cancellationToken) =>
            await JobsPageAsync(pathBase, context, antiforgery, admin, done, null, StatusCodes.Status200OK, cancellationToken));

        posts.MapPost("/jobs", async (HttpContext context, IAntiforgery antiforgery, AdminOperations admin, CancellationToken cancellationToken) =>
        {
            // The form's fields as a job spec: empty fields are left out, checkboxes are true when sent.
            var spec = new JsonObject();
            foreach (var (name, value) in context.Request.Form)
            {
                var text = value.ToString();
                if (name.StartsWith("__", StringComparison.Ordinal) || text.Length == 0)
                {
                    continue;
                }

                spec[name] = name is "deep" or "repair" or "dryRun" ? text == "true"
                    : name == "objectsPerSecond" && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var rate) ? rate
                    : text;
            }

            var created = await admin.CreateJobAsync(AdminApiEndpoints.Who(context), spec, cancellationToken);
            return created.Job is { } job
                ? Done(pathBase, "jobs", $"Queued job {job.Id}.")
                : await JobsPageAsync(pathBase, context, antiforgery, admin, null, created.Problems, StatusCodes.Status400BadRequest, cancellationToken);
        });

        posts.MapPost("/jobs/{id}/cancel", async (string id, HttpContext context, AdminOperations admin, CancellationToken cancellationToken) =>
        {
            var job = await admin.CancelJobAsync(AdminApiEndpoints.Who(context), id, cancellationToken);
            return Done(pathBase, "jobs", job is null ? $"There is no job '{id}'." : $"Job {id}: {(job.State == "running" ? "cancelling" : job.State)}.");
        });

        signedIn.MapGet("/purges", async (HttpContext context, IAntiforgery antiforgery, AdminOperations admin, string? state, string? done, CancellationToken cancellationToken) =>
            await PurgesPageAsync(pathBase, context, antiforgery, admin, state, done, null, StatusCodes.Status200OK, cancellationToken));

        posts.MapPost("/purges", async (HttpContext context, IAntiforgery antiforgery, AdminOperations admin, CancellationToken cancellationToken) =>
        {
            var subject = context.Request.Form["subject"].ToString();
            var request = context.Request.Form["scope"].ToString() switch
            {
                "prefix" => new AdminPurgeRequest(null, subject, null),
                "storage" => new AdminPurgeRequest(null, null, subject),
                _ => new AdminPurgeRequest(subject, null, null),
            };
            var result = await admin.PurgeAsync(AdminApiEndpoints.Who(context), request, cancellationToken);
            return result.Problems.Count == 0
                ? Done(pathBase, "purges", $"Recorded {result.Recorded} purges.")
                : await PurgesPageAsync(pathBase, context, antiforgery, admin, null, null, result.Problems, StatusCodes.Status400BadRequest, cancellationToken);
        });

        posts.MapPost("/purges/{id:long}/retry", async (long id, HttpContext context, AdminOperations admin, CancellationToken cancellationToken) =>
            Done(pathBase, "purges", await admin.RetryPurgeAsync(AdminApiEndpoints.Who(context), id, cancellationToken) ? $"Purge {id} is pending again." : $"There is no dead purge {id}."));

        posts.MapPost("/signout", async (HttpContext context) =>
        {
            await context.SignOutAsync(AdminPolicies.CookieScheme);
            return Results.Redirect(pathBase + "/signin");
        });
    }

    private static async Task<IResult> SignInAsync(HttpContext context, IAntiforgery antiforgery, AdminLockout lockout, IOptions<AdminOptions> options)
    {
        var form = context.Request.Form;
        var address = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        var returnUrl = form["returnUrl"].ToString();
        if (lockout.IsLockedOut(address))
        {
            return Again("Too many failed attempts from this address; try again later.", StatusCodes.Status429TooManyRequests);
        }

        if (lockout.Verify(address, form["key"].ToString()) is not { } name)
        {
            return Again("That is not an admin key.", StatusCodes.Status401Unauthorized);
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, name)], AdminPolicies.CookieScheme);
        await context.SignInAsync(AdminPolicies.CookieScheme, new ClaimsPrincipal(identity));

        // Only a path inside the admin may be returned to: anything else would make the sign-in an open redirect.
        var pathBase = options.Value.PathBase;
        var local = returnUrl.StartsWith(pathBase + "/", StringComparison.Ordinal) && !returnUrl.StartsWith("//", StringComparison.Ordinal) && !returnUrl.Contains('\\', StringComparison.Ordinal);
        return Results.Redirect(local ? returnUrl : pathBase + "/");

        IResult Again(string error, int status)
            => Page<SignInPage>(new { PathBase = options.Value.PathBase, Token = TokenFor(context, antiforgery), Error = error, ReturnUrl = returnUrl }, status);
    }

    // The storages list's one-field forms: a new weight, or the storage switched on or off.
    private static JsonObject ReadQuickChange(IFormCollection form, List<string> problems)
    {
        var changes = new JsonObject();
        if (form.TryGetValue("weight", out var w))
        {
            if (double.TryParse(w, NumberStyles.Float, CultureInfo.InvariantCulture, out var weight))
            {
                changes["weight"] = weight;
            }
            else
            {
                problems.Add($"The weight '{w}' is not a number.");
            }
        }

        if (form.TryGetValue("active", out var a))
        {
            if (bool.TryParse(a, out var active))
            {
                changes["active"] = active;
            }
            else
            {
                problems.Add($"'active' must be true or false, not '{a}'.");
            }
        }

        if (changes.Count == 0 && problems.Count == 0)
        {
            problems.Add("Send 'weight' and/or 'active'.");
        }

        return changes;
    }

    // The add/edit form's two buttons: test the draft (nothing saved), or save it.
    private static async Task<IResult> SaveOrTestAsync(string pathBase, HttpContext context, IAntiforgery antiforgery, IAdminDataSource data, AdminOperations admin, string? id, CancellationToken cancellationToken)
    {
        var saved = id is null ? null : await admin.FindStorageAsync(id, cancellationToken);
        if (id is not null && saved is null)
        {
            return Done(pathBase, "storages", $"There is no storage '{id}'.");
        }

        var form = StorageForm.From(context.Request.Form, id) with { Api = saved?.Api ?? context.Request.Form["api"].ToString().Trim() };
        var testing = context.Request.Form["action"] == "test";
        var problems = new List<string>();
        if (form.Id.Length == 0)
        {
            problems.Add("A new storage needs an id.");
        }

        var entry = form.ToEntry(saved?.Settings, problems);
        if (problems.Count > 0)
        {
            return EditPage(pathBase, context, antiforgery, data, form.Remasked(), id is null, problems, testing, status: StatusCodes.Status400BadRequest);
        }

        var edit = AdminOperations.Edit(id is null ? AdminEditKind.Add : AdminEditKind.Merge, form.Id, entry);
        if (testing)
        {
            var draft = await admin.TestDraftAsync(AdminApiEndpoints.Who(context), edit, cancellationToken);
            return EditPage(pathBase, context, antiforgery, data, form.Remasked(), id is null, draft.Problems, testing, draft.Test, draft.Test is null ? StatusCodes.Status400BadRequest : StatusCodes.Status200OK);
        }

        var result = await admin.EditStorageAsync(AdminApiEndpoints.Who(context), edit, cancellationToken);
        return result.Outcome == AdminChangeOutcome.Done
            ? Done(pathBase, "storages", $"Storage '{form.Id}' {(id is null ? "added" : "saved")}.")
            : EditPage(pathBase, context, antiforgery, data, form.Remasked(), id is null, result.Problems, status: result.ProblemStatus);
    }

    private static RazorComponentResult<StorageEditPage> EditPage(
        string pathBase,
        HttpContext context,
        IAntiforgery antiforgery,
        IAdminDataSource data,
        StorageForm form,
        bool isNew,
        IReadOnlyList<string>? problems = null,
        bool testing = false,
        AdminConnectionTest? test = null,
        int status = StatusCodes.Status200OK)
        => Page<StorageEditPage>(
            new
            {
                PathBase = pathBase,
                Token = TokenFor(context, antiforgery),
                Form = form,
                IsNew = isNew,
                data.Apis,
                ReadOnlyReason = data.GetReadOnlyReason(),
                Problems = problems,
                Testing = testing,
                Test = test,
            },
            status);

    // After a post, back to a list page with what happened (post/redirect/get).
    private static async Task<IResult> JobsPageAsync(string pathBase, HttpContext context, IAntiforgery antiforgery, AdminOperations admin, string? done, IReadOnlyList<string>? problems, int status, CancellationToken cancellationToken)
        => Page<JobsPage>(
            new
            {
                PathBase = pathBase,
                Token = TokenFor(context, antiforgery),
                Jobs = await admin.ListJobsAsync(100, cancellationToken),
                Storages = (await admin.GetOverviewAsync(cancellationToken)).Storages.Select(s => s.Storage.Id).ToList(),
                Now = DateTimeOffset.UtcNow,
                Done = done,
                Problems = problems,
            },
            status);

    private static async Task<IResult> PurgesPageAsync(string pathBase, HttpContext context, IAntiforgery antiforgery, AdminOperations admin, string? state, string? done, IReadOnlyList<string>? problems, int status, CancellationToken cancellationToken)
        => Page<PurgesPage>(
            new
            {
                PathBase = pathBase,
                Token = TokenFor(context, antiforgery),
                Purges = await admin.ListPurgesAsync(state is "pending" or "sent" or "dead" ? state : null, 100, cancellationToken),
                Now = DateTimeOffset.UtcNow,
                Done = done,
                Problems = problems,
            },
            status);

    private static IResult Done(string pathBase, string page, string message)
        => Results.Redirect($"{pathBase}/{page}?done={Uri.EscapeDataString(message)}");

    private static AntiforgeryField TokenFor(HttpContext context, IAntiforgery antiforgery)
    {
        var tokens = antiforgery.GetAndStoreTokens(context);
        return new AntiforgeryField(tokens.FormFieldName, tokens.RequestToken!);
    }

    private static RazorComponentResult<TPage> Page<TPage>(object parameters, int status = StatusCodes.Status200OK)
        where TPage : Microsoft.AspNetCore.Components.IComponent
        => new RazorComponentResult<TPage>(parameters) { StatusCode = status };

    /// <summary>Pages hold operational detail: never cached, framed, sniffed or given scripts.</summary>
    private static ValueTask<object?> PageHeaders(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var headers = invocation.HttpContext.Response.Headers;
        headers.CacheControl = "no-store";
        headers.XFrameOptions = "DENY";
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
        return next(invocation);
    }

    private static async ValueTask<object?> RequireAntiforgery(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        var antiforgery = context.RequestServices.GetRequiredService<IAntiforgery>();
        try
        {
            await antiforgery.ValidateRequestAsync(context);
        }
        catch (AntiforgeryValidationException)
        {
            return Results.Problem(
                title: "Form not accepted",
                detail: "The form's antiforgery token is missing or not valid; reload the page and submit it again.",
                statusCode: StatusCodes.Status400BadRequest);
        }

        return await next(invocation);
    }
}

using System.Globalization;
using System.Security.Claims;
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
            => Page<DashboardPage>(new { PathBase = pathBase, Token = TokenFor(context, antiforgery), Overview = await admin.GetOverviewAsync(cancellationToken) }));

        signedIn.MapGet("/storages", async (HttpContext context, IAntiforgery antiforgery, AdminOperations admin, string? done, CancellationToken cancellationToken)
            => Page<StoragesPage>(new { PathBase = pathBase, Token = TokenFor(context, antiforgery), Overview = await admin.GetOverviewAsync(cancellationToken), Done = done }));

        posts.MapPost("/storages/{id}", async (string id, HttpContext context, IAntiforgery antiforgery, AdminOperations admin, CancellationToken cancellationToken) =>
        {
            var form = context.Request.Form;
            if (!TryReadChange(form, out var change, out var problem))
            {
                return await StoragesAsync(StatusCodes.Status400BadRequest, problems: [problem]);
            }

            var result = await admin.UpdateStorageAsync(AdminApiEndpoints.Who(context), id, change, cancellationToken);
            return result.Outcome switch
            {
                AdminChangeOutcome.Done => Results.Redirect($"{pathBase}/storages?done={Uri.EscapeDataString($"Storage '{id}' changed.")}"),
                AdminChangeOutcome.UnknownStorage => await StoragesAsync(StatusCodes.Status404NotFound, problems: result.Problems),
                _ => await StoragesAsync(StatusCodes.Status400BadRequest, problems: result.Problems),
            };

            async Task<IResult> StoragesAsync(int status, IReadOnlyList<string> problems)
                => Page<StoragesPage>(new { PathBase = pathBase, Token = TokenFor(context, antiforgery), Overview = await admin.GetOverviewAsync(cancellationToken), Problems = problems }, status);
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
                ? Results.Redirect($"{pathBase}/objects?done={Uri.EscapeDataString($"There is no object '{key}'.")}")
                : Page<DeleteObjectPage>(new { PathBase = pathBase, Token = TokenFor(context, antiforgery), Object = found });
        });

        posts.MapPost("/objects/delete", async (HttpContext context, AdminOperations admin, CancellationToken cancellationToken) =>
        {
            var key = context.Request.Form["key"].ToString();
            var deleted = await admin.DeleteObjectAsync(AdminApiEndpoints.Who(context), key, cancellationToken);
            var done = deleted is null ? $"There is no object '{key}'." : $"Deleted '{key}'.";
            return Results.Redirect($"{pathBase}/objects?done={Uri.EscapeDataString(done)}");
        });

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

    private static bool TryReadChange(IFormCollection form, out AdminStorageChange change, out string problem)
    {
        double? weight = null;
        bool? active = null;
        problem = string.Empty;
        if (form.TryGetValue("weight", out var w))
        {
            if (!double.TryParse(w, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed))
            {
                problem = $"The weight '{w}' is not a number.";
            }

            weight = parsed;
        }

        if (form.TryGetValue("active", out var a))
        {
            if (!bool.TryParse(a, out var parsed))
            {
                problem = $"'active' must be true or false, not '{a}'.";
            }

            active = parsed;
        }

        change = new AdminStorageChange(weight, active);
        return problem.Length == 0;
    }

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

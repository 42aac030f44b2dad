using Microsoft.AspNetCore.Mvc;

namespace EdgeRouter.Uploads;

/// <summary>RFC 7807 problem+json answers with a precise detail; never carries secrets or stack traces.</summary>
internal static class Problems
{
    public static IResult Result(int status, string title, string detail, IDictionary<string, object?>? extensions = null)
        => Results.Problem(detail: detail, statusCode: status, title: title, type: TypeFor(status), extensions: extensions);

    /// <summary>
    /// A problem the client may retry: <c>retryable: true</c> in the body and <c>Retry-After</c>, so clients and
    /// load balancers back off instead of hammering.
    /// </summary>
    public static IResult Retryable(int status, string title, string detail, TimeSpan retryAfter)
        => new RetryAfterResult(Result(status, title, detail, new Dictionary<string, object?> { ["retryable"] = true }), retryAfter);

    /// <summary>Writes a problem directly, for middleware and handlers that answer outside an endpoint result.</summary>
    public static Task WriteAsync(HttpContext context, int status, string title, string detail)
    {
        context.Response.StatusCode = status;
        var problem = new ProblemDetails { Status = status, Title = title, Detail = detail, Type = TypeFor(status) };
        return context.Response.WriteAsJsonAsync(problem, options: null, contentType: "application/problem+json", context.RequestAborted);
    }

    private static string TypeFor(int status) => status switch
    {
        400 => "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.1",
        401 => "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.2",
        404 => "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.5",
        408 => "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.9",
        409 => "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.10",
        413 => "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.14",
        415 => "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.16",
        502 => "https://www.rfc-editor.org/rfc/rfc9110#section-15.6.3",
        503 => "https://www.rfc-editor.org/rfc/rfc9110#section-15.6.4",
        504 => "https://www.rfc-editor.org/rfc/rfc9110#section-15.6.5",
        507 => "https://www.rfc-editor.org/rfc/rfc4918#section-11.5",
        _ => "about:blank",
    };

    private sealed class RetryAfterResult(IResult inner, TimeSpan retryAfter) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.RetryAfter = ((long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return inner.ExecuteAsync(httpContext);
        }
    }
}

using EdgeRouter.Catalog;
using EdgeRouter.Uploads;
using Microsoft.AspNetCore.Diagnostics;

namespace EdgeRouter.Hosting;

/// <summary>A catalog outage is a 503 the client may retry, never a 500 with details.</summary>
internal sealed class CatalogUnavailableExceptionHandler : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not CatalogUnavailableException)
        {
            return false;
        }

        httpContext.Response.Headers.CacheControl = "no-store";
        httpContext.Response.Headers.RetryAfter = "5";
        await Problems.WriteAsync(httpContext, StatusCodes.Status503ServiceUnavailable, "Catalog unavailable", "The object catalog cannot be reached; try again shortly.");
        return true;
    }
}

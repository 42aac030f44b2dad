using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Matching;

namespace EdgeRouter.Admin;

/// <summary>Marks an admin endpoint that answers only on connections to one local port (<see cref="AdminOptions.Port"/>).</summary>
internal sealed record AdminPortMetadata(int Port);

/// <summary>
/// Takes admin endpoints out of the match on every other port, so under the public host name the admin does not
/// exist at all: its paths fall through to whatever else matches (an object read, which answers 404). The local
/// port is the connection's, not the Host header's, which any client can write.
/// </summary>
internal sealed class AdminPortPolicy : MatcherPolicy, IEndpointSelectorPolicy
{
    // Before the HTTP method policy, so a refused endpoint is not reported as "method not allowed".
    public override int Order => -1000;

    public bool AppliesToEndpoints(IReadOnlyList<Endpoint> endpoints)
        => endpoints.Any(e => e.Metadata.GetMetadata<AdminPortMetadata>() is not null);

    public Task ApplyAsync(HttpContext httpContext, CandidateSet candidates)
    {
        for (var i = 0; i < candidates.Count; i++)
        {
            if (candidates[i].Endpoint.Metadata.GetMetadata<AdminPortMetadata>() is { } admin && httpContext.Connection.LocalPort != admin.Port)
            {
                candidates.SetValidity(i, false);
            }
        }

        return Task.CompletedTask;
    }
}

using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EdgeRouter.Storage.Swift;

/// <summary>A token and the object store's account URL it is valid for.</summary>
internal sealed record SwiftSession(string Token, Uri AccountUrl, DateTimeOffset RenewAt);

/// <summary>
/// Signs in to the Identity service (tempauth v1, Keystone v2.0 or v3), finds the <c>object-store</c> endpoint of
/// the service catalog, and keeps the token until shortly before it expires. Concurrent callers share one sign-in.
/// </summary>
internal sealed class SwiftAuthenticator(HttpClient http, SwiftStorageSettings settings, string storageId, TimeProvider timeProvider) : IDisposable
{
    private static readonly TimeSpan DefaultLifetime = TimeSpan.FromHours(1);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private SwiftSession? _session;

    public async ValueTask<SwiftSession> GetSessionAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _session) is { } current && current.RenewAt > timeProvider.GetUtcNow())
        {
            return current;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_session is { } fresh && fresh.RenewAt > timeProvider.GetUtcNow())
            {
                return fresh;
            }

            var session = await SignInAsync(cancellationToken);
            Volatile.Write(ref _session, session);
            return session;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    /// <summary>Forgets <paramref name="rejected"/> (the service answered 401), so the next call signs in again.</summary>
    public void Invalidate(SwiftSession rejected) => Interlocked.CompareExchange(ref _session, null, rejected);

    private async Task<SwiftSession> SignInAsync(CancellationToken cancellationToken)
    {
        var (token, url, expires) = settings.AuthVersion switch
        {
            1 => await SignInV1Async(cancellationToken),
            2 => await SignInV2Async(cancellationToken),
            _ => await SignInV3Async(cancellationToken),
        };
        if (settings.ObjectStoreUrl is { } overridden)
        {
            url = overridden;
        }

        var now = timeProvider.GetUtcNow();
        var lifetime = (expires ?? now + DefaultLifetime) - now;

        // Renew a minute early (or half-way through a short-lived token), so no request races the expiry.
        var margin = TimeSpan.FromTicks(Math.Min(TimeSpan.FromMinutes(1).Ticks, lifetime.Ticks / 2));
        return new SwiftSession(token, new Uri(url.TrimEnd('/') + "/"), now + lifetime - margin);
    }

    private async Task<(string Token, string Url, DateTimeOffset? Expires)> SignInV1Async(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, settings.AuthUrl);
        request.Headers.Add("X-Auth-User", settings.Username);
        request.Headers.Add("X-Auth-Key", settings.Password);
        using var response = await SendAsync(request, cancellationToken);
        var token = Header(response, "X-Auth-Token") ?? throw Failure("the answer has no X-Auth-Token.");
        var url = Header(response, "X-Storage-Url") ?? throw Failure("the answer has no X-Storage-Url.");
        var expires = long.TryParse(Header(response, "X-Auth-Token-Expires"), CultureInfo.InvariantCulture, out var seconds)
            ? timeProvider.GetUtcNow().AddSeconds(seconds)
            : (DateTimeOffset?)null;
        return (token, url, expires);
    }

    private async Task<(string Token, string Url, DateTimeOffset? Expires)> SignInV2Async(CancellationToken cancellationToken)
    {
        // https://docs.openstack.org/keystone/pike/api_curl_examples.html (v2.0 POST /tokens)
        var auth = new JsonObject { ["passwordCredentials"] = new JsonObject { ["username"] = settings.Username, ["password"] = settings.Password } };
        if (settings.TenantId is { } tenantId)
        {
            auth["tenantId"] = tenantId;
        }
        else
        {
            auth["tenantName"] = settings.TenantName;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, settings.AuthUrl!.TrimEnd('/') + "/tokens") { Content = JsonContent.Create(new JsonObject { ["auth"] = auth }) };
        using var response = await SendAsync(request, cancellationToken);
        var access = (await ReadJsonAsync(response, cancellationToken))["access"];
        var token = (string?)access?["token"]?["id"] ?? throw Failure("the answer has no access.token.id.");
        var endpoints = ObjectStoreEndpoints(access?["serviceCatalog"]);
        var key = settings.Interface switch { "internal" => "internalURL", "admin" => "adminURL", _ => "publicURL" };
        var endpoint = ChooseByRegion(endpoints, e => (string?)e["region"]);
        var url = (string?)endpoint[key] ?? throw Failure($"the object-store endpoint has no {key}.");
        return (token, url, ParseTime((string?)access?["token"]?["expires"]));
    }

    private async Task<(string Token, string Url, DateTimeOffset? Expires)> SignInV3Async(CancellationToken cancellationToken)
    {
        // https://docs.openstack.org/api-ref/identity/v3/#password-authentication-with-scoped-authorization
        var domain = new JsonObject { ["name"] = settings.Domain };
        var project = settings.ProjectId is { } projectId
            ? new JsonObject { ["id"] = projectId }
            : new JsonObject { ["name"] = settings.ProjectName, ["domain"] = domain.DeepClone() };
        var body = new JsonObject
        {
            ["auth"] = new JsonObject
            {
                ["identity"] = new JsonObject
                {
                    ["methods"] = new JsonArray("password"),
                    ["password"] = new JsonObject { ["user"] = new JsonObject { ["name"] = settings.Username, ["domain"] = domain, ["password"] = settings.Password } },
                },
                ["scope"] = new JsonObject { ["project"] = project },
            },
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, settings.AuthUrl!.TrimEnd('/') + "/auth/tokens") { Content = JsonContent.Create(body) };
        using var response = await SendAsync(request, cancellationToken);
        var token = Header(response, "X-Subject-Token") ?? throw Failure("the answer has no X-Subject-Token.");
        var tokenBody = (await ReadJsonAsync(response, cancellationToken))["token"];
        var endpoint = ChooseByRegion(
            ObjectStoreEndpoints(tokenBody?["catalog"]).Where(e => (string?)e["interface"] == settings.Interface).ToList(),
            e => (string?)e["region_id"] ?? (string?)e["region"]);
        var url = (string?)endpoint["url"] ?? throw Failure("the object-store endpoint has no url.");
        return (token, url, ParseTime((string?)tokenBody?["expires_at"]));
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new StorageException($"Swift storage '{storageId}' could not reach its Identity service: {ex.Message}", ex);
        }

        if (!response.IsSuccessStatusCode)
        {
            response.Dispose();

            // Never the request: it holds the password.
            throw Failure(response.StatusCode == HttpStatusCode.Unauthorized
                ? "the Identity service refused the credentials (401)."
                : $"the Identity service answered {(int)response.StatusCode} {response.ReasonPhrase}.");
        }

        return response;
    }

    private static async Task<JsonNode> ReadJsonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        return await JsonNode.ParseAsync(stream, cancellationToken: cancellationToken) ?? new JsonObject();
    }

    private List<JsonNode> ObjectStoreEndpoints(JsonNode? catalog)
    {
        var service = catalog?.AsArray().FirstOrDefault(s => (string?)s?["type"] == "object-store")
            ?? throw Failure("the service catalog has no 'object-store' service.");
        return service["endpoints"]?.AsArray().OfType<JsonNode>().ToList() ?? [];
    }

    private JsonNode ChooseByRegion(List<JsonNode> endpoints, Func<JsonNode, string?> regionOf)
    {
        var regions = string.Join(", ", endpoints.Select(regionOf).Distinct());
        if (settings.Region is { } region)
        {
            return endpoints.FirstOrDefault(e => string.Equals(regionOf(e), region, StringComparison.OrdinalIgnoreCase))
                ?? throw Failure($"the object-store has no {settings.Interface} endpoint in region '{region}' (it has: {regions}).");
        }

        return endpoints.Count switch
        {
            0 => throw Failure($"the object-store has no {settings.Interface} endpoint."),
            1 => endpoints[0],
            _ => throw Failure($"the object-store has endpoints in several regions ({regions}): set 'region'."),
        };
    }

    private static DateTimeOffset? ParseTime(string? value)
        => DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time : null;

    private static string? Header(HttpResponseMessage response, string name)
        => response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    private StorageException Failure(string detail) => new($"Swift storage '{storageId}' could not sign in: {detail}");
}

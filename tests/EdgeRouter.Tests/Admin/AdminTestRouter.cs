using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using EdgeRouter.Tests.TestUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;

namespace EdgeRouter.Tests.Admin;

/// <summary>A router with the admin on: a good Local storage and an S3-compatible one whose endpoint nothing answers.</summary>
internal static partial class AdminTestRouter
{
    public const string AdminKey = "admin-key-7d1e0c94b2";

    // AdminOperations.AuditCategory, which the tests read but do not share code with.
    private const string AuditCategory = "EdgeRouter.Admin.Audit";
    public const string SecretKey = "S3CR3T-never-shown-9f8e7d";

    /// <param name="spare">Adds a second good Local storage, 'spare', so one can be switched off while uploads go on.</param>
    /// <param name="adminPort">Serves the admin only on connections to this local port (<c>Admin:Port</c>).</param>
    /// <param name="services">More test services (a fake clock, say).</param>
    public static RouterFactory Create(bool spare = false, int? adminPort = null, Action<IServiceCollection>? services = null)
    {
        var brokenPort = ServerProcess.FreePort();
        return new RouterFactory(
            $$"""
            { "storages": [
              { "id": "local", "api": "local", "root": "data/objects", "read": "stream", "weight": 3, "capacity": 1000000 },
              {{(spare ? "{ \"id\": \"spare\", \"api\": \"local\", \"root\": \"data/spare\", \"read\": \"stream\", \"weight\": 1 }," : string.Empty)}}
              { "id": "broken", "api": "s3compatible", "read": "redirect", "weight": 1, "storageUrl": "http://127.0.0.1:{{brokenPort}}/b/",
                "endpoint": "http://127.0.0.1:{{brokenPort}}", "pathStyle": true, "bucket": "bucket", "accessKey": "AKIAEXAMPLE", "secretKey": "{{SecretKey}}" }
            ] }
            """,
            collection =>
            {
                collection.AddFakeLogging();
                services?.Invoke(collection);
            },
            new Dictionary<string, string?>
            {
                ["Logging:LogLevel:" + AuditCategory] = "Information",
                ["Admin:KeyHashes:0"] = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(AdminKey))),
                ["Admin:MaxFailedAttempts"] = "3",
                ["Admin:Port"] = adminPort?.ToString(System.Globalization.CultureInfo.InvariantCulture),
            });
    }

    /// <summary>What the admin's audit trail has logged so far.</summary>
    public static IReadOnlyList<string> AuditLines(RouterFactory factory)
        => [.. factory.Services.GetFakeLogCollector().GetSnapshot().Where(r => r.Category == AuditCategory).Select(r => r.Message)];

    /// <summary>The antiforgery token of the first form on a page.</summary>
    public static string FormToken(string html) => TokenField().Match(html) is { Success: true } match ? match.Groups[1].Value : throw new InvalidOperationException("The page has no antiforgery field.");

    /// <summary>Posts a form the way a browser does, with the token the page gave.</summary>
    public static Task<HttpResponseMessage> PostFormAsync(HttpClient client, string path, string token, params (string Name, string Value)[] fields)
        => client.PostAsync(path, new FormUrlEncodedContent([new("__RequestVerificationToken", token), .. fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value))]));

    /// <summary>Signs in through the sign-in page; the client keeps the cookie.</summary>
    public static async Task SignInAsync(HttpClient client, string key = AdminKey)
    {
        var token = FormToken(await client.GetStringAsync("/admin/signin"));
        var response = await PostFormAsync(client, "/admin/signin", token, ("key", key), ("returnUrl", "/admin/"));
        if (response.StatusCode != HttpStatusCode.Redirect)
        {
            throw new InvalidOperationException($"Sign-in answered {(int)response.StatusCode}.");
        }
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex TokenField();
}

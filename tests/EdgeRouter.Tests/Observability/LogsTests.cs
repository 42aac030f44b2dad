using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EdgeRouter.Tests.OutOfProcess;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.Observability;

/// <summary>The logs of a router process that uses every secret-bearing field, as JSON: correlated, and free of secrets.</summary>
public sealed class LogsTests
{
    private const string AdminKey = "admin-key-for-the-log-scan-5b1c";

    // Distinct, so any of them found in the logs names the field it leaked from.
    private static readonly string[] Secrets =
    [
        "S3SECRET-leak-check-1a2b", "B2APPKEY-leak-check-3c4d", "OSSSECRET-leak-check-5e6f", "SWIFTPASSWORD-leak-check-7a8b",
        "SFTPPASSWORD-leak-check-9c0d", "FTPPASSWORD-leak-check-1e2f", Convert.ToBase64String(Encoding.UTF8.GetBytes("AZUREACCOUNTKEY-leak-check-3a4b")),
        RouterHost.ApiKey, AdminKey,
    ];

    [Fact]
    public async Task WithTracingOn_JsonLogsStillCarryEachRequestsIds_AndACallersTraceIsKept()
    {
        // Tracing on (an OTLP endpoint nothing answers) at the default 1 %: unpicked requests get an unrecorded span
        // for their ids, as they do with tracing off.
        await using var router = new RouterHost(new Dictionary<string, string>
        {
            ["Logging__Console__FormatterName"] = "json",
            ["Logging__Console__FormatterOptions__IncludeScopes"] = "true",
            ["Logging__LogLevel__Default"] = "Information",
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{ServerProcess.FreePort()}",
        });
        await router.StartAsync();
        var caller = System.Diagnostics.ActivityTraceId.CreateRandom();
        using (var request = new HttpRequestMessage(HttpMethod.Put, "/api/v1/objects/logs/traced.png") { Content = TestFiles.Raw(TestFiles.Png(), "image/png") })
        {
            request.Headers.Add("traceparent", $"00-{caller}-{System.Diagnostics.ActivitySpanId.CreateRandom()}-00");
            Assert.Equal(HttpStatusCode.Created, (await router.Client.SendAsync(request)).StatusCode);
        }

        Assert.Equal(HttpStatusCode.Created, (await router.Client.PutAsync("/api/v1/objects/logs/root.png", TestFiles.Raw(TestFiles.Png(), "image/png"))).StatusCode);
        await router.DisposeAsync();

        var traces = router.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith('{'))
            .Select(l => JsonDocument.Parse(l).RootElement).Where(l => l.GetProperty("EventId").GetInt32() == 100)
            .Select(l => l.GetProperty("Scopes").EnumerateArray().Where(s => s.TryGetProperty("SpanId", out _)).Select(s => s.GetProperty("TraceId").GetString()).Single())
            .ToList();
        Assert.Equal(2, traces.Count);
        Assert.Contains(caller.ToString(), traces);
        Assert.All(traces, t => Assert.Equal(32, t!.Length));
    }

    [Fact]
    public async Task JsonLogs_CarryTraceAndSpanIds_AndNoSecret_ThroughFailingWritesProbesAndAdminTests()
    {
        var closed = ServerProcess.FreePort();
        var storages = $$"""
            { "storages": [
              { "id": "local", "api": "local", "root": "data/storage", "read": "stream", "weight": 1 },
              { "id": "s3", "api": "s3compatible", "read": "stream", "weight": 100, "endpoint": "http://127.0.0.1:{{closed}}", "pathStyle": true, "bucket": "bucket", "accessKey": "AKIAEXAMPLE", "secretKey": "{{Secrets[0]}}" },
              { "id": "b2", "api": "b2", "read": "stream", "weight": 100, "bucket": "bucket", "region": "us-west-002", "endpoint": "http://127.0.0.1:{{closed}}", "keyId": "0021234567890", "applicationKey": "{{Secrets[1]}}" },
              { "id": "oss", "api": "oss", "read": "stream", "weight": 100, "bucket": "bucket", "endpoint": "http://127.0.0.1:{{closed}}", "region": "cn-hangzhou", "accessKey": "LTAIEXAMPLE", "secretKey": "{{Secrets[2]}}" },
              { "id": "swift", "api": "swift", "read": "stream", "weight": 100, "storageUrl": "http://127.0.0.1:{{closed}}/v1/AUTH_test/c/", "authUrl": "http://127.0.0.1:{{closed}}/auth/v1.0", "authVersion": 1, "username": "test:tester", "password": "{{Secrets[3]}}", "container": "c", "timeoutSeconds": 2 },
              { "id": "sftp", "api": "sftp", "read": "stream", "weight": 100, "host": "127.0.0.1", "port": {{closed}}, "username": "u", "password": "{{Secrets[4]}}", "root": "/objects", "timeoutSeconds": 2, "trustAnyHostKey": true },
              { "id": "ftp", "api": "ftp", "read": "stream", "weight": 100, "host": "127.0.0.1", "port": {{closed}}, "username": "u", "password": "{{Secrets[5]}}", "root": "/objects", "timeoutSeconds": 2 },
              { "id": "azure", "api": "azure", "read": "stream", "weight": 100, "accountName": "devstoreaccount1", "accountKey": "{{Secrets[6]}}", "endpoint": "http://127.0.0.1:{{closed}}/devstoreaccount1", "container": "c", "timeoutSeconds": 2 }
            ] }
            """;
        await using var router = new RouterHost(
            new Dictionary<string, string>
            {
                ["Logging__Console__FormatterName"] = "json",
                ["Logging__Console__FormatterOptions__IncludeScopes"] = "true",
                ["Logging__LogLevel__Default"] = "Debug",
                ["Logging__LogLevel__Microsoft"] = "Information",
                ["Logging__LogLevel__EdgeRouter.Admin.Audit"] = "Information",
                ["Admin__KeyHashes__0"] = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(AdminKey))),
                ["EdgeRouter__Health__ProbeInterval"] = "00:00:01",
            },
            storagesJson: storages);
        await router.StartAsync();

        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(HttpStatusCode.Created, (await router.Client.PutAsync($"/api/v1/objects/logs/{i}.png", TestFiles.Raw(TestFiles.Png(), "image/png"))).StatusCode);
        }

        await router.Client.GetAsync("/readyz");
        using var admin = new HttpClient { BaseAddress = new Uri(router.BaseUrl), DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", AdminKey) } };
        foreach (var id in new[] { "s3", "b2", "oss", "swift", "sftp", "ftp", "azure" })
        {
            await admin.PostAsync($"/admin/api/storages/{id}/test", null);
        }

        await admin.GetAsync("/admin/api/storages");
        await Task.Delay(TimeSpan.FromSeconds(2)); // a probe round of every storage, failing
        await router.DisposeAsync();

        var lines = router.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith('{')).ToList();
        Assert.True(lines.Count > 20, router.Output);
        foreach (var secret in Secrets)
        {
            Assert.DoesNotContain(secret, router.Output, StringComparison.Ordinal);
        }

        var stored = lines.Select(l => JsonDocument.Parse(l).RootElement).First(l => l.GetProperty("EventId").GetInt32() == 100);
        Assert.Contains(stored.GetProperty("Scopes").EnumerateArray(), s => s.TryGetProperty("TraceId", out var trace) && trace.GetString()!.Length == 32 && s.TryGetProperty("SpanId", out _));

        // Each storage failed in the logs (failovers, probes, the admin's tests), so each one's errors were scanned.
        var failures = lines.Where(l => l.Contains("\"LogLevel\":\"Error\"", StringComparison.Ordinal) || l.Contains("\"LogLevel\":\"Warning\"", StringComparison.Ordinal)).ToList();
        foreach (var id in new[] { "s3", "b2", "oss", "swift", "sftp", "ftp", "azure" })
        {
            Assert.Contains(failures, l => l.Contains($"\"StorageId\":\"{id}\"", StringComparison.Ordinal));
        }
    }
}

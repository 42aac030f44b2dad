using System.Diagnostics.Metrics;
using System.Net;
using EdgeRouter.Observability;
using EdgeRouter.Tests.TestUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace EdgeRouter.Tests.Observability;

/// <summary>What the backends and the catalog's database cost, and why uploads are refused, as the meter records them.</summary>
public sealed class OperationMetricsTests
{
    private const string LocalOnly = """{ "storages": [ { "id": "local", "api": "local", "root": "s", "read": "stream" } ] }""";

    [Fact]
    public async Task EachBackendCall_IsTimedByStorageAndOperation_AndAFailedOneNamesItsErrorType()
    {
        // 'failing' is tried first and breaks mid-write; the upload fails over to 'good'.
        using var factory = new RouterFactory("""
            { "storages": [
                { "id": "failing", "api": "failing", "read": "stream", "weight": 1000000 },
                { "id": "good",    "api": "local",   "root": "good", "read": "stream", "weight": 1 } ] }
            """, FailingStorageProvider.Register);
        using var client = factory.CreateAuthorizedClient();
        using var operations = new MetricCollector<double>(factory.Services.GetRequiredService<IMeterFactory>(), EdgeRouterMetrics.MeterName, EdgeRouterMetrics.StorageOperationDurationName);

        Assert.Equal(HttpStatusCode.Created, (await client.PutAsync("/api/v1/objects/timed.png", TestFiles.Raw(TestFiles.Png(), "image/png"))).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync("/api/v1/objects/timed.png?immediate=true")).StatusCode);

        var puts = operations.GetMeasurementSnapshot().Where(m => (string?)m.Tags["operation"] == "put").ToList();
        Assert.Equal(["failing:backend", "good:"], puts.Select(m => $"{m.Tags["storage"]}:{(m.Tags.TryGetValue("error.type", out var error) ? error : null)}"));
        Assert.All(puts, m => Assert.InRange(m.Value, 0, 60));
        Assert.Contains(operations.GetMeasurementSnapshot(), m => (string?)m.Tags["operation"] == "delete" && (string?)m.Tags["storage"] == "good" && !m.Tags.ContainsKey("error.type"));
    }

    [Fact]
    public async Task CatalogQueries_AreTimedByOperation_ButLookupsAnsweredFromMemoryAreNot()
    {
        using var factory = new RouterFactory(LocalOnly);
        using var client = factory.CreateAuthorizedClient();
        using var queries = new MetricCollector<double>(factory.Services.GetRequiredService<IMeterFactory>(), EdgeRouterMetrics.MeterName, EdgeRouterMetrics.CatalogQueryDurationName);

        Assert.Equal(HttpStatusCode.Created, (await client.PutAsync("/api/v1/objects/q/a.png", TestFiles.Raw(TestFiles.Png(), "image/png"))).StatusCode);
        var finds = Count("find");
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/q/a.png")).StatusCode);
        }

        Assert.Equal(1, Count("commit"));
        Assert.Equal(finds, Count("find"));

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/q/unknown.png")).StatusCode);
        Assert.Equal(finds + 1, Count("find"));

        int Count(string operation) => queries.GetMeasurementSnapshot().Count(m => (string?)m.Tags["operation"] == operation);
    }

    [Fact]
    public async Task RefusedUploads_AreCountedByStatus()
    {
        using var factory = new RouterFactory(LocalOnly);
        using var client = factory.CreateAuthorizedClient();
        using var uploads = new MetricCollector<long>(factory.Services.GetRequiredService<IMeterFactory>(), EdgeRouterMetrics.MeterName, EdgeRouterMetrics.UploadsName);

        Assert.Equal(HttpStatusCode.Created, (await client.PutAsync("/api/v1/objects/r.png", TestFiles.Raw(TestFiles.Png(), "image/png"))).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await client.PutAsync("/api/v1/objects/r.png", TestFiles.Raw(TestFiles.Png(), "image/png"))).StatusCode);

        Assert.Equal(
            ["stored:", "rejected:409"],
            uploads.GetMeasurementSnapshot().Select(m => $"{m.Tags["outcome"]}:{(m.Tags.TryGetValue("status", out var status) ? status : null)}"));
    }
}

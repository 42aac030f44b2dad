using System.Net;
using EdgeRouter.Tests.Caching.Redis;
using EdgeRouter.Tests.Catalog.Postgres;
using EdgeRouter.Tests.TestUtilities;
using EdgeRouter.Tests.Uploads.Tus;

namespace EdgeRouter.Tests.Cluster;

/// <summary>A resumable upload begun on one instance goes on, and ends, on another: its state is in the shared catalog.</summary>
[Collection(SharedCatalogGroup.Name)]
public sealed class ClusterResumableTests(PostgresFixture postgres, RedisFixture redis)
{
    [Fact]
    public async Task AnUploadBegunOnOneInstance_IsResumedAndCompletedOnTheOther()
    {
        await using var cluster = await RouterCluster.StartAsync(postgres, redis, """{ "storages": [ { "id": "main", "api": "local", "root": "{files}/main", "read": "stream" } ] }""");
        foreach (var client in cluster.Clients)
        {
            client.DefaultRequestHeaders.Add("Tus-Resumable", "1.0.0");
        }

        var png = TestFiles.Png(200_000);
        using var create = new HttpRequestMessage(HttpMethod.Post, "/api/v1/tus/") { Headers = { { "Upload-Length", "200000" }, { "Upload-Metadata", "key Y2x1c3Rlci90dXMucG5n" } } };
        using var created = await cluster.Clients[0].SendAsync(create);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var path = created.Headers.Location!.AbsolutePath;
        Assert.Equal(HttpStatusCode.NoContent, (await cluster.Clients[0].SendAsync(TusProtocolTests.Patch(new Uri(path, UriKind.Relative), 0, png[..80_000]))).StatusCode);

        using var head = await cluster.Clients[1].SendAsync(new HttpRequestMessage(HttpMethod.Head, path));
        Assert.Equal("80000", head.Headers.GetValues("Upload-Offset").Single());
        using var done = await cluster.Clients[1].SendAsync(TusProtocolTests.Patch(new Uri(path, UriKind.Relative), 80_000, png[80_000..]));

        Assert.Equal(HttpStatusCode.NoContent, done.StatusCode);
        Assert.Equal("cluster/tus.png", done.Headers.GetValues("EdgeRouter-Object-Key").Single());
        Assert.Equal(png, await cluster.Clients[0].GetByteArrayAsync("/cluster/tus.png"));
        using var after = await cluster.Clients[0].SendAsync(new HttpRequestMessage(HttpMethod.Head, path));
        Assert.Equal("cluster/tus.png", after.Headers.GetValues("EdgeRouter-Object-Key").Single());
    }
}

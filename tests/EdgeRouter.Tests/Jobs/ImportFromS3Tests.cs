using System.Net;
using System.Text;
using Amazon.S3.Model;
using EdgeRouter.Tests.Storage.S3;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.Jobs;

/// <summary>Adopting a bucket another tool filled, on a real S3 server (s3rver).</summary>
[Collection(MobilityServersGroup.Name)]
public sealed class ImportFromS3Tests(S3rverFixture s3)
{
    [Fact]
    public async Task Import_AdoptsAThousandObjectsFromABucket_AcrossListingPages_AndReportsTheRefused()
    {
        var prefix = $"import-{Guid.NewGuid():N}/";
        using var direct = s3.CreateDirectClient();
        var objects = Enumerable.Range(0, 1_000).ToDictionary(i => $"{prefix}{i / 100}/{i:D4}.png", i => TestFiles.Png(150 + i));
        await Parallel.ForEachAsync(objects, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (o, cancellationToken) =>
            await direct.PutObjectAsync(new PutObjectRequest { UseChunkEncoding = false, BucketName = S3rverFixture.Bucket, Key = o.Key, InputStream = new MemoryStream(o.Value), ContentType = "image/png" }, cancellationToken));
        foreach (var (key, body) in new[] { ("trailing./x.png", TestFiles.Png()), ("notes.txt", Encoding.UTF8.GetBytes("plain")), ("x.svg", Encoding.UTF8.GetBytes("<svg onload='alert(1)'/>")) })
        {
            await direct.PutObjectAsync(new PutObjectRequest { UseChunkEncoding = false, BucketName = S3rverFixture.Bucket, Key = prefix + key, InputStream = new MemoryStream(body) });
        }

        using var router = JobsTestRouter.Create($$"""
            { "id": "main", "api": "local", "root": "data/main", "read": "stream" },
            {{s3.StorageJson(weight: 0)}}
            """);
        using var admin = JobsTestRouter.AdminClient(router);

        var job = await JobsTestRouter.RunAsync(admin, $$"""{ "kind": "import", "storage": "s3", "prefix": "{{prefix}}" }""");

        Assert.Equal(1_000, JobsTestRouter.Count(job, "imported"));
        Assert.Equal([prefix + "notes.txt", prefix + "trailing./x.png", prefix + "x.svg"], JobsTestRouter.Listed(job, "refused", "key").Order(StringComparer.Ordinal));
        using var client = router.CreateAnonymousClient();
        foreach (var (key, bytes) in objects.Where((_, i) => i % 97 == 0))
        {
            Assert.Equal(bytes, await client.GetByteArrayAsync("/" + key));
        }

        Assert.Equal(0, JobsTestRouter.Count(await JobsTestRouter.RunAsync(admin, $$"""{ "kind": "import", "storage": "s3", "prefix": "{{prefix}}" }"""), "imported"));
    }

    [Fact]
    public async Task LazyAdoption_ServesAnObjectAnotherToolPutInTheBucket()
    {
        var key = $"lazy-{Guid.NewGuid():N}/photo.png";
        var png = TestFiles.Png(2_222);
        using var direct = s3.CreateDirectClient();
        await direct.PutObjectAsync(new PutObjectRequest { UseChunkEncoding = false, BucketName = S3rverFixture.Bucket, Key = key, InputStream = new MemoryStream(png) });
        using var router = JobsTestRouter.Create(s3.StorageJson().Replace("\"weight\": 1", "\"weight\": 1, \"adopt\": true", StringComparison.Ordinal));
        using var client = router.CreateAnonymousClient();

        using var response = await client.GetAsync("/" + key);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(png, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/lazy-{Guid.NewGuid():N}/none.png")).StatusCode);
    }
}

using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Amazon.S3.Model;
using EdgeRouter.Tests.Storage.Azure;
using EdgeRouter.Tests.Storage.S3;
using EdgeRouter.Tests.Storage.Sftp;
using EdgeRouter.Tests.TestUtilities;

namespace EdgeRouter.Tests.Jobs;

/// <summary>Migrations between local folders: the scenario with no server to start.</summary>
public sealed class MigrateJobTests
{
    [Fact]
    public async Task LocalToLocal_UnderUploadsOverwritesDeletesAndReads_KeepsEveryUrlAndByte()
    {
        using var router = JobsTestRouter.Create("""
            { "id": "old", "api": "local", "root": "data/old", "read": "stream" },
            { "id": "new", "api": "local", "root": "data/new", "read": "stream", "weight": 0 }
            """);

        await MigrationScenario.AssertEveryUrlKeepsItsBytesAsync(router, "old", "new");
    }

    [Fact]
    public async Task CopiesWhoseFlushFails_AreFailedMoves_RemovedAndNeverSwitchedTo()
    {
        // A page's copies are made durable together after they are written; a flush that fails must leave every
        // record where it was, and nothing of the copies.
        var (router, store, objects) = await JobsTestRouter.CreateWithFlakyTargetAsync("flush/", 6, 700);
        using var _ = router;
        store.FlushFails = true;
        using var admin = JobsTestRouter.AdminClient(router);

        var failed = await JobsTestRouter.RunAsync(admin, """{ "kind": "migrate", "from": "old", "to": "new" }""");

        Assert.Equal(6, (long?)failed["errors"]);
        Assert.Equal(0, JobsTestRouter.Count(failed, "moved"));
        Assert.Contains("could not flush its writes", failed.ToJsonString(), StringComparison.Ordinal);
        Assert.Empty(router.FilesUnder("data/new"));
        var listed = (await admin.GetFromJsonAsync<JsonObject>("/admin/api/objects?prefix=flush/"))!["items"]!.AsArray();
        Assert.All(listed, o => Assert.Equal("old", (string?)o!["storage"]));
        await JobsTestRouter.AssertServedAsync(router, objects);

        store.FlushFails = false;
        var moved = await JobsTestRouter.RunAsync(admin, """{ "kind": "migrate", "from": "old", "to": "new" }""");

        Assert.Equal(6, JobsTestRouter.Count(moved, "moved"));
        Assert.Equal(6, router.FilesUnder("data/new").Count);
    }
}

/// <summary>Step 4 of a move: the copy is the record's bytes, vouched for by the target or read back.</summary>
public sealed class MigrateCopyCheckTests
{
    [Fact]
    public async Task ACopyThatDoesNotReadBackAsTheRecordsBytes_IsAFailedMove_RemovedAndNeverSwitchedTo()
    {
        var (router, store, objects) = await JobsTestRouter.CreateWithFlakyTargetAsync("check/", 5, 900);
        using var _ = router;
        store.CorruptsWrites = true;
        using var admin = JobsTestRouter.AdminClient(router);

        var failed = await JobsTestRouter.RunAsync(admin, """{ "kind": "migrate", "from": "old", "to": "new" }""");

        Assert.Equal(objects.Count, (long?)failed["errors"]);
        Assert.Equal(0, JobsTestRouter.Count(failed, "moved"));
        Assert.Contains("read back as", failed.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal(objects.Count, store.Reads);
        Assert.Empty(router.FilesUnder("data/new"));
        await JobsTestRouter.AssertServedAsync(router, objects);
    }

    [Fact]
    public async Task ACopyTheTargetVouchesFor_IsNotReadBack()
    {
        var (router, store, objects) = await JobsTestRouter.CreateWithFlakyTargetAsync("check/", 5, 900);
        using var _ = router;
        store.VouchesForWrites = true;
        using var admin = JobsTestRouter.AdminClient(router);

        var moved = await JobsTestRouter.RunAsync(admin, """{ "kind": "migrate", "from": "old", "to": "new" }""");

        Assert.Equal(objects.Count, JobsTestRouter.Count(moved, "moved"));
        Assert.Equal(0, store.Reads);
        await JobsTestRouter.AssertServedAsync(router, objects);
    }
}

/// <summary>The real servers the migrations between APIs run against, each started once for these tests.</summary>
[CollectionDefinition(Name)]
public sealed class MobilityServersGroup : ICollectionFixture<S3rverFixture>, ICollectionFixture<AzuriteFixture>, ICollectionFixture<SshdFixture>
{
    public const string Name = "mobility servers";
}

/// <summary>Migrations across APIs, on real servers: Local → S3-compatible (s3rver), S3-compatible → Azure (Azurite), SFTP (OpenSSH) → Local.</summary>
[Collection(MobilityServersGroup.Name)]
public sealed class MigrateAcrossApisTests(S3rverFixture s3, AzuriteFixture azurite, SshdFixture sshd)
{
    [Fact]
    public async Task LocalToS3Compatible()
    {
        using var router = JobsTestRouter.Create($$"""
            { "id": "local", "api": "local", "root": "data/local", "read": "stream" },
            {{s3.StorageJson(weight: 0)}}
            """);

        await MigrationScenario.AssertEveryUrlKeepsItsBytesAsync(router, "local", "s3");
    }

    [Fact]
    public async Task LocalToS3Compatible_CopiesAPageAroundAForeignObjectAtOneOfItsKeys_AndLeavesItAlone()
    {
        // A page of copies to an S3-compatible bucket learns which keys are taken from one listing, not a HEAD each;
        // an object another tool put at one of the keys must still be seen, and neither overwritten nor adopted.
        using var router = JobsTestRouter.Create($$"""
            { "id": "local", "api": "local", "root": "data/local", "read": "stream" },
            {{s3.StorageJson(weight: 0)}}
            """);
        var prefix = $"foreign-{Guid.NewGuid():N}/";
        var objects = Enumerable.Range(0, 10).ToDictionary(i => $"{prefix}{i:D2}.png", i => TestFiles.Png(900 + i));
        await JobsTestRouter.UploadAsync(router, objects);

        var foreign = TestFiles.Png(777);
        using var direct = s3.CreateDirectClient();
        await direct.PutObjectAsync(new PutObjectRequest { UseChunkEncoding = false, BucketName = S3rverFixture.Bucket, Key = prefix + "03.png", InputStream = new MemoryStream(foreign) });
        using var admin = JobsTestRouter.AdminClient(router);

        var job = await JobsTestRouter.RunAsync(admin, $$"""{ "kind": "migrate", "from": "local", "to": "s3", "prefix": "{{prefix}}" }""");

        Assert.True((string?)job["state"] == "succeeded" && (long?)job["errors"] == 0, job.ToJsonString());
        await JobsTestRouter.AssertServedAsync(router, objects);

        using var stored = await direct.GetObjectAsync(S3rverFixture.Bucket, prefix + "03.png");
        using var copy = new MemoryStream();
        await stored.ResponseStream.CopyToAsync(copy);
        Assert.Equal(foreign, copy.ToArray());
        var listed = (await admin.GetFromJsonAsync<JsonObject>($"/admin/api/objects?prefix={prefix}"))!["items"]!.AsArray();
        Assert.All(listed, o => Assert.Equal("s3", (string?)o!["storage"]));
        var moved = listed.Single(o => (string?)o!["key"] == prefix + "03.png")!;
        Assert.NotEqual(s3.BucketUrl + prefix + "03.png", (string?)moved["storageUrl"]);
        Assert.Equal(s3.BucketUrl + prefix + "04.png", (string?)listed.Single(o => (string?)o!["key"] == prefix + "04.png")!["storageUrl"]);
    }

    [Fact]
    public async Task S3CompatibleToAzure()
    {
        using var router = JobsTestRouter.Create($"{s3.StorageJson()}, {azurite.StorageJson(weight: 0)}");

        await MigrationScenario.AssertEveryUrlKeepsItsBytesAsync(router, "s3", "azure");
    }

    [Fact]
    public async Task SftpToLocal()
    {
        using var router = JobsTestRouter.Create($$"""
            {{sshd.StorageJson()}},
            { "id": "local", "api": "local", "root": "data/local", "read": "stream", "weight": 0 }
            """);

        await MigrationScenario.AssertEveryUrlKeepsItsBytesAsync(router, "sftp", "local");
    }
}

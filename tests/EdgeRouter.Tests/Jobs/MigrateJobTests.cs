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

using EdgeRouter.Storage;

namespace EdgeRouter.Tests.Storage.Gcs;

/// <summary>The storage contract through the <c>gcs</c> API, on the fake GCS JSON API (1 MiB resumable chunks).</summary>
[Collection(GcsGroup.Name)]
public sealed class GcsStoreContractTests(GcsFixture gcs) : StorageContractTests
{
    private readonly IObjectStore _store = gcs.CreateStore(prefix: "tenant/");

    protected override IObjectStore Store => _store;

    protected override Task<IReadOnlyCollection<string>?> BackendNamesAsync() => Task.FromResult<IReadOnlyCollection<string>?>([.. gcs.Server.Names]);
}

using EdgeRouter.Catalog;

namespace EdgeRouter.Tests.TestUtilities;

/// <summary>
/// A catalog whose next lookup, once asked to, reads its answer and then waits for the test (a lookup caught
/// mid-flight), and whose next commit waits before it commits.
/// </summary>
internal sealed class GatedCatalog(IObjectCatalog inner) : DelegatingCatalog(inner)
{
    private Hold? _next;
    private Hold? _nextCommit;

    public Hold HoldNext() => _next = new Hold();

    public Hold HoldNextCommit() => _nextCommit = new Hold();

    public override async Task<CatalogWriteResult> AddAsync(ObjectRecord record, bool overwrite, EdgeRouter.Cdn.PurgeRequest? notify, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _nextCommit, null) is { } hold)
        {
            hold.Enter();
            await hold.Released;
        }

        return await base.AddAsync(record, overwrite, notify, cancellationToken);
    }

    public override async ValueTask<ObjectRecord?> FindAsync(string key, CancellationToken cancellationToken)
    {
        var record = await base.FindAsync(key, cancellationToken);
        if (Interlocked.Exchange(ref _next, null) is { } hold)
        {
            hold.Enter();
            await hold.Released;
        }

        return record;
    }

    public sealed class Hold
    {
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes when a lookup has read its answer and is waiting.</summary>
        public Task Entered => _entered.Task;

        public Task Released => _released.Task;

        public void Enter() => _entered.TrySetResult();

        public void Release() => _released.TrySetResult();
    }
}

namespace EdgeRouter.Serving.Cache;

/// <summary>
/// A fill under way, for the request that started it, which is answered as the bytes arrive (other requests of the
/// object wait for the verified whole). The bytes below <see cref="Arrived"/> are final, in <see cref="Body"/> (a
/// memory fill) or in the file at <see cref="TempPath"/> (a disk fill). <see cref="Done"/> says whether the whole
/// passed its length and SHA-256 check: until it has, the last byte must not be sent, so a body that fails never
/// completes as a response.
/// </summary>
internal sealed class PendingFill(long length) : IDisposable
{
    private readonly Lock _lock = new();
    private readonly TaskCompletionSource<bool> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _arrived;
    private CachedBody? _body;
    private string? _tempPath;
    private string? _finalPath;
    private bool _disposed;

    public long Length => length;

    public long Arrived => Volatile.Read(ref _arrived);

    /// <summary>Completes at the next arrival or at the end.</summary>
    public Task Changed => Volatile.Read(ref _changed).Task;

    /// <summary>True: verified and kept. False: verified, but the disk tier could not keep it. Faulted: not the record's bytes, or the backend failed.</summary>
    public Task<bool> Done => _done.Task;

    public CachedBody? Body
    {
        get
        {
            lock (_lock)
            {
                return _body;
            }
        }
    }

    /// <summary>The disk fill's file while it is written, then where it was kept.</summary>
    public string? FilePath => Volatile.Read(ref _finalPath) ?? Volatile.Read(ref _tempPath);

    /// <summary>A memory fill: the request holds a reference of its own on the body.</summary>
    internal void Start(CachedBody body)
    {
        lock (_lock)
        {
            if (!_disposed && body.TryAcquire())
            {
                _body = body;
            }
        }
    }

    internal void Start(string tempPath) => Volatile.Write(ref _tempPath, tempPath);

    internal void Advance(long arrived)
    {
        Volatile.Write(ref _arrived, arrived);
        Wake();
    }

    internal void Complete(bool kept, string? finalPath = null)
    {
        Volatile.Write(ref _finalPath, finalPath);
        _done.TrySetResult(kept);
        Wake();
    }

    internal void Fail(Exception exception)
    {
        _done.TrySetException(exception);
        Wake();
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _body?.Release();
            _body = null;
        }
    }

    private void Wake() => Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
}

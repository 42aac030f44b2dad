using System.Collections.Concurrent;

namespace EdgeRouter.Storage.Local;

/// <summary>
/// Folder flushes shared by the writes that renamed into one folder at about the same time, as a database shares
/// a log flush among the commits waiting for it: one fsync of the folder, begun after a write's rename, makes that
/// rename durable, so writes that arrive while a flush runs wait for the next one, and it covers them all. Many
/// writes into a few folders (a migration, a burst of uploads) then cost a few folder flushes, not one each.
/// </summary>
internal sealed class FolderFlushes(Action<string> flush)
{
    private readonly ConcurrentDictionary<string, Folder> _folders = new(StringComparer.Ordinal);
    private readonly Action<string> _flush = flush;

    /// <summary>Completes once a flush of <paramref name="directory"/> that began after this call has ended.</summary>
    public Task FlushAsync(string directory) => _folders.GetOrAdd(directory, d => new Folder(this, d)).FlushAsync();

    private sealed class Folder(FolderFlushes owner, string directory)
    {
        private readonly Lock _lock = new();
        private TaskCompletionSource? _next;
        private bool _running;

        public Task FlushAsync()
        {
            lock (_lock)
            {
                _next ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                var flushed = _next.Task;
                if (!_running)
                {
                    _running = true;
                    _ = Task.Run(Run);
                }

                return flushed;
            }
        }

        private void Run()
        {
            while (true)
            {
                TaskCompletionSource waiting;
                lock (_lock)
                {
                    if (_next is null)
                    {
                        _running = false;

                        // Idle: forgotten, so a store writing into ever new folders keeps no entry per folder. A
                        // caller that still holds this one runs its own flush here; correctness never needs the map.
                        owner._folders.TryRemove(new KeyValuePair<string, Folder>(directory, this));
                        return;
                    }

                    (waiting, _next) = (_next, null);
                }

                try
                {
                    owner._flush(directory);
                    waiting.SetResult();
                }
                catch (Exception ex)
                {
                    waiting.SetException(ex);
                }
            }
        }
    }
}

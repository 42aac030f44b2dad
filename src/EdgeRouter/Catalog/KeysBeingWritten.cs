using System.Collections.Concurrent;
using EdgeRouter.Caching;
using EdgeRouter.Configuration;
using Microsoft.Extensions.Options;

namespace EdgeRouter.Catalog;

/// <summary>
/// Keys an upload is writing now, on this instance or, as announced on the change channel, on another one. A 404 for
/// such a key is answered <c>no-store</c>, and not remembered by the catalog cache: neither a CDN nor an instance
/// may keep a "not found" for a key that exists a moment later.
/// </summary>
public sealed class KeysBeingWritten
{
    private readonly ConcurrentDictionary<string, Entry> _keys = new(StringComparer.Ordinal);
    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan _lifetime;
    private readonly IClusterEvents? _events;

    public KeysBeingWritten(IOptions<EdgeRouterOptions> options, TimeProvider timeProvider, IClusterEvents? events = null)
    {
        _timeProvider = timeProvider;
        _lifetime = options.Value.Uploads.MaxUploadDuration + options.Value.Uploads.IntentMargin;
        _events = events;
        if (events is not null)
        {
            events.KeyWriting += key => _keys.AddOrUpdate(key, _ => new Entry(0, Expiry()), (_, e) => e with { RemoteUntil = Expiry() });

            // The writer's commit (or a delete) is announced as a change: whatever was being written is now in the catalog.
            events.KeyChanged += key => _keys.AddOrUpdate(key, _ => new Entry(0, 0), (_, e) => e with { RemoteUntil = 0 });
        }
    }

    /// <summary>An upload of <paramref name="key"/> began here; the others are told. Dispose the result when it ends.</summary>
    public IDisposable Begin(string key)
    {
        _keys.AddOrUpdate(key, _ => new Entry(1, 0), (_, e) => e with { Local = e.Local + 1 });
        _ = _events?.PublishKeyWritingAsync(key).AsTask();
        return new Ending(this, key);
    }

    public bool Contains(string key)
        => !_keys.IsEmpty && _keys.TryGetValue(key, out var entry) && (entry.Local > 0 || entry.RemoteUntil > _timeProvider.GetTimestamp());

    private long Expiry() => _timeProvider.GetTimestamp() + (long)(_lifetime.TotalSeconds * _timeProvider.TimestampFrequency);

    private void End(string key)
    {
        var entry = _keys.AddOrUpdate(key, _ => new Entry(0, 0), (_, e) => e with { Local = e.Local - 1 });
        if (entry.Local <= 0 && entry.RemoteUntil <= _timeProvider.GetTimestamp())
        {
            _keys.TryRemove(new KeyValuePair<string, Entry>(key, entry));
        }
    }

    private readonly record struct Entry(int Local, long RemoteUntil);

    private sealed class Ending(KeysBeingWritten owner, string key) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                owner.End(key);
            }
        }
    }
}

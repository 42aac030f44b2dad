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
            events.KeyChanged += key => Settle(key, e => e with { RemoteUntil = 0 });
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
    {
        if (_keys.IsEmpty || !_keys.TryGetValue(key, out var entry))
        {
            return false;
        }

        if (IsOver(entry))
        {
            // Announced by another instance whose upload never committed: its lifetime is over.
            _keys.TryRemove(new KeyValuePair<string, Entry>(key, entry));
            return false;
        }

        return true;
    }

    /// <summary>Keys tracked now (uploads in flight here or announced elsewhere), for tests.</summary>
    internal int Count => _keys.Count;

    private long Expiry() => _timeProvider.GetTimestamp() + (long)(_lifetime.TotalSeconds * _timeProvider.TimestampFrequency);

    private bool IsOver(Entry entry) => entry.Local <= 0 && entry.RemoteUntil <= _timeProvider.GetTimestamp();

    private void End(string key) => Settle(key, e => e with { Local = e.Local - 1 });

    /// <summary>
    /// Changes the key's entry, if it has one (a change notice for a key nobody writes adds none), and drops it once no
    /// upload of the key is in flight any more.
    /// </summary>
    private void Settle(string key, Func<Entry, Entry> change)
    {
        while (_keys.TryGetValue(key, out var entry))
        {
            var next = change(entry);
            if (IsOver(next) ? _keys.TryRemove(new KeyValuePair<string, Entry>(key, entry)) : _keys.TryUpdate(key, next, entry))
            {
                return;
            }
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

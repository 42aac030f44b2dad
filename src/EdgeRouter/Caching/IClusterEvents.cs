namespace EdgeRouter.Caching;

/// <summary>
/// What one instance tells the others: a key changed (drop it from memory), a storage failed (stop placing on it).
/// One instance alone has none; several share one through Redis.
/// </summary>
public interface IClusterEvents
{
    /// <summary>False while the channel is down: every instance then keeps cached entries briefly, since it may miss changes.</summary>
    bool IsConnected { get; }

    /// <summary>A key another instance changed.</summary>
    event Action<string>? KeyChanged;

    /// <summary>A key another instance began to write (an upload's intent is recorded); its commit follows as a change.</summary>
    event Action<string>? KeyWriting;

    /// <summary>A storage another instance saw fail, with the reason.</summary>
    event Action<string, string>? StorageFailed;

    /// <summary>The channel went down or came back; entries cached meanwhile cannot be trusted.</summary>
    event Action<bool>? ConnectionChanged;

    /// <summary>Another instance lost track of the changes it could not announce: forget everything.</summary>
    event Action? AllChanged;

    ValueTask PublishKeyChangedAsync(string key);

    ValueTask PublishKeyWritingAsync(string key);

    ValueTask PublishStorageFailedAsync(string storageId, string reason);
}

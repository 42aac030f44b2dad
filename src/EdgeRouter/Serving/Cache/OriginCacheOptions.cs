namespace EdgeRouter.Serving.Cache;

/// <summary>
/// <c>EdgeRouter:OriginCache</c>: bodies of <c>proxy</c> and <c>stream</c> reads kept in the router's memory. An
/// entry is keyed by storage, location and SHA-256, so it is valid exactly as long as the catalog names that version:
/// an overwrite, a delete or a move needs no invalidation, on any instance.
/// </summary>
public sealed class OriginCacheOptions
{
    public const long DefaultMemoryBytes = 256L * 1024 * 1024;

    /// <summary>The memory tier's budget in bytes; 0 turns the cache off.</summary>
    public long MemoryBytes { get; set; } = DefaultMemoryBytes;

    /// <summary>Larger objects are streamed through, uncached.</summary>
    public long MaxObjectBytes { get; set; } = 1024 * 1024;

    /// <summary>The disk tier's folder; absent means no disk tier.</summary>
    public string? DiskPath { get; set; }

    /// <summary>The disk tier's budget in bytes.</summary>
    public long DiskBytes { get; set; } = 1024L * 1024 * 1024;

    /// <summary>Objects above <see cref="MaxObjectBytes"/> and up to this size are kept on disk alone.</summary>
    public long DiskMaxObjectBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary><c>sieve</c> (scan-resistant, lock-free hits) or <c>lru</c>, for both tiers.</summary>
    public string Eviction { get; set; } = EvictionPolicies.Sieve;
}

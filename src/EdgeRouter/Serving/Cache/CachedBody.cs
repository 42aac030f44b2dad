using System.Buffers;
using System.Runtime.InteropServices;

namespace EdgeRouter.Serving.Cache;

/// <summary>
/// An object's verified bytes, in native memory: a full cache is no work for the GC (no heap growth, nothing to
/// scan or compact, no gen2 collection triggered by churn). Counted references keep the memory alive while any
/// response is still writing it after the cache let the entry go.
/// </summary>
internal sealed unsafe class CachedBody : MemoryManager<byte>
{
    private readonly int _length;
    private byte* _pointer;

    // The cache's own reference plus one per response writing the body; the memory is freed when the last goes.
    private int _references = 1;

    public CachedBody(int length)
    {
        _length = length;
        _pointer = (byte*)NativeMemory.Alloc((nuint)Math.Max(length, 1));
    }

    public int Length => _length;

    public Span<byte> Writable => new(_pointer, _length);

    /// <summary>A reference for a response; false once the body is freed (the entry was evicted meanwhile).</summary>
    public bool TryAcquire()
    {
        var references = Volatile.Read(ref _references);
        while (references > 0)
        {
            var seen = Interlocked.CompareExchange(ref _references, references + 1, references);
            if (seen == references)
            {
                return true;
            }

            references = seen;
        }

        return false;
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            var pointer = _pointer;
            _pointer = null;
            NativeMemory.Free(pointer);
        }
    }

    public override Span<byte> GetSpan() => new(_pointer, _length);

    // The memory is native and never moves.
    public override MemoryHandle Pin(int elementIndex = 0) => new(_pointer + elementIndex);

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
        // Lifetime is the reference count's (Release), not IDisposable's.
    }
}

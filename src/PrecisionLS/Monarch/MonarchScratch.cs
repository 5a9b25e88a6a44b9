namespace PrecisionLS.Monarch;

/// <summary>
/// Per-thread scratch buffers of the Monarch kernels: they grow on first use of a larger shape and are then reused,
/// so a steady-state call allocates nothing. Buffers live on the pinned object heap (they never move, so a pointer
/// stays valid) and start on a 64-byte boundary: the kernels' 512-bit loads and stores then never straddle two cache
/// lines (a .NET array is only 16-byte aligned). Slots keep buffers that are alive at the same time apart.
/// </summary>
internal static unsafe class MonarchScratch<T> where T : unmanaged
{
    /// <summary>Packed first factor (transposed blocks).</summary>
    public const int PackedW1 = 0;
    /// <summary>Packed second factor (vector groups of j).</summary>
    public const int PackedW2 = 1;
    /// <summary>A worker's panel of intermediate values.</summary>
    public const int Panel = 2;
    /// <summary>The intermediate h recomputed by a backward that was not given it.</summary>
    public const int Hidden = 3;
    /// <summary>The intermediate gradient dh of a backward.</summary>
    public const int HiddenGrad = 4;
    /// <summary>The second factor's gradient sums before they are unpacked.</summary>
    public const int W2Grad = 5;

    private const int Alignment = 64;

    [ThreadStatic] private static T[]?[]? _buffers;

    /// <summary>
    /// The calling thread's buffer of <paramref name="slot"/>: at least <paramref name="length"/> elements from a
    /// 64-byte boundary (contents undefined); valid until the next call for the same slot on this thread.
    /// </summary>
    public static T* Get(int slot, long length)
    {
        long padded = length + Alignment / sizeof(T);
        if (padded > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(length), length, "Monarch scratch buffer too large");
        var buffers = _buffers ??= new T[]?[6];
        ref var buffer = ref buffers[slot];
        if (buffer is null || buffer.Length < padded) buffer = GC.AllocateUninitializedArray<T>((int)Math.Max(padded, 64), pinned: true);
        fixed (T* p = buffer)
        {
            nint misalignment = (nint)p % Alignment;
            return misalignment == 0 ? p : (T*)((byte*)p + (Alignment - misalignment));
        }
    }
}

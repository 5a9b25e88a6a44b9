namespace PrecisionLS.Monarch;

/// <summary>
/// Per-thread scratch arrays of the Monarch kernels: they grow on first use of a larger shape and are then reused,
/// so a steady-state call allocates nothing. Arrays are pinned only while a call runs (fixed), and slots keep
/// buffers that are alive at the same time apart.
/// </summary>
internal static class MonarchScratch<T>
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

    [ThreadStatic] private static T[]?[]? _buffers;

    /// <summary>The calling thread's array of <paramref name="slot"/>, at least <paramref name="length"/> long (contents undefined).</summary>
    public static T[] Get(int slot, long length)
    {
        if (length > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(length), length, "Monarch scratch buffer too large");
        var buffers = _buffers ??= new T[]?[6];
        ref var buffer = ref buffers[slot];
        if (buffer is null || buffer.Length < length) buffer = new T[Math.Max(length, 64)];
        return buffer;
    }
}

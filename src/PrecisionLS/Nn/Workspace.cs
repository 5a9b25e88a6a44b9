using System.Numerics;

namespace PrecisionLS.Nn;

/// <summary>
/// Scratch arrays for backward passes (gradient temporaries), one set per thread. A layer uses them only
/// during one call, so every model on a thread shares them, the batch-group replicas included. Arrays grow
/// on first use of a larger shape and are then reused: the steady-state training step allocates nothing.
/// Slots: 0-3 mixers, 4-6 the MLP, 10-12 the model's residual stream, 13-15 a block's LayerNorm/MLP stages,
/// 16 the final LayerNorm, 17-18 the structured Linears (MonarchLinear, BlockdiagLinear).
/// </summary>
public static class Workspace<T> where T : unmanaged, INumber<T>
{
    [ThreadStatic] private static List<T[]>? _slots;

    /// <summary>The calling thread's array of <paramref name="slot"/>, at least <paramref name="length"/> long (contents undefined).</summary>
    public static T[] Get(int slot, long length)
    {
        var slots = _slots ??= [];
        while (slots.Count <= slot) slots.Add([]);
        if (slots[slot].Length < length) slots[slot] = new T[length];
        return slots[slot];
    }
}

/// <summary>A layer-owned activation buffer that grows to the largest (batch, length) seen.</summary>
internal static class Buffers
{
    public static T[] Ensure<T>(ref T[] buffer, long length)
    {
        if (buffer.Length < length) buffer = new T[length];
        return buffer;
    }
}

using System.Numerics;

namespace PrecisionLS.Nn;

/// <summary>
/// Scratch arrays shared by layers whose uses never overlap (gradient temporaries during backward, which
/// runs one layer at a time). Arrays grow on first use of a larger shape and are then reused, so the
/// steady-state training step allocates nothing.
/// </summary>
public sealed class Workspace<T> where T : unmanaged, INumber<T>
{
    private readonly List<T[]> _slots = [];

    /// <summary>The array of <paramref name="slot"/>, at least <paramref name="length"/> long (contents undefined).</summary>
    public T[] Get(int slot, long length)
    {
        while (_slots.Count <= slot) _slots.Add([]);
        if (_slots[slot].Length < length) _slots[slot] = new T[length];
        return _slots[slot];
    }

    /// <summary>Bytes currently held.</summary>
    public long Bytes => _slots.Sum(a => (long)a.Length) * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
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

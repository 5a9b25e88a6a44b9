using System.Numerics;

namespace PrecisionLS.Numerics;

/// <summary>
/// A shape and a contiguous row-major buffer (last index fastest). The hot paths work on spans of
/// <see cref="Data"/>; this type is the library's face for inputs and outputs whose shape matters.
/// </summary>
public sealed class Tensor<T> where T : unmanaged, INumber<T>
{
    /// <summary>A zero tensor of the given shape.</summary>
    public Tensor(params int[] shape) : this(new T[CheckedSize(shape)], shape) { }

    /// <summary>Wraps <paramref name="data"/> (not copied) as a tensor of <paramref name="shape"/>.</summary>
    public Tensor(T[] data, params int[] shape)
    {
        long size = CheckedSize(shape);
        if (data.Length != size)
            throw new ArgumentException($"data holds {data.Length} values but shape [{string.Join(", ", shape)}] needs {size}", nameof(data));
        Data = data; Shape = (int[])shape.Clone();
    }

    /// <summary>The values, row-major.</summary>
    public T[] Data { get; }
    /// <summary>Sizes of each dimension (a copy is not made: do not modify).</summary>
    public int[] Shape { get; }
    public int Rank => Shape.Length;
    public int Length => Data.Length;
    public Span<T> Span => Data;

    public ref T this[int i] => ref Data[Offset(i)];
    public ref T this[int i, int j] => ref Data[Offset(i, j)];
    public ref T this[int i, int j, int k] => ref Data[Offset(i, j, k)];

    /// <summary>The same values seen with another shape of equal size (shares <see cref="Data"/>).</summary>
    public Tensor<T> Reshape(params int[] shape) => new(Data, shape);

    /// <summary>Row-major offset of an index, checking every coordinate.</summary>
    public int Offset(params int[] index)
    {
        if (index.Length != Rank) throw new ArgumentException($"index has {index.Length} coordinates, tensor has rank {Rank}");
        int o = 0;
        for (int d = 0; d < Rank; d++)
        {
            if ((uint)index[d] >= (uint)Shape[d])
                throw new IndexOutOfRangeException($"index {index[d]} outside dimension {d} of size {Shape[d]} (shape [{string.Join(", ", Shape)}])");
            o = o * Shape[d] + index[d];
        }
        return o;
    }

    public override string ToString() => $"Tensor<{typeof(T).Name}>[{string.Join(", ", Shape)}]";

    private static long CheckedSize(int[] shape)
    {
        long size = 1;
        foreach (int s in shape)
        {
            if (s < 0) throw new ArgumentException($"negative dimension {s} in shape [{string.Join(", ", shape)}]", nameof(shape));
            size *= s;
        }
        if (size > Array.MaxLength) throw new ArgumentException($"shape [{string.Join(", ", shape)}] has {size} values, more than an array can hold", nameof(shape));
        return size;
    }
}

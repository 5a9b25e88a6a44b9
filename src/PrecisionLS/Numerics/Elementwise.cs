using System.Numerics;
using System.Numerics.Tensors;

namespace PrecisionLS.Numerics;

/// <summary>Element-wise and reduction kernels over spans (vectorised through TensorPrimitives where it fits).</summary>
public static class Elementwise
{
    /// <summary>dst[r, j] (+)= Σ_i src[i, j] over rows; src is [rows, cols]. Sums rows in increasing order.</summary>
    public static void ColumnSums<T>(ReadOnlySpan<T> src, int rows, int cols, Span<T> dst, bool accumulate)
        where T : unmanaged, INumber<T>
    {
        if (src.Length < (long)rows * cols) throw new ArgumentException($"src holds {src.Length} values, needs rows*cols = {(long)rows * cols}", nameof(src));
        if (dst.Length < cols) throw new ArgumentException($"dst holds {dst.Length} values, needs cols = {cols}", nameof(dst));
        var d = dst[..cols];
        if (!accumulate) d.Clear();
        for (int r = 0; r < rows; r++) TensorPrimitives.Add(d, src.Slice(r * cols, cols), d);
    }

    /// <summary>dst[r, j] = src[r, j] + row[j] for every row (broadcast add); src and dst may alias.</summary>
    public static void AddRowVector<T>(ReadOnlySpan<T> src, ReadOnlySpan<T> row, Span<T> dst, int rows, int cols)
        where T : unmanaged, INumber<T>
    {
        for (int r = 0; r < rows; r++) TensorPrimitives.Add(src.Slice(r * cols, cols), row[..cols], dst.Slice(r * cols, cols));
    }

    /// <summary>dst = a·x + b·y element-wise (dst may alias x or y).</summary>
    public static void LinearCombination<T>(T a, ReadOnlySpan<T> x, T b, ReadOnlySpan<T> y, Span<T> dst)
        where T : unmanaged, INumber<T>
    {
        if (x.Length != y.Length || dst.Length < x.Length) throw new ArgumentException($"lengths differ: x {x.Length}, y {y.Length}, dst {dst.Length}");
        // a·x + b·y = (x·a) + (y·b): two passes through TensorPrimitives keep the vector path.
        TensorPrimitives.Multiply(y, b, dst);
        TensorPrimitives.MultiplyAdd(x, a, dst, dst);
    }

    /// <summary>Σ x[i]·y[i] accumulated in a fixed order.</summary>
    public static T Dot<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y) where T : unmanaged, INumber<T> => Gemm.Dot(x, y);
}

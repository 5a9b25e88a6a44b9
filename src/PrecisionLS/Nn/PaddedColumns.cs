using System.Numerics;
using System.Numerics.Tensors;

namespace PrecisionLS.Nn;

/// <summary>
/// Row-wise copies between a layer's features and the block-padded width its structured weight works on (the fly
/// code's StructuredLinear preprocess/postprocess: the input zero-padded to nblocks·ceil(in/nblocks), the output
/// cut back to out_features).
/// </summary>
internal static class PaddedColumns
{
    /// <summary>dst[r, :cols] = src[r, :cols], dst[r, cols:wide] = 0; src [rows, cols], dst [rows, wide].</summary>
    public static void Pad<T>(ReadOnlySpan<T> src, int rows, int cols, Span<T> dst, int wide) where T : unmanaged, INumber<T>
    {
        for (int r = 0; r < rows; r++)
        {
            src.Slice(r * cols, cols).CopyTo(dst.Slice(r * wide, cols));
            dst.Slice(r * wide + cols, wide - cols).Clear();
        }
    }

    /// <summary>
    /// src [rows, cols] widened to [rows, wide] in <paramref name="buffer"/> (grown as needed) by <see cref="Pad{T}"/>, or
    /// src itself when no padding is needed.
    /// </summary>
    public static ReadOnlySpan<T> Widen<T>(ReadOnlySpan<T> src, int rows, int cols, int wide, ref T[] buffer) where T : unmanaged, INumber<T>
    {
        if (wide == cols) return src[..(rows * cols)];
        var dst = Buffers.Ensure(ref buffer, (long)rows * wide).AsSpan(0, rows * wide);
        Pad<T>(src, rows, cols, dst, wide);
        return dst;
    }

    /// <summary>
    /// dst[r, c] (+)= src[r, c] (+ bias[c] when bias is not empty) for c &lt; cols; src [rows, wide], dst [rows, cols].
    /// Overwrites dst unless <paramref name="accumulate"/>.
    /// </summary>
    public static void Cut<T>(ReadOnlySpan<T> src, int wide, Span<T> dst, int cols, int rows, ReadOnlySpan<T> bias, bool accumulate)
        where T : unmanaged, INumber<T>
    {
        for (int r = 0; r < rows; r++)
        {
            var s = src.Slice(r * wide, cols);
            var d = dst.Slice(r * cols, cols);
            if (accumulate) TensorPrimitives.Add(d, s, d); else s.CopyTo(d);
            if (!bias.IsEmpty) TensorPrimitives.Add(d, bias[..cols], d);
        }
    }

    /// <summary>y[r, c] += bias[c]; y [rows, cols].</summary>
    public static void AddBias<T>(Span<T> y, int rows, int cols, ReadOnlySpan<T> bias) where T : unmanaged, INumber<T>
    {
        for (int r = 0; r < rows; r++)
        {
            var d = y.Slice(r * cols, cols);
            TensorPrimitives.Add(d, bias[..cols], d);
        }
    }
}

using System.Numerics;
using System.Numerics.Tensors;

namespace PrecisionLS.Numerics;

/// <summary>Element-wise and reduction kernels over spans (vectorised through TensorPrimitives where it fits).</summary>
public static class Elementwise
{
    /// <summary>dst[j] (+)= Σ_r src[r, j] over rows; src is [rows, cols]. Sums rows in increasing order.</summary>
    public static unsafe void ColumnSums<T>(ReadOnlySpan<T> src, int rows, int cols, Span<T> dst, bool accumulate)
        where T : unmanaged, INumber<T>
    {
        if (src.Length < (long)rows * cols) throw new ArgumentException($"src holds {src.Length} values, needs rows*cols = {(long)rows * cols}", nameof(src));
        if (dst.Length < cols) throw new ArgumentException($"dst holds {dst.Length} values, needs cols = {cols}", nameof(dst));
        var d = dst[..cols];
        if (!accumulate) d.Clear();
        // Rows outer, a row's columns added into a running row of sums: the source streams once, in order.
        // (Column blocks swept down the rows re-read every cache line once per block: 3x slower from memory.)
        var sums = Scratch<T>.Get(cols, slot: 3);
        sums.Clear();
        fixed (T* ps = src, pSum = sums)
        {
            int w = System.Numerics.Vector.IsHardwareAccelerated && System.Numerics.Vector<T>.IsSupported ? System.Numerics.Vector<T>.Count : 1;
            int vecCols = w > 1 ? cols / w * w : 0;
            T* row = ps;
            for (int i = 0; i < rows; i++, row += cols)
            {
                for (int j = 0; j < vecCols; j += w)
                    System.Numerics.Vector.Store(System.Numerics.Vector.Load(pSum + j) + System.Numerics.Vector.Load(row + j), pSum + j);
                for (int j = vecCols; j < cols; j++) pSum[j] += row[j];
            }
        }
        TensorPrimitives.Add(d, sums, d);
    }

    /// <summary>dst = a·x + b·y element-wise, one pass (dst may alias x or y).</summary>
    public static unsafe void LinearCombination<T>(T a, ReadOnlySpan<T> x, T b, ReadOnlySpan<T> y, Span<T> dst)
        where T : unmanaged, INumber<T>
    {
        if (x.Length != y.Length || dst.Length < x.Length) throw new ArgumentException($"lengths differ: x {x.Length}, y {y.Length}, dst {dst.Length}");
        int n = x.Length, i = 0;
        fixed (T* px = x, py = y, pd = dst)
        {
            if (System.Numerics.Vector.IsHardwareAccelerated && System.Numerics.Vector<T>.IsSupported)
            {
                int w = System.Numerics.Vector<T>.Count;
                var va = new System.Numerics.Vector<T>(a); var vb = new System.Numerics.Vector<T>(b);
                for (; i + w <= n; i += w)
                    System.Numerics.Vector.Store(va * System.Numerics.Vector.Load(px + i) + vb * System.Numerics.Vector.Load(py + i), pd + i);
            }
            for (; i < n; i++) pd[i] = a * px[i] + b * py[i];
        }
    }

    /// <summary>
    /// Backward of out = a·y + b·u in one pass: returns (Σ dout·y, Σ dout·u), writes dy = a·dout and adds
    /// du += b·dout (or writes du = b·dout when not accumulating). Sums run in a fixed order.
    /// </summary>
    public static unsafe (T SumY, T SumU) BranchBackward<T>(ReadOnlySpan<T> dout, ReadOnlySpan<T> y, ReadOnlySpan<T> u, T a, T b, Span<T> dy, Span<T> du,
        bool accumulateDu = true)
        where T : unmanaged, INumber<T>
    {
        int n = dout.Length;
        if (y.Length < n || u.Length < n || dy.Length < n || du.Length < n) throw new ArgumentException($"all spans need {n} values");
        int i = 0;
        T sy = T.Zero, su = T.Zero;
        fixed (T* pd = dout, py = y, pu = u, pdy = dy, pdu = du)
        {
            if (System.Numerics.Vector.IsHardwareAccelerated && System.Numerics.Vector<T>.IsSupported)
            {
                int w = System.Numerics.Vector<T>.Count;
                var vy = System.Numerics.Vector<T>.Zero; var vu = System.Numerics.Vector<T>.Zero;
                var va = new System.Numerics.Vector<T>(a); var vb = new System.Numerics.Vector<T>(b);
                for (; i + w <= n; i += w)
                {
                    var d = System.Numerics.Vector.Load(pd + i);
                    vy += d * System.Numerics.Vector.Load(py + i);
                    vu += d * System.Numerics.Vector.Load(pu + i);
                    System.Numerics.Vector.Store(va * d, pdy + i);
                    System.Numerics.Vector.Store(accumulateDu ? System.Numerics.Vector.Load(pdu + i) + vb * d : vb * d, pdu + i);
                }
                for (int k = 0; k < w; k++) { sy += vy[k]; su += vu[k]; }
            }
            for (; i < n; i++)
            {
                T d = pd[i];
                sy += d * py[i]; su += d * pu[i];
                pdy[i] = a * d; pdu[i] = accumulateDu ? pdu[i] + b * d : b * d;
            }
        }
        return (sy, su);
    }
}

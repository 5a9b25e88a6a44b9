using System.Numerics;
using System.Numerics.Tensors;

namespace PrecisionLS.Numerics;

/// <summary>
/// The Monarch Mixer's short convolution: depthwise, causal, three taps (Conv1d(kernel 3, padding 2), first L kept):
/// y[b, t, c] = bias[c] + w[0, c]·x[b, t−2, c] + w[1, c]·x[b, t−1, c] + w[2, c]·x[b, t, c], with taps tap-major
/// [3, C] (<see cref="DepthwiseConv.ToTapMajor{T}"/>). The same map as <see cref="DepthwiseConv"/> with kernel 3 and
/// padding 2, whose tiles are built for kernels as long as the sequence: at L = 4096 that one pads its taps to L rows
/// per call. Here every row is three vector multiply-adds over the channels, rows split over the workers.
/// </summary>
public static unsafe class CausalConv3
{
    // Rows per work item, fixed so that the weight-gradient partial sums (one per item, added in item order) do not
    // depend on the number of threads.
    private const int RowsPerItem = 256;

    /// <summary>y = CausalConv3(x) + bias (bias may be empty); x, y [batch, length, channels]; overwrites y.</summary>
    public static void Forward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> wT, ReadOnlySpan<T> bias, Span<T> y, int batch, int length, int channels)
        where T : unmanaged, INumber<T>
    {
        long n = (long)batch * length * channels;
        if (x.Length < n || y.Length < n || wT.Length < 3 * channels || (!bias.IsEmpty && bias.Length < channels))
            throw new ArgumentException($"CausalConv3: [{batch}, {length}, {channels}] needs x and y of {n} values and taps [3, {channels}]");
        fixed (T* px = x, pw = wT, pb = bias, py = y)
        {
            var a = new Args<T> { X = px, W = pw, B = pb, Y = py, Length = length, C = channels, Rows = batch * length };
            ParallelFor.Run(Items(a.Rows), 1, in a, &ForwardRange<T>);
        }
    }

    /// <summary>
    /// Backward of <see cref="Forward{T}"/>: dx (+)= Σ_j w[j]·dy[t + 2 − j] (overwritten unless accumulateDx),
    /// dwT[j, c] += Σ dy[t, c]·x[t + j − 2, c], dbias += Σ dy (either may be empty).
    /// </summary>
    public static void Backward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> wT, ReadOnlySpan<T> dy, Span<T> dx, Span<T> dwT, Span<T> dbias,
        int batch, int length, int channels, bool accumulateDx) where T : unmanaged, INumber<T>
    {
        int rows = batch * length, items = Items(rows);
        // Per item: dw (3 rows) and dbias, in the per-thread scratch slot for cross-worker partial sums (no allocation).
        var partial = Scratch<T>.Get(items * 4 * channels, slot: 2);
        partial.Clear();
        fixed (T* px = x, pw = wT, pdy = dy, pdx = dx, pp = partial)
        {
            var a = new Args<T> { X = px, W = pw, Y = pdy, Dx = pdx, Partial = pp, Length = length, C = channels, Rows = rows, Accumulate = accumulateDx };
            ParallelFor.Run(items, 1, in a, &BackwardRange<T>);
        }
        for (int i = 0; i < items; i++)
        {
            var p = partial.Slice(i * 4 * channels, 4 * channels);
            if (!dwT.IsEmpty) TensorPrimitives.Add(dwT[..(3 * channels)], p[..(3 * channels)], dwT[..(3 * channels)]);
            if (!dbias.IsEmpty) TensorPrimitives.Add(dbias[..channels], p[(3 * channels)..], dbias[..channels]);
        }
    }

    private static int Items(int rows) => (rows + RowsPerItem - 1) / RowsPerItem;

    private struct Args<T> where T : unmanaged
    {
        public T* X, W, B, Y, Dx, Partial;
        public int Length, C, Rows;
        public bool Accumulate;
    }

    private static void ForwardRange<T>(in Args<T> a, int start, int end) where T : unmanaged, INumber<T>
    {
        int C = a.C;
        var w0 = new ReadOnlySpan<T>(a.W, C); var w1 = new ReadOnlySpan<T>(a.W + C, C); var w2 = new ReadOnlySpan<T>(a.W + 2 * C, C);
        for (int r = start * RowsPerItem, stop = Math.Min(a.Rows, end * RowsPerItem); r < stop; r++)
        {
            int t = r % a.Length;
            var y = new Span<T>(a.Y + (long)r * C, C);
            if (a.B != null) new ReadOnlySpan<T>(a.B, C).CopyTo(y); else y.Clear();
            // Taps in increasing j, as DepthwiseConv sums them.
            if (t >= 2) TensorPrimitives.MultiplyAdd(new ReadOnlySpan<T>(a.X + (long)(r - 2) * C, C), w0, y, y);
            if (t >= 1) TensorPrimitives.MultiplyAdd(new ReadOnlySpan<T>(a.X + (long)(r - 1) * C, C), w1, y, y);
            TensorPrimitives.MultiplyAdd(new ReadOnlySpan<T>(a.X + (long)r * C, C), w2, y, y);
        }
    }

    private static void BackwardRange<T>(in Args<T> a, int start, int end) where T : unmanaged, INumber<T>
    {
        int C = a.C, L = a.Length;
        var w0 = new ReadOnlySpan<T>(a.W, C); var w1 = new ReadOnlySpan<T>(a.W + C, C); var w2 = new ReadOnlySpan<T>(a.W + 2 * C, C);
        for (int item = start; item < end; item++)
        {
            var p = new Span<T>(a.Partial + (long)item * 4 * C, 4 * C);
            for (int r = item * RowsPerItem, stop = Math.Min(a.Rows, (item + 1) * RowsPerItem); r < stop; r++)
            {
                int t = r % L;
                var dy = new ReadOnlySpan<T>(a.Y + (long)r * C, C);
                var x = new ReadOnlySpan<T>(a.X + (long)r * C, C);
                // dx[t] (+)= w2·dy[t] + w1·dy[t+1] + w0·dy[t+2] (within the sequence)
                var dx = new Span<T>(a.Dx + (long)r * C, C);
                if (!a.Accumulate) dx.Clear();
                TensorPrimitives.MultiplyAdd(dy, w2, dx, dx);
                if (t + 1 < L) TensorPrimitives.MultiplyAdd(new ReadOnlySpan<T>(a.Y + (long)(r + 1) * C, C), w1, dx, dx);
                if (t + 2 < L) TensorPrimitives.MultiplyAdd(new ReadOnlySpan<T>(a.Y + (long)(r + 2) * C, C), w0, dx, dx);
                // dw[j] += dy[t]·x[t + j − 2]; dbias += dy[t]
                if (t >= 2) TensorPrimitives.MultiplyAdd(dy, new ReadOnlySpan<T>(a.X + (long)(r - 2) * C, C), p[..C], p[..C]);
                if (t >= 1) TensorPrimitives.MultiplyAdd(dy, new ReadOnlySpan<T>(a.X + (long)(r - 1) * C, C), p.Slice(C, C), p.Slice(C, C));
                TensorPrimitives.MultiplyAdd(dy, x, p.Slice(2 * C, C), p.Slice(2 * C, C));
                TensorPrimitives.Add(p.Slice(3 * C, C), dy, p.Slice(3 * C, C));
            }
        }
    }
}

using System.Numerics;
using PrecisionLS.Numerics;

namespace PrecisionLS.Monarch;

/// <summary>
/// A block-diagonal matrix applied to rows (REFERENCE §3, the first Monarch factor; fly's <c>blockdiag_multiply</c>):
/// <code>y[b, kk·q + i] = Σ_j w[kk, i, j]·x[b, kk·p + j]      w (k, q, p), x [rows, k·p], y [rows, k·q]</code>
/// Each block is a batched small GEMM, (rows × p)·(q × p)ᵀ, run by <see cref="SmallGemm"/> on column slices of x
/// and y in place; rows are split over <see cref="WorkerPool.Shared"/>.
/// </summary>
/// <remarks>
/// Every output element is summed by one thread in a fixed order, so results do not depend on the thread count.
/// The weight is packed (each block transposed, so a block row of the product is a contiguous vector load) into a
/// per-thread scratch array that is reused: no allocation once the largest shape has been seen.
/// <see cref="ForwardReference{T}"/> and <see cref="BackwardReference{T}"/> are the plain loops.
/// </remarks>
public static unsafe class BlockDiagonalMultiply
{
    // Rows per work item of the parallel loops: enough that a work item amortises its dispatch.
    private const int RowsPerItem = 16;
    // Rows per pass of the weight-gradient reduction, so a pass's slices of x and dy stay in cache.
    private const int GradientChunk = 256;

    /// <summary>y[b, kk·q + i] = Σ_j w[kk, i, j]·x[b, kk·p + j]; overwrites y. w (k, q, p), x [rows, k·p], y [rows, k·q].</summary>
    public static void Forward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> w, Span<T> y, int k, int q, int p, int rows)
        where T : unmanaged, INumber<T>
    {
        Check(k, q, p, rows);
        CheckLength(x.Length, (long)rows * k * p, nameof(x));
        CheckLength(w.Length, (long)k * q * p, nameof(w));
        CheckLength(y.Length, (long)rows * k * q, nameof(y));
        if (rows == 0) return;
        T* pt = MonarchScratch<T>.Get(MonarchScratch<T>.PackedW1, (long)k * q * p);
        fixed (T* px = x, pw = w, py = y)
        {
            PackTransposed(pw, k, q, p, pt);
            var args = new Args<T> { A = px, W = pt, C = py, K = k, Q = q, P = p, Rows = rows };
            ParallelFor.Run(Items(rows), MinItems(k * q * p), args, &ForwardItems<T>);
        }
    }

    /// <summary>
    /// Backward of <see cref="Forward{T}"/>: dw[kk, i, j] += Σ_b dy[b, kk·q + i]·x[b, kk·p + j] (when dw is not empty)
    /// and dx[b, kk·p + j] (+)= Σ_i w[kk, i, j]·dy[b, kk·q + i] (when dx is not empty; overwritten unless
    /// <paramref name="accumulateDx"/>).
    /// </summary>
    public static void Backward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> dy, Span<T> dx, Span<T> dw,
        int k, int q, int p, int rows, bool accumulateDx = true) where T : unmanaged, INumber<T>
    {
        Check(k, q, p, rows);
        CheckLength(w.Length, (long)k * q * p, nameof(w));
        CheckLength(dy.Length, (long)rows * k * q, nameof(dy));
        if (!dw.IsEmpty) { CheckLength(x.Length, (long)rows * k * p, nameof(x)); CheckLength(dw.Length, (long)k * q * p, nameof(dw)); }
        if (!dx.IsEmpty) CheckLength(dx.Length, (long)rows * k * p, nameof(dx));
        if (rows == 0) { if (!dx.IsEmpty && !accumulateDx) dx.Clear(); return; }
        fixed (T* px = x, pw = w, pdy = dy, pdx = dx, pdw = dw)
        {
            if (!dx.IsEmpty)
            {
                var args = new Args<T> { A = pdy, W = pw, C = pdx, K = k, Q = q, P = p, Rows = rows, Accumulate = accumulateDx };
                ParallelFor.Run(Items(rows), MinItems(k * q * p), args, &InputGradientItems<T>);
            }
            if (!dw.IsEmpty)
            {
                var args = new Args<T> { A = pdy, W = px, C = pdw, K = k, Q = q, P = p, Rows = rows };
                ParallelFor.Run(k, 1, args, &WeightGradientBlocks<T>);
            }
        }
    }

    /// <summary>The plain loop of <see cref="Forward{T}"/>.</summary>
    public static void ForwardReference<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> w, Span<T> y, int k, int q, int p, int rows) where T : INumber<T>
    {
        for (int b = 0; b < rows; b++)
            for (int kk = 0; kk < k; kk++)
                for (int i = 0; i < q; i++)
                {
                    T s = T.Zero;
                    for (int j = 0; j < p; j++) s += w[(kk * q + i) * p + j] * x[b * k * p + kk * p + j];
                    y[b * k * q + kk * q + i] = s;
                }
    }

    /// <summary>The plain loops of <see cref="Backward{T}"/> (dx and dw accumulate).</summary>
    public static void BackwardReference<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> dy, Span<T> dx, Span<T> dw,
        int k, int q, int p, int rows) where T : INumber<T>
    {
        for (int kk = 0; kk < k; kk++)
            for (int i = 0; i < q; i++)
                for (int j = 0; j < p; j++)
                {
                    T s = T.Zero;
                    for (int b = 0; b < rows; b++) s += dy[b * k * q + kk * q + i] * x[b * k * p + kk * p + j];
                    dw[(kk * q + i) * p + j] += s;
                }
        for (int b = 0; b < rows; b++)
            for (int kk = 0; kk < k; kk++)
                for (int j = 0; j < p; j++)
                {
                    T s = T.Zero;
                    for (int i = 0; i < q; i++) s += w[(kk * q + i) * p + j] * dy[b * k * q + kk * q + i];
                    dx[b * k * p + kk * p + j] += s;
                }
    }

    /// <summary>wt[kk, j, i] = w[kk, i, j]: each (q × p) block transposed to (p × q).</summary>
    internal static void PackTransposed<T>(T* w, int k, int q, int p, T* wt) where T : unmanaged
    {
        for (int kk = 0; kk < k; kk++)
        {
            T* src = w + (nint)kk * q * p, dst = wt + (nint)kk * q * p;
            for (int i = 0; i < q; i++)
                for (int j = 0; j < p; j++) dst[j * q + i] = src[i * p + j];
        }
    }

    /// <summary>
    /// y[b, kk·q + i] = Σ_j wt[kk, j, i]·x[b, kk·p + j] for b &lt; rows; x rows ldx apart, y rows ldy apart. With a
    /// <paramref name="segment"/> dividing q, output f = kk·q + i goes to (f / segment)·segmentStride + f % segment
    /// instead: the Monarch product's padded view of h.
    /// </summary>
    internal static void ForwardRows<T>(T* x, nint ldx, T* wt, T* y, nint ldy, int k, int q, int p, int rows, int segment = 0, nint segmentStride = 0)
        where T : unmanaged, INumber<T>
    {
        if (segment <= 0) { segment = q; segmentStride = q; }
        int segments = q / segment;
        // Gemm's 6-row × 4-vector tile when a row of the product fills it (32 doubles with AVX-512); narrower ones
        // would fall to its one-row edge tiles, where SmallGemm's 4-row tiles over 1 to 4 vectors do better.
        bool wide = segment >= 4L * Gemm.VectorWidth<T>();
        for (int kk = 0; kk < k; kk++)
            for (int g = 0; g < segments; g++)
            {
                T* xb = x + (nint)kk * p, wb = wt + (nint)kk * p * q + (nint)g * segment, yb = y + ((nint)kk * segments + g) * segmentStride;
                if (wide) Gemm.RunSerial(xb, ldx, 1, wb, q, yb, ldy, rows, segment, p, false);
                else SmallGemm.Run(xb, ldx, 1, wb, q, yb, ldy, rows, segment, p, false, TriangleSkip.None);
            }
    }

    /// <summary>dx[b, kk·p + j] (+)= Σ_i w[kk, i, j]·dy[b, kk·q + i] for b &lt; rows; dy rows ldy apart, dx rows ldx apart.</summary>
    internal static void InputGradientRows<T>(T* dy, nint ldy, T* w, T* dx, nint ldx, int k, int q, int p, int rows, bool accumulate)
        where T : unmanaged, INumber<T>
    {
        for (int kk = 0; kk < k; kk++)
            SmallGemm.Run(dy + (nint)kk * q, ldy, 1, w + (nint)kk * q * p, p, dx + (nint)kk * p, ldx, rows, p, q, accumulate, TriangleSkip.None);
    }

    /// <summary>dw[kk, i, j] += Σ_b dy[b, kk·q + i]·x[b, kk·p + j] for blocks kk in [kk0, kk1); rows summed in increasing order.</summary>
    internal static void WeightGradientRows<T>(T* dy, nint ldy, T* x, nint ldx, T* dw, int q, int p, int rows, int kk0, int kk1)
        where T : unmanaged, INumber<T>
    {
        for (int kk = kk0; kk < kk1; kk++)
            for (int b0 = 0; b0 < rows; b0 += GradientChunk)
            {
                // The tile adds onto the running sums one row at a time, so chunking keeps the plain summation order.
                int nb = Math.Min(GradientChunk, rows - b0);
                SmallGemm.Run(dy + b0 * ldy + (nint)kk * q, 1, ldy, x + b0 * ldx + (nint)kk * p, ldx, dw + (nint)kk * q * p, p, q, p, nb, true, TriangleSkip.None);
            }
    }

    private struct Args<T> where T : unmanaged
    {
        public T* A, W, C;
        public int K, Q, P, Rows;
        public bool Accumulate;
    }

    private static int Items(int rows) => (rows + RowsPerItem - 1) / RowsPerItem;

    // Work items per worker so that each worker gets at least ~64K multiply-adds (smaller products run serially).
    internal static int MinItems(long multiplyAddsPerRow) => (int)Math.Max(1, 65_536 / Math.Max(1, multiplyAddsPerRow * RowsPerItem));

    private static void ForwardItems<T>(in Args<T> a, int start, int end) where T : unmanaged, INumber<T>
    {
        int r0 = start * RowsPerItem, r1 = Math.Min(a.Rows, end * RowsPerItem);
        nint n = (nint)a.K * a.P, h = (nint)a.K * a.Q;
        ForwardRows(a.A + r0 * n, n, a.W, a.C + r0 * h, h, a.K, a.Q, a.P, r1 - r0);
    }

    private static void InputGradientItems<T>(in Args<T> a, int start, int end) where T : unmanaged, INumber<T>
    {
        int r0 = start * RowsPerItem, r1 = Math.Min(a.Rows, end * RowsPerItem);
        nint n = (nint)a.K * a.P, h = (nint)a.K * a.Q;
        InputGradientRows(a.A + r0 * h, h, a.W, a.C + r0 * n, n, a.K, a.Q, a.P, r1 - r0, a.Accumulate);
    }

    private static void WeightGradientBlocks<T>(in Args<T> a, int start, int end) where T : unmanaged, INumber<T> =>
        WeightGradientRows(a.A, (nint)a.K * a.Q, a.W, (nint)a.K * a.P, a.C, a.Q, a.P, a.Rows, start, end);

    private static void Check(int k, int q, int p, int rows)
    {
        if (k < 1 || q < 1 || p < 1) throw new ArgumentException($"block-diagonal weight ({k}, {q}, {p}): sizes must be positive");
        if (rows < 0) throw new ArgumentOutOfRangeException(nameof(rows), rows, "rows must be non-negative");
    }

    private static void CheckLength(int have, long need, string name)
    {
        if (have < need) throw new ArgumentException($"{name} holds {have} values, the product needs {need}", name);
    }
}

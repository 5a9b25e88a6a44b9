using System.Numerics;
using PrecisionLS.Numerics;

namespace PrecisionLS.Monarch;

/// <summary>
/// The Monarch (blockdiag-butterfly) product of rows, REFERENCE §3 and fly's <c>blockdiag_butterfly_multiply</c>:
/// <code>
/// h[b, kk·q + i]  = Σ_j  w1[kk, i, j]·x[b, kk·p + j]        blockdiag(w1) on x viewed (k, p)
/// y[b, t·l + jj]  = Σ_c  w2[jj, t, c]·h[b, c·l + jj]        h viewed (r, l) → (l, r); blockdiag(w2); (l, s) → (s, l)
/// </code>
/// that is y = P_out blockdiag(w2) P_mid blockdiag(w1) x with w1 (k, q, p), w2 (l, s, r), k·p = n, l·r = k·q,
/// m = l·s; square n = b² has M[t·b + jj, kk·b + i] = w2[jj, t, kk]·w1[kk, jj, i]. x [rows, n], y [rows, m].
/// </summary>
/// <remarks>
/// Rows go through in panels: the first factor writes a panel of h (a per-thread scratch array that stays in cache,
/// or the caller's h when it keeps it for backward), the second factor reads it back straight away. Neither
/// permutation is a pass of its own: the first factor's blocks are column slices of x and h
/// (<see cref="BlockDiagonalMultiply"/>), and the second factor is vectorised along its block index jj, where h's
/// (r, l) view and y's (s, l) view are both contiguous (<see cref="MonarchKernels"/>). Panels are split over
/// <see cref="WorkerPool.Shared"/>; every value is summed by one thread in a fixed order, so results do not depend
/// on the thread count, nor on whether h is kept. Packed weights and panels live in per-thread, 64-byte aligned
/// scratch buffers reused across calls; a scratch panel pads each row of h's (r, l) view by one cache line. Backward
/// runs the second factor transposed over row panels (then the first factor's input gradient), and reduces each
/// factor's gradient over all rows, split by block (w1) or by output row of a block (w2).
/// <see cref="ForwardReference{T}"/> and <see cref="BackwardReference{T}"/> are the plain loops.
/// </remarks>
public static unsafe class MonarchMultiply
{
    /// <summary>
    /// Target bytes of a panel of h; a panel has 16 to 64 rows. Measured on 2 AVX-512 cores with batch 1024:
    /// 16 rows were fastest at n = 1024 (128 KB) and n = 4096 (512 KB), against 8 or 32; 64 rows at n = 256.
    /// </summary>
    internal static int PanelBytes { get; set; } = 128 * 1024;

    /// <summary>
    /// Outputs of at least this many bytes are written with streaming stores (when 64-byte aligned): they would not
    /// stay in the caches anyway, and a streamed store skips reading each line before writing it. Measured at n = 1024,
    /// batch 1024 (8 MB out) on 2 AVX-512 cores: see README, Measured figures.
    /// </summary>
    internal static long StreamingBytes { get; set; } = 4L << 20;

    /// <summary>
    /// y = Monarch(w1, w2) x for each of <paramref name="rows"/> rows; overwrites y. When <paramref name="h"/> is not
    /// empty ([rows, k·q]) the intermediate values are written there too (what <see cref="Backward{T}"/> needs).
    /// </summary>
    public static void Forward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> w1, ReadOnlySpan<T> w2, Span<T> y, MonarchShape shape, int rows, Span<T> h = default)
        where T : unmanaged, INumber<T>
    {
        shape.Validate();
        if (rows < 0) throw new ArgumentOutOfRangeException(nameof(rows), rows, "rows must be non-negative");
        CheckLength(x.Length, (long)rows * shape.N, nameof(x));
        CheckLength(w1.Length, shape.W1Length, nameof(w1));
        CheckLength(w2.Length, shape.W2Length, nameof(w2));
        CheckLength(y.Length, (long)rows * shape.M, nameof(y));
        if (!h.IsEmpty) CheckLength(h.Length, (long)rows * shape.Hidden, nameof(h));
        if (rows == 0) return;
        var (k, q, p, l, s, r) = shape;
        int width = MonarchKernels.VectorWidth<T>(l);
        T* pw1t = MonarchScratch<T>.Get(MonarchScratch<T>.PackedW1, shape.W1Length);
        T* pw2p = MonarchScratch<T>.Get(MonarchScratch<T>.PackedW2, MonarchKernels.PackedLength(l, s, r, width));
        int panel = PanelRows<T>(shape, rows);
        fixed (T* px = x, pw1 = w1, pw2 = w2, py = y, ph = h)
        {
            BlockDiagonalMultiply.PackTransposed(pw1, k, q, p, pw1t);
            // Forward reads w2 as wt(a = t, c, jj) = w2[jj, t, c].
            MonarchKernels.Pack(pw2, (nint)s * r, r, 1, l, s, r, width, pw2p);
            var args = new Args<T>
            {
                X = px, W1 = pw1, W1t = pw1t, W2 = pw2, W2p = pw2p, Y = py, H = ph,
                Shape = shape, Rows = rows, Panel = panel, Width = width,
                Streaming = StreamsOutput(py, shape, rows, width),
            };
            ParallelFor.Run((rows + panel - 1) / panel, MinPanels(shape, panel), args, &ForwardPanels<T>);
        }
    }

    /// <summary>
    /// True when <see cref="Forward{T}"/> writes y [rows, m] with streaming stores: y is at least
    /// <see cref="StreamingBytes"/> and 64-byte aligned so that every vector store is aligned.
    /// </summary>
    internal static bool StreamsOutput<T>(T* y, MonarchShape shape, int rows, int width) where T : unmanaged =>
        (long)rows * shape.M * sizeof(T) >= StreamingBytes && MonarchKernels.CanStream(y, shape.M, shape.L, width);

    /// <summary>
    /// Backward of <see cref="Forward{T}"/> given dy [rows, m]: dw1 += ∂/∂w1 and dw2 += ∂/∂w2 (skipped when empty:
    /// frozen factors), and dx (+)= ∂/∂x when dx is not empty (overwritten unless <paramref name="accumulateDx"/>).
    /// <paramref name="h"/> is the forward's intermediate [rows, k·q]; when empty it is recomputed from x.
    /// </summary>
    public static void Backward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> h, ReadOnlySpan<T> w1, ReadOnlySpan<T> w2, ReadOnlySpan<T> dy,
        Span<T> dx, Span<T> dw1, Span<T> dw2, MonarchShape shape, int rows, bool accumulateDx = true) where T : unmanaged, INumber<T>
    {
        shape.Validate();
        if (rows < 0) throw new ArgumentOutOfRangeException(nameof(rows), rows, "rows must be non-negative");
        CheckLength(x.Length, (long)rows * shape.N, nameof(x));
        CheckLength(w1.Length, shape.W1Length, nameof(w1));
        CheckLength(w2.Length, shape.W2Length, nameof(w2));
        CheckLength(dy.Length, (long)rows * shape.M, nameof(dy));
        if (!h.IsEmpty) CheckLength(h.Length, (long)rows * shape.Hidden, nameof(h));
        if (!dx.IsEmpty) CheckLength(dx.Length, (long)rows * shape.N, nameof(dx));
        if (!dw1.IsEmpty) CheckLength(dw1.Length, shape.W1Length, nameof(dw1));
        if (!dw2.IsEmpty) CheckLength(dw2.Length, shape.W2Length, nameof(dw2));
        if (rows == 0) { if (!dx.IsEmpty && !accumulateDx) dx.Clear(); return; }
        var (k, q, p, l, s, r) = shape;
        long hidden = (long)rows * shape.Hidden;
        int width = MonarchKernels.VectorWidth<T>(l);
        if (h.IsEmpty && !dw2.IsEmpty)
        {
            var hr = new Span<T>(MonarchScratch<T>.Get(MonarchScratch<T>.Hidden, hidden), (int)hidden);
            BlockDiagonalMultiply.Forward(x, w1, hr, k, q, p, rows);
            h = hr;
        }
        bool needDh = !dx.IsEmpty || !dw1.IsEmpty;
        T* pdh = needDh ? MonarchScratch<T>.Get(MonarchScratch<T>.HiddenGrad, hidden) : null;
        T* pw2p = MonarchScratch<T>.Get(MonarchScratch<T>.PackedW2, MonarchKernels.PackedLength(l, r, s, width));
        T* pwork = MonarchScratch<T>.Get(MonarchScratch<T>.W2Grad, MonarchKernels.PackedLength(l, s, r, width));
        int panel = PanelRows<T>(shape, rows);
        fixed (T* px = x, ph = h, pw1 = w1, pw2 = w2, pdy = dy, pdx = dx, pdw1 = dw1, pdw2 = dw2)
        {
            var args = new Args<T>
            {
                X = px, H = ph, W1 = pw1, W2 = pw2, W2p = pw2p, Y = pdy, Dx = pdx, Dh = pdh, Dw1 = pdw1, Dw2 = pdw2, Work = pwork,
                Shape = shape, Rows = rows, Panel = panel, Width = width, AccumulateDx = accumulateDx,
            };
            if (needDh)
            {
                // dh[b, c·l + jj] = Σ_t w2[jj, t, c]·dy[b, t·l + jj]: the second factor transposed, wt(a = c, t, jj).
                MonarchKernels.Pack(pw2, (nint)s * r, 1, r, l, r, s, width, pw2p);
                ParallelFor.Run((rows + panel - 1) / panel, MinPanels(shape, panel), args, &BackwardPanels<T>);
            }
            // dw1[kk, i, j] += Σ_b dh[b, kk·q + i]·x[b, kk·p + j], one block per work item.
            if (!dw1.IsEmpty) ParallelFor.Run(k, 1, args, &FirstFactorGradient<T>);
            // dw2[jj, t, c] += Σ_b dy[b, t·l + jj]·h[b, c·l + jj], split over t.
            if (!dw2.IsEmpty) ParallelFor.Run(s, 1, args, &SecondFactorGradient<T>);
        }
    }

    /// <summary>
    /// The dense (m × n) matrix of the product: dense[o, i] with y = dense·x; overwrites dense.
    /// Each entry is the sum of w2·w1 over the paths from input i to output o (one path in the square case).
    /// </summary>
    public static void ToDense<T>(ReadOnlySpan<T> w1, ReadOnlySpan<T> w2, MonarchShape shape, Span<T> dense) where T : INumber<T>
    {
        shape.Validate();
        CheckLength(w1.Length, shape.W1Length, nameof(w1));
        CheckLength(w2.Length, shape.W2Length, nameof(w2));
        CheckLength(dense.Length, (long)shape.M * shape.N, nameof(dense));
        var (k, q, p, l, s, r) = shape;
        int n = shape.N;
        dense[..(shape.M * n)].Clear();
        for (int kk = 0; kk < k; kk++)
            for (int i = 0; i < q; i++)
            {
                int hIndex = kk * q + i, c = hIndex / l, jj = hIndex % l;    // h viewed (r, l): h[c·l + jj]
                for (int t = 0; t < s; t++)
                {
                    T a = w2[(jj * s + t) * r + c];
                    int row = (t * l + jj) * n + kk * p;                          // output t·l + jj
                    for (int j = 0; j < p; j++) dense[row + j] += a * w1[(kk * q + i) * p + j];
                }
            }
    }

    /// <summary>The plain loops of <see cref="Forward{T}"/> (h is written when not empty).</summary>
    public static void ForwardReference<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> w1, ReadOnlySpan<T> w2, Span<T> y, MonarchShape shape, int rows, Span<T> h = default)
        where T : INumber<T>
    {
        shape.Validate();
        var (k, q, p, l, s, r) = shape;
        int n = shape.N, m = shape.M, hw = shape.Hidden;
        var hh = h.IsEmpty ? new T[rows * hw] : h;
        for (int b = 0; b < rows; b++)
        {
            for (int kk = 0; kk < k; kk++)
                for (int i = 0; i < q; i++)
                {
                    T sum = T.Zero;
                    for (int j = 0; j < p; j++) sum += w1[(kk * q + i) * p + j] * x[b * n + kk * p + j];
                    hh[b * hw + kk * q + i] = sum;
                }
            for (int jj = 0; jj < l; jj++)
                for (int t = 0; t < s; t++)
                {
                    T sum = T.Zero;
                    for (int c = 0; c < r; c++) sum += w2[(jj * s + t) * r + c] * hh[b * hw + c * l + jj];
                    y[b * m + t * l + jj] = sum;
                }
        }
    }

    /// <summary>The plain loops of <see cref="Backward{T}"/> (dx, dw1 and dw2 accumulate).</summary>
    public static void BackwardReference<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> w1, ReadOnlySpan<T> w2, ReadOnlySpan<T> dy,
        Span<T> dx, Span<T> dw1, Span<T> dw2, MonarchShape shape, int rows) where T : INumber<T>
    {
        var (k, q, p, l, s, r) = shape;
        int hw = shape.Hidden, m = shape.M;
        var h = new T[rows * hw];
        ForwardReference(x, w1, w2, new T[rows * m], shape, rows, h);
        var dh = new T[rows * hw];
        for (int b = 0; b < rows; b++)
            for (int jj = 0; jj < l; jj++)
                for (int c = 0; c < r; c++)
                {
                    T sum = T.Zero;
                    for (int t = 0; t < s; t++) sum += w2[(jj * s + t) * r + c] * dy[b * m + t * l + jj];
                    dh[b * hw + c * l + jj] = sum;
                }
        for (int jj = 0; jj < l; jj++)
            for (int t = 0; t < s; t++)
                for (int c = 0; c < r; c++)
                {
                    T sum = T.Zero;
                    for (int b = 0; b < rows; b++) sum += dy[b * m + t * l + jj] * h[b * hw + c * l + jj];
                    dw2[(jj * s + t) * r + c] += sum;
                }
        BlockDiagonalMultiply.BackwardReference<T>(x, w1, dh, dx, dw1, k, q, p, rows);
    }

    // Rows per panel: a multiple of 4 (the kernels' row tile) whose slice of h fits PanelBytes, at least 16 rows (the
    // weights are read once per panel), fewer when there are too few rows to give each worker two panels.
    private static int PanelRows<T>(MonarchShape shape, int rows) where T : unmanaged
    {
        long perRow = (long)shape.Hidden * sizeof(T);
        int panel = (int)Math.Clamp(PanelBytes / perRow / 4 * 4, 16, 64);
        int threads = WorkerPool.Shared.Threads;
        if (threads > 1 && rows < 2 * threads * panel) panel = Math.Max(4, (rows / (2 * threads) + 3) / 4 * 4);
        return panel;
    }

    // Panels per worker so that each worker gets at least ~64K multiply-adds (smaller products run serially).
    private static int MinPanels(MonarchShape shape, int panel) =>
        (int)Math.Max(1, 65_536 / Math.Max(1, shape.MultiplyAddsPerRow * panel));

    private struct Args<T> where T : unmanaged
    {
        public T* X, H, W1, W1t, W2, W2p, Y, Dx, Dh, Dw1, Dw2, Work;
        public MonarchShape Shape;
        public int Rows, Panel, Width;
        public bool AccumulateDx, Streaming;
    }

    private static void ForwardPanels<T>(in Args<T> a, int start, int end) where T : unmanaged, INumber<T>
    {
        var (k, q, p, l, s, r) = a.Shape;
        int n = a.Shape.N, m = a.Shape.M, hw = a.Shape.Hidden;
        // In a scratch panel each row of h's (r, l) view is one cache line longer than l, and each panel row one line
        // longer than r of those: with l = 64 doubles the view's rows would be 512 B apart, and the second factor's
        // tile (4 panel rows × 64 view rows, plus its weights) would need 14 lines of some L1 sets, which hold 12.
        // The first factor writes the padded view directly when its blocks cover whole view rows (q a multiple of l)
        // and each view row is whole register tiles (l a multiple of 4 vectors), so the arithmetic is the same as
        // when it writes the caller's h: results do not depend on whether h is kept.
        int line = 64 / sizeof(T);
        bool padded = a.H == null && q % l == 0 && l % (4L * Gemm.VectorWidth<T>()) == 0;
        nint inC = padded ? l + line : l;
        nint ldh = a.H != null ? hw : padded ? r * inC + line : hw + line;
        T* panelScratch = a.H == null ? MonarchScratch<T>.Get(MonarchScratch<T>.Panel, (long)a.Panel * ldh) : null;
        for (int pi = start; pi < end; pi++)
        {
            int r0 = pi * a.Panel, rows = Math.Min(a.Panel, a.Rows - r0);
            T* hp = a.H != null ? a.H + (nint)r0 * hw : panelScratch;
            BlockDiagonalMultiply.ForwardRows(a.X + (nint)r0 * n, n, a.W1t, hp, ldh, k, q, p, rows, padded ? l : 0, inC);
            MonarchKernels.Product(hp, ldh, inC, a.W2, (nint)s * r, r, 1, a.W2p, a.Width, a.Y + (nint)r0 * m, m, rows, s, r, l, false, a.Streaming);
        }
        // Streamed stores are weakly ordered: make them visible before the caller (another thread) reads y.
        if (a.Streaming && System.Runtime.Intrinsics.X86.Sse.IsSupported) System.Runtime.Intrinsics.X86.Sse.StoreFence();
    }

    private static void BackwardPanels<T>(in Args<T> a, int start, int end) where T : unmanaged, INumber<T>
    {
        var (k, q, p, l, s, r) = a.Shape;
        int n = a.Shape.N, m = a.Shape.M, hw = a.Shape.Hidden;
        for (int pi = start; pi < end; pi++)
        {
            int r0 = pi * a.Panel, rows = Math.Min(a.Panel, a.Rows - r0);
            T* dh = a.Dh + (nint)r0 * hw;
            MonarchKernels.Product(a.Y + (nint)r0 * m, m, l, a.W2, (nint)s * r, 1, r, a.W2p, a.Width, dh, hw, rows, r, s, l, false);
            if (a.Dx != null)
                BlockDiagonalMultiply.InputGradientRows(dh, hw, a.W1, a.Dx + (nint)r0 * n, n, k, q, p, rows, a.AccumulateDx);
        }
    }

    private static void FirstFactorGradient<T>(in Args<T> a, int start, int end) where T : unmanaged, INumber<T> =>
        BlockDiagonalMultiply.WeightGradientRows(a.Dh, a.Shape.Hidden, a.X, a.Shape.N, a.Dw1, a.Shape.Q, a.Shape.P, a.Rows, start, end);

    private static void SecondFactorGradient<T>(in Args<T> a, int start, int end) where T : unmanaged, INumber<T>
    {
        var (_, _, _, l, s, r) = a.Shape;
        MonarchKernels.Reduce(a.Y, a.Shape.M, a.H, a.Shape.Hidden, a.Rows, s, r, l, a.Width, a.Dw2, (nint)s * r, r, 1, a.Work, start, end);
    }

    private static void CheckLength(int have, long need, string name)
    {
        if (have < need) throw new ArgumentException($"{name} holds {have} values, the product needs {need}", name);
    }
}

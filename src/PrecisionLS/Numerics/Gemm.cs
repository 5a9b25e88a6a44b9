using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace PrecisionLS.Numerics;

/// <summary>
/// Dense matrix products on row-major spans, the kernels every Linear layer runs on.
/// <list type="bullet">
/// <item>NN: c[i,j] (+)= Σ_p a[i,p]·b[p,j]; a is [m,k], b is [k,n] (BLAS gemm "N","N").</item>
/// <item>TN: c[i,j] (+)= Σ_p a[p,i]·b[p,j]; a is [k,m], b is [k,n] (weight gradients: dW = dYᵀ X).</item>
/// <item>NT: c[i,j] (+)= Σ_p a[i,p]·b[j,p]; a is [m,k], b is [n,k] (Linear forward: y = x Wᵀ with W [out, in]).</item>
/// </list>
/// <c>accumulate</c> = false overwrites c, true adds to it. c must not overlap a or b.
/// </summary>
/// <remarks>
/// A 6-row by 4-vector register tile (24 accumulators: 6x32 doubles with AVX-512), k blocked by 256, rows
/// split over <see cref="WorkerPool.Shared"/>. Each c element is summed over p in increasing order by one
/// thread, so results do not depend on the thread count; they differ from the naive reference (kept here as
/// <see cref="NNReference{T}"/> and friends) only by FMA rounding.
/// </remarks>
public static unsafe class Gemm
{
    private const int MR = 6;      // rows per register tile
    private const int NRV = 4;     // vectors per register tile
    private const int KC = 256;    // k block: a [KC, tile] slice of b stays in L1/L2 across the row tiles
    private const int MC = 24;     // rows per cache block of a (multiple of MR)
    private const int NC = 256;    // columns per cache block of b when b is large (multiple of NRV vectors)
    private const long LargeB = 8 << 20;   // bytes of b above which it is blocked by columns

    /// <summary>c[i,j] = bias[j] + Σ_p a[i,p]·b[p,j] (overwrites c). a [m,k], b [k,n], bias [n], c [m,n].</summary>
    public static void NN<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, ReadOnlySpan<T> bias, Span<T> c, int m, int n, int k)
        where T : unmanaged, INumber<T>
    {
        Check(a, b, c, m, n, k, m * k, k * n);
        if (bias.Length < n) throw new ArgumentException($"bias holds {bias.Length} values, needs n = {n}", nameof(bias));
        if (m == 0 || n == 0) return;
        if (k == 0) { for (int i = 0; i < m; i++) bias[..n].CopyTo(c.Slice(i * n, n)); return; }
        fixed (T* pa = a, pb = b, pc = c, pbias = bias)
            Run(pa, k, 1, pb, n, pc, n, m, n, k, false, pbias);
    }

    /// <summary>c[i,j] (+)= Σ_p a[i,p]·b[p,j]. a [m,k], b [k,n], c [m,n].</summary>
    public static void NN<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int m, int n, int k, bool accumulate)
        where T : unmanaged, INumber<T>
    {
        Check(a, b, c, m, n, k, m * k, k * n);
        if (m == 0 || n == 0) return;
        if (k == 0) { if (!accumulate) c[..(m * n)].Clear(); return; }
        fixed (T* pa = a, pb = b, pc = c)
            Run(pa, k, 1, pb, n, pc, n, m, n, k, accumulate);
    }

    /// <summary>
    /// c[i·ldc + j] (+)= Σ_p a[i·lda + p]·b[p·ldb + j]: the NN product of sub-matrices of larger row-major arrays
    /// (a [m, k] with row stride lda, b [k, n] with row stride ldb, c [m, n] with row stride ldc), e.g. one block
    /// row of a Gram matrix against a packed slice of its columns.
    /// </summary>
    public static void NNStrided<T>(ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, Span<T> c, int ldc, int m, int n, int k, bool accumulate)
        where T : unmanaged, INumber<T>
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentException($"negative shape m={m} n={n} k={k}");
        if (lda < k || ldb < n || ldc < n) throw new ArgumentException($"strides lda={lda}, ldb={ldb}, ldc={ldc} are shorter than the rows they hold (k={k}, n={n})");
        if (m == 0 || n == 0) return;
        if ((long)(m - 1) * lda + k > a.Length) throw new ArgumentException($"a holds {a.Length} values; m={m} rows of stride {lda} need {(long)(m - 1) * lda + k}", nameof(a));
        if (k > 0 && (long)(k - 1) * ldb + n > b.Length) throw new ArgumentException($"b holds {b.Length} values; k={k} rows of stride {ldb} need {(long)(k - 1) * ldb + n}", nameof(b));
        if ((long)(m - 1) * ldc + n > c.Length) throw new ArgumentException($"c holds {c.Length} values; m={m} rows of stride {ldc} need {(long)(m - 1) * ldc + n}", nameof(c));
        if (k == 0) { if (!accumulate) for (int i = 0; i < m; i++) c.Slice(i * ldc, n).Clear(); return; }
        fixed (T* pa = a, pb = b, pc = c)
            Run(pa, lda, 1, pb, ldb, pc, ldc, m, n, k, accumulate);
    }

    /// <summary>c[i,j] (+)= Σ_p a[p,i]·b[p,j]. a [k,m], b [k,n], c [m,n].</summary>
    public static void TN<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int m, int n, int k, bool accumulate)
        where T : unmanaged, INumber<T>
    {
        Check(a, b, c, m, n, k, k * m, k * n);
        if (m == 0 || n == 0) return;
        if (k == 0) { if (!accumulate) c[..(m * n)].Clear(); return; }
        int w = VectorWidth<T>();
        if (n < w && m >= w)
        {
            // Few columns: compute cᵀ = bᵀ a (full-width tiles), then transpose into c.
            var scratch = Scratch<T>.Get(m * n);
            fixed (T* pa = a, pb = b, ps = scratch)
                Run(pb, 1, n, pa, m, ps, m, n, m, k, false);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                    c[i * n + j] = accumulate ? c[i * n + j] + scratch[j * m + i] : scratch[j * m + i];
            return;
        }
        if (k >= 2 * KSplit && (long)m * n <= 1 << 20)
        {
            // Long reduction, small output (weight gradients over B·L rows): fixed chunks of k summed
            // separately, then added in chunk order. The split is fixed by k alone, not by the thread count.
            int chunks = (k + KSplit - 1) / KSplit;
            var partial = Scratch<T>.Get(chunks * m * n);
            fixed (T* pa = a, pb = b, pp = partial)
            {
                var job = SplitJob<T>.Current;
                job.Set(pa, pb, pp, m, n, k);
                WorkerPool.Shared.For(chunks, 1, job.Body);
            }
            var cm = c[..(m * n)];
            if (!accumulate) partial[..(m * n)].CopyTo(cm);
            else AddInPlace(cm, partial[..(m * n)]);
            for (int ch = 1; ch < chunks; ch++) AddInPlace(cm, partial.Slice(ch * m * n, m * n));
            return;
        }
        fixed (T* pa = a, pb = b, pc = c)
            Run(pa, 1, m, pb, n, pc, n, m, n, k, accumulate);
    }

    private const int KSplit = 2048;

    private static void AddInPlace<T>(Span<T> dst, ReadOnlySpan<T> src) where T : unmanaged, INumber<T>
    {
        for (int i = 0; i < dst.Length; i++) dst[i] += src[i];
    }

    private sealed class SplitJob<T> where T : unmanaged, INumber<T>
    {
        [ThreadStatic] private static SplitJob<T>? _current;
        public static SplitJob<T> Current => _current ??= new SplitJob<T>();
        private T* _a, _b, _partial;
        private int _m, _n, _k;
        public readonly Action<int, int> Body;
        private SplitJob() { Body = Execute; }
        public void Set(T* a, T* b, T* partial, int m, int n, int k) { _a = a; _b = b; _partial = partial; _m = m; _n = n; _k = k; }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Execute(int ch0, int ch1)
        {
            for (int ch = ch0; ch < ch1; ch++)
            {
                int p0 = ch * KSplit, kc = Math.Min(KSplit, _k - p0);
                T* a = _a + (nint)p0 * _m, b = _b + (nint)p0 * _n, dst = _partial + (nint)ch * _m * _n;
                if (SimdInfo.Use512<T>()) Blocked<Simd512<T>, Vector512<T>, T>(a, 1, _m, b, _n, dst, _n, 0, _m, _n, kc, false);
                else if (SimdInfo.Use256<T>()) Blocked<Simd256<T>, Vector256<T>, T>(a, 1, _m, b, _n, dst, _n, 0, _m, _n, kc, false);
                else ScalarBlock(a, 1, _m, b, _n, dst, _n, 0, _m, 0, _n, kc, false);
            }
        }
    }

    /// <summary>c[i,j] (+)= Σ_p a[i,p]·b[j,p]. a [m,k], b [n,k], c [m,n].</summary>
    public static void NT<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int m, int n, int k, bool accumulate)
        where T : unmanaged, INumber<T> => NT(a, b, default, c, m, n, k, accumulate);

    /// <summary>
    /// c[i,j] = bias[j] + Σ_p a[i,p]·b[j,p] (or c[i,j] += ... with accumulate, bias ignored then; empty bias = 0):
    /// the Linear forward y = x Wᵀ + b in one pass. a [m,k], b [n,k], bias [n], c [m,n].
    /// </summary>
    public static void NT<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, ReadOnlySpan<T> bias, Span<T> c, int m, int n, int k, bool accumulate)
        where T : unmanaged, INumber<T>
    {
        Check(a, b, c, m, n, k, m * k, n * k);
        if (!bias.IsEmpty && bias.Length < n) throw new ArgumentException($"bias holds {bias.Length} values, needs n = {n}", nameof(bias));
        if (m == 0 || n == 0) return;
        bool useBias = !bias.IsEmpty && !accumulate;
        if (k == 0)
        {
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) c[i * n + j] = (accumulate ? c[i * n + j] : T.Zero) + (useBias ? bias[j] : T.Zero);
            return;
        }
        int w = VectorWidth<T>();
        if (n < w)
        {
            // Few output columns: one dot product along k per element (a and b rows are contiguous).
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    T s = Dot(a.Slice(i * k, k), b.Slice(j * k, k)) + (useBias ? bias[j] : T.Zero);
                    c[i * n + j] = accumulate ? c[i * n + j] + s : s;
                }
            return;
        }
        // Pack bᵀ once ([k, n], contiguous along n) and run the NN kernel.
        var packed = Scratch<T>.Get(k * n);
        for (int j = 0; j < n; j++)
            for (int p = 0; p < k; p++)
                packed[p * n + j] = b[j * k + p];
        fixed (T* pa = a, pb = packed, pc = c, pbias = bias)
            Run(pa, k, 1, pb, n, pc, n, m, n, k, accumulate, useBias ? pbias : null);
    }

    /// <summary>Reference for the NN product: the plain triple loop.</summary>
    public static void NNReference<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int m, int n, int k, bool accumulate) where T : INumber<T>
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                T s = T.Zero;
                for (int p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
                c[i * n + j] = accumulate ? c[i * n + j] + s : s;
            }
    }

    /// <summary>Reference for <see cref="TN{T}"/>.</summary>
    public static void TNReference<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int m, int n, int k, bool accumulate) where T : INumber<T>
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                T s = T.Zero;
                for (int p = 0; p < k; p++) s += a[p * m + i] * b[p * n + j];
                c[i * n + j] = accumulate ? c[i * n + j] + s : s;
            }
    }

    /// <summary>Reference for the NT product (no bias).</summary>
    public static void NTReference<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int m, int n, int k, bool accumulate) where T : INumber<T>
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                T s = T.Zero;
                for (int p = 0; p < k; p++) s += a[i * k + p] * b[j * k + p];
                c[i * n + j] = accumulate ? c[i * n + j] + s : s;
            }
    }

    /// <summary>Σ a[p]·b[p], vectorised; a fixed summation order for a given length.</summary>
    public static T Dot<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b) where T : unmanaged, INumber<T>
    {
        if (a.Length != b.Length) throw new ArgumentException($"lengths differ: a has {a.Length}, b has {b.Length}", nameof(b));
        fixed (T* pa = a, pb = b)
        {
            if (SimdInfo.Use512<T>()) return DotSimd<Simd512<T>, Vector512<T>, T>(pa, pb, a.Length);
            if (SimdInfo.Use256<T>()) return DotSimd<Simd256<T>, Vector256<T>, T>(pa, pb, a.Length);
            T s = T.Zero;
            for (int p = 0; p < a.Length; p++) s += pa[p] * pb[p];
            return s;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static T DotSimd<TS, TV, T>(T* a, T* b, int len)
        where TS : struct, ISimdVector<TS, TV, T> where TV : struct where T : unmanaged, INumber<T>
    {
        int w = TS.Count, p = 0;
        TV acc0 = TS.Zero, acc1 = TS.Zero;
        for (; p + 2 * w <= len; p += 2 * w)
        {
            acc0 = TS.Fma(TS.Load(a + p), TS.Load(b + p), acc0);
            acc1 = TS.Fma(TS.Load(a + p + w), TS.Load(b + p + w), acc1);
        }
        for (; p + w <= len; p += w) acc0 = TS.Fma(TS.Load(a + p), TS.Load(b + p), acc0);
        T s = TS.Sum(TS.Add(acc0, acc1));
        for (; p < len; p++) s += a[p] * b[p];
        return s;
    }

    internal static int VectorWidth<T>() where T : unmanaged =>
        SimdInfo.Use512<T>() ? Vector512<T>.Count : SimdInfo.Use256<T>() ? Vector256<T>.Count : int.MaxValue;

    private static void Check<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int m, int n, int k, long needA, long needB)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentException($"sizes must be non-negative, got m={m}, n={n}, k={k}");
        if (a.Length < needA) throw new ArgumentException($"a holds {a.Length} values, the product needs {needA} (m={m}, n={n}, k={k})", nameof(a));
        if (b.Length < needB) throw new ArgumentException($"b holds {b.Length} values, the product needs {needB} (m={m}, n={n}, k={k})", nameof(b));
        if (c.Length < (long)m * n) throw new ArgumentException($"c holds {c.Length} values, the product needs {(long)m * n} (m={m}, n={n})", nameof(c));
    }

    /// <summary>
    /// c(i,j) (+)= Σ_p a(i,p)·b(p,j) with a(i, p) = a[i·rsA + p·csA], b(p, j) = b[p·ldb + j], c(i, j) = c[i·ldc + j],
    /// on the calling thread only: the Monarch kernels run their block products (strided slices of wider rows)
    /// through it from inside their own parallel loops. No checks.
    /// </summary>
    internal static void RunSerial<T>(T* a, nint rsA, nint csA, T* b, nint ldb, T* c, nint ldc, int m, int n, int k, bool accumulate)
        where T : unmanaged, INumber<T>
    {
        var job = Job<T>.Current;
        job.Set(a, rsA, csA, b, ldb, c, ldc, m, n, k, accumulate, null);
        job.Body(0, (m + MR - 1) / MR);
    }

    // a(i, p) = a[i·rsA + p·csA]; b(p, j) = b[p·ldb + j]; c(i, j) = c[i·ldc + j].
    private static void Run<T>(T* a, nint rsA, nint csA, T* b, nint ldb, T* c, nint ldc, int m, int n, int k, bool accumulate, T* bias = null)
        where T : unmanaged, INumber<T>
    {
        var job = Job<T>.Current;
        job.Set(a, rsA, csA, b, ldb, c, ldc, m, n, k, accumulate, bias);
        int tiles = (m + MR - 1) / MR;
        long perTile = (long)MR * n * k;
        int minTiles = (int)Math.Max(1, 40_000 / Math.Max(1, perTile));
        WorkerPool.Shared.For(tiles, minTiles, job.Body);
    }

    private sealed class Job<T> where T : unmanaged, INumber<T>
    {
        [ThreadStatic] private static Job<T>? _current;
        public static Job<T> Current => _current ??= new Job<T>();

        private T* _a, _b, _c, _bias;
        private nint _rsA, _csA, _ldb, _ldc;
        private int _m, _n, _k;
        private bool _acc;
        public readonly Action<int, int> Body;

        private Job() { Body = Execute; }

        public void Set(T* a, nint rsA, nint csA, T* b, nint ldb, T* c, nint ldc, int m, int n, int k, bool acc, T* bias)
        {
            _a = a; _rsA = rsA; _csA = csA; _b = b; _ldb = ldb; _c = c; _ldc = ldc; _m = m; _n = n; _k = k; _acc = acc; _bias = bias;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Execute(int tile0, int tile1)
        {
            int i0 = tile0 * MR, i1 = Math.Min(_m, tile1 * MR);
            if (SimdInfo.Use512<T>()) Blocked<Simd512<T>, Vector512<T>, T>(_a, _rsA, _csA, _b, _ldb, _c, _ldc, i0, i1, _n, _k, _acc, _bias);
            else if (SimdInfo.Use256<T>()) Blocked<Simd256<T>, Vector256<T>, T>(_a, _rsA, _csA, _b, _ldb, _c, _ldc, i0, i1, _n, _k, _acc, _bias);
            else ScalarBlock(_a, _rsA, _csA, _b, _ldb, _c, _ldc, i0, i1, 0, _n, _k, _acc, _bias);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Blocked<TS, TV, T>(T* a, nint rsA, nint csA, T* b, nint ldb, T* c, nint ldc,
        int i0, int i1, int n, int k, bool accumulate, T* bias = null)
        where TS : struct, ISimdVector<TS, TV, T> where TV : struct where T : unmanaged, INumber<T>
    {
        int w = TS.Count;
        int tileCols = NRV * w;
        int fullTileCols = n / tileCols * tileCols;
        int vecCols = n / w * w;
        if (fullTileCols > NC && (long)k * n * sizeof(T) > LargeB)
        {
            // Large b (more than 8 MB, so it comes from memory): NC columns at a time, k blocks outside the row
            // blocks, so a [KC, NC] block of b (512 KB of doubles) stays in L2 while every row block of this worker
            // passes, instead of streaming a [KC, n] panel of b from memory once per 24 rows (1024 x 4096 x 4096:
            // 47 -> 58 GFLOP/s; a weight gradient over 21504 rows into 256 x 1024: 40 -> 54). A smaller b stays
            // in L3, where the row-block order measured as fast or faster (21504 x 768 x 256). Each c element still
            // sums its k blocks in increasing order: the results are the same.
            for (int jc = 0; jc < n; jc += NC)
            {
                int jEnd = jc + NC >= fullTileCols ? n : jc + NC;    // the last chunk takes the edge columns too
                for (int p0 = 0; p0 < k; p0 += KC)
                    for (int ic = i0; ic < i1; ic += MC)
                        BlockedPanel<TS, TV, T>(a, rsA, csA, b, ldb, c, ldc, ic, Math.Min(i1, ic + MC), jc, jEnd, p0, k, accumulate, bias);
                if (jEnd == n) break;
            }
            return;
        }
        for (int ic = i0; ic < i1; ic += MC)
        {
            int icEnd = Math.Min(i1, ic + MC);
            for (int p0 = 0; p0 < k; p0 += KC)
            {
                int kc = Math.Min(KC, k - p0);
                bool load = accumulate || p0 > 0;
                T* bi = load ? null : bias;        // the first k block starts from the bias row instead of zero
                T* ak = a + p0 * csA;
                T* bk = b + p0 * ldb;
                // a is read in place, transposed or not: copying tiles of a into a packed panel measured
                // 2x slower for the weight-gradient shapes (k = B·L rows) than reading rows of a directly.
                for (int j = 0; j < fullTileCols; j += tileCols)
                    for (int i = ic; i + MR <= icEnd; i += MR)
                        Tile6x4<TS, TV, T>(ak + i * rsA, rsA, csA, bk + j, ldb, c + i * ldc + j, ldc, kc, load, bi == null ? null : bi + j);
                int iEdge = ic + (icEnd - ic) / MR * MR;
                if (iEdge < icEnd)
                    for (int j = 0; j < fullTileCols; j += tileCols)
                        TileEdge<TS, TV, T>(icEnd - iEdge, ak + iEdge * rsA, rsA, csA, bk + j, ldb, c + iEdge * ldc + j, ldc, kc, load,
                            bi == null ? null : bi + j);
                if (vecCols > fullTileCols)
                    for (int i = ic; i < icEnd; i++)
                        Tile1xV<TS, TV, T>(ak + i * rsA, csA, bk + fullTileCols, ldb, c + i * ldc + fullTileCols, kc, (vecCols - fullTileCols) / w, load,
                            bi == null ? null : bi + fullTileCols);
                if (n > vecCols)
                    ScalarBlock(ak, rsA, csA, bk, ldb, c, ldc, ic, icEnd, vecCols, n, kc, load, bi);
            }
        }
    }

    // Columns [j0, j1) of rows [ic, icEnd) for the k block starting at p0: full 6x4 tiles, edge rows, then (when the
    // range reaches them) the vector and scalar edge columns.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BlockedPanel<TS, TV, T>(T* a, nint rsA, nint csA, T* b, nint ldb, T* c, nint ldc,
        int ic, int icEnd, int j0, int j1, int p0, int k, bool accumulate, T* bias)
        where TS : struct, ISimdVector<TS, TV, T> where TV : struct where T : unmanaged, INumber<T>
    {
        int w = TS.Count;
        int tileCols = NRV * w;
        int fullEnd = Math.Min(j1, j1 / tileCols * tileCols);
        int vecEnd = j1 / w * w;
        int kc = Math.Min(KC, k - p0);
        bool load = accumulate || p0 > 0;
        T* bi = load ? null : bias;
        T* ak = a + p0 * csA;
        T* bk = b + p0 * ldb;
        for (int j = j0; j < fullEnd; j += tileCols)
            for (int i = ic; i + MR <= icEnd; i += MR)
                Tile6x4<TS, TV, T>(ak + i * rsA, rsA, csA, bk + j, ldb, c + i * ldc + j, ldc, kc, load, bi == null ? null : bi + j);
        int iEdge = ic + (icEnd - ic) / MR * MR;
        if (iEdge < icEnd)
            for (int j = j0; j < fullEnd; j += tileCols)
                TileEdge<TS, TV, T>(icEnd - iEdge, ak + iEdge * rsA, rsA, csA, bk + j, ldb, c + iEdge * ldc + j, ldc, kc, load,
                    bi == null ? null : bi + j);
        if (vecEnd > fullEnd)
            for (int i = ic; i < icEnd; i++)
                Tile1xV<TS, TV, T>(ak + i * rsA, csA, bk + fullEnd, ldb, c + i * ldc + fullEnd, kc, (vecEnd - fullEnd) / w, load,
                    bi == null ? null : bi + fullEnd);
        if (j1 > vecEnd)
            ScalarBlock(ak, rsA, csA, bk, ldb, c, ldc, ic, icEnd, vecEnd, j1, kc, load, bi);
    }

    // Row counts of a register tile as types, so one kernel body serves 6, 4, 2 and 1 rows and the JIT drops the
    // rows a tile does not have.
    private interface IRows { static abstract int Count { get; } }
    private struct Rows6 : IRows { public static int Count => 6; }
    private struct Rows4 : IRows { public static int Count => 4; }
    private struct Rows2 : IRows { public static int Count => 2; }
    private struct Rows1 : IRows { public static int Count => 1; }

    private static void Tile6x4<TS, TV, T>(T* a, nint rsA, nint csA, T* b, nint ldb, T* c, nint ldc, int kc, bool load, T* bias = null)
        where TS : struct, ISimdVector<TS, TV, T> where TV : struct where T : unmanaged, INumber<T>
        => TileRx4<TS, TV, T, Rows6>(a, rsA, csA, b, ldb, c, ldc, kc, load, bias);

    // Fewer than MR rows: 4-, 2- and 1-row tiles cover any remainder without copies.
    private static void TileEdge<TS, TV, T>(int rows, T* a, nint rsA, nint csA, T* b, nint ldb, T* c, nint ldc, int kc, bool load, T* bias)
        where TS : struct, ISimdVector<TS, TV, T> where TV : struct where T : unmanaged, INumber<T>
    {
        while (rows > 0)
        {
            int r = rows >= 4 ? 4 : rows >= 2 ? 2 : 1;
            if (r == 4) TileRx4<TS, TV, T, Rows4>(a, rsA, csA, b, ldb, c, ldc, kc, load, bias);
            else if (r == 2) TileRx4<TS, TV, T, Rows2>(a, rsA, csA, b, ldb, c, ldc, kc, load, bias);
            else TileRx4<TS, TV, T, Rows1>(a, rsA, csA, b, ldb, c, ldc, kc, load, bias);
            a += r * rsA; c += r * ldc; rows -= r;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileRx4<TS, TV, T, TR>(T* a, nint rsA, nint csA, T* b, nint ldb, T* c, nint ldc, int kc, bool load, T* bias)
        where TS : struct, ISimdVector<TS, TV, T> where TV : struct where T : unmanaged, INumber<T> where TR : struct, IRows
    {
        nint w = TS.Count;
        int R = TR.Count;
        TV c00 = TS.Zero, c01 = TS.Zero, c02 = TS.Zero, c03 = TS.Zero, c10 = TS.Zero, c11 = TS.Zero, c12 = TS.Zero, c13 = TS.Zero;
        TV c20 = TS.Zero, c21 = TS.Zero, c22 = TS.Zero, c23 = TS.Zero, c30 = TS.Zero, c31 = TS.Zero, c32 = TS.Zero, c33 = TS.Zero;
        TV c40 = TS.Zero, c41 = TS.Zero, c42 = TS.Zero, c43 = TS.Zero, c50 = TS.Zero, c51 = TS.Zero, c52 = TS.Zero, c53 = TS.Zero;
        if (load)
        {
            T* r = c;
            c00 = TS.Load(r); c01 = TS.Load(r + w); c02 = TS.Load(r + 2 * w); c03 = TS.Load(r + 3 * w); r += ldc;
            if (R > 1) { c10 = TS.Load(r); c11 = TS.Load(r + w); c12 = TS.Load(r + 2 * w); c13 = TS.Load(r + 3 * w); r += ldc; }
            if (R > 2) { c20 = TS.Load(r); c21 = TS.Load(r + w); c22 = TS.Load(r + 2 * w); c23 = TS.Load(r + 3 * w); r += ldc; }
            if (R > 3) { c30 = TS.Load(r); c31 = TS.Load(r + w); c32 = TS.Load(r + 2 * w); c33 = TS.Load(r + 3 * w); r += ldc; }
            if (R > 4) { c40 = TS.Load(r); c41 = TS.Load(r + w); c42 = TS.Load(r + 2 * w); c43 = TS.Load(r + 3 * w); r += ldc; }
            if (R > 5) { c50 = TS.Load(r); c51 = TS.Load(r + w); c52 = TS.Load(r + 2 * w); c53 = TS.Load(r + 3 * w); }
        }
        else if (bias != null)
        {
            c00 = c10 = c20 = c30 = c40 = c50 = TS.Load(bias);
            c01 = c11 = c21 = c31 = c41 = c51 = TS.Load(bias + w);
            c02 = c12 = c22 = c32 = c42 = c52 = TS.Load(bias + 2 * w);
            c03 = c13 = c23 = c33 = c43 = c53 = TS.Load(bias + 3 * w);
        }
        T* a0 = a, a1 = a + rsA, a2 = a + 2 * rsA, a3 = a + 3 * rsA, a4 = a + 4 * rsA, a5 = a + 5 * rsA;
        for (int p = 0; p < kc; p++)
        {
            T* bp = b + p * ldb;
            TV b0 = TS.Load(bp), b1 = TS.Load(bp + w), b2 = TS.Load(bp + 2 * w), b3 = TS.Load(bp + 3 * w);
            nint off = p * csA;
            TV x = TS.Broadcast(a0[off]);
            c00 = TS.Fma(x, b0, c00); c01 = TS.Fma(x, b1, c01); c02 = TS.Fma(x, b2, c02); c03 = TS.Fma(x, b3, c03);
            if (R > 1)
            {
                x = TS.Broadcast(a1[off]);
                c10 = TS.Fma(x, b0, c10); c11 = TS.Fma(x, b1, c11); c12 = TS.Fma(x, b2, c12); c13 = TS.Fma(x, b3, c13);
            }
            if (R > 2)
            {
                x = TS.Broadcast(a2[off]);
                c20 = TS.Fma(x, b0, c20); c21 = TS.Fma(x, b1, c21); c22 = TS.Fma(x, b2, c22); c23 = TS.Fma(x, b3, c23);
            }
            if (R > 3)
            {
                x = TS.Broadcast(a3[off]);
                c30 = TS.Fma(x, b0, c30); c31 = TS.Fma(x, b1, c31); c32 = TS.Fma(x, b2, c32); c33 = TS.Fma(x, b3, c33);
            }
            if (R > 4)
            {
                x = TS.Broadcast(a4[off]);
                c40 = TS.Fma(x, b0, c40); c41 = TS.Fma(x, b1, c41); c42 = TS.Fma(x, b2, c42); c43 = TS.Fma(x, b3, c43);
            }
            if (R > 5)
            {
                x = TS.Broadcast(a5[off]);
                c50 = TS.Fma(x, b0, c50); c51 = TS.Fma(x, b1, c51); c52 = TS.Fma(x, b2, c52); c53 = TS.Fma(x, b3, c53);
            }
        }
        T* o = c;
        TS.Store(c00, o); TS.Store(c01, o + w); TS.Store(c02, o + 2 * w); TS.Store(c03, o + 3 * w); o += ldc;
        if (R > 1) { TS.Store(c10, o); TS.Store(c11, o + w); TS.Store(c12, o + 2 * w); TS.Store(c13, o + 3 * w); o += ldc; }
        if (R > 2) { TS.Store(c20, o); TS.Store(c21, o + w); TS.Store(c22, o + 2 * w); TS.Store(c23, o + 3 * w); o += ldc; }
        if (R > 3) { TS.Store(c30, o); TS.Store(c31, o + w); TS.Store(c32, o + 2 * w); TS.Store(c33, o + 3 * w); o += ldc; }
        if (R > 4) { TS.Store(c40, o); TS.Store(c41, o + w); TS.Store(c42, o + 2 * w); TS.Store(c43, o + 3 * w); o += ldc; }
        if (R > 5) { TS.Store(c50, o); TS.Store(c51, o + w); TS.Store(c52, o + 2 * w); TS.Store(c53, o + 3 * w); }
    }

    // One row by up to 4 vectors: the row and column edges of the tile grid.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile1xV<TS, TV, T>(T* a, nint csA, T* b, nint ldb, T* c, int kc, int vectors, bool load, T* bias = null)
        where TS : struct, ISimdVector<TS, TV, T> where TV : struct where T : unmanaged, INumber<T>
    {
        nint w = TS.Count;
        for (int v0 = 0; v0 < vectors; v0 += 4)
        {
            int nv = Math.Min(4, vectors - v0);
            T* cv = c + v0 * w, bv = b + v0 * w;
            T* init = load ? cv : bias != null ? bias + v0 * w : null;
            TV c0 = init != null ? TS.Load(init) : TS.Zero;
            TV c1 = init != null && nv > 1 ? TS.Load(init + w) : TS.Zero;
            TV c2 = init != null && nv > 2 ? TS.Load(init + 2 * w) : TS.Zero;
            TV c3 = init != null && nv > 3 ? TS.Load(init + 3 * w) : TS.Zero;
            for (int p = 0; p < kc; p++)
            {
                T* bp = bv + p * ldb;
                TV x = TS.Broadcast(a[p * csA]);
                c0 = TS.Fma(x, TS.Load(bp), c0);
                if (nv > 1) c1 = TS.Fma(x, TS.Load(bp + w), c1);
                if (nv > 2) c2 = TS.Fma(x, TS.Load(bp + 2 * w), c2);
                if (nv > 3) c3 = TS.Fma(x, TS.Load(bp + 3 * w), c3);
            }
            TS.Store(c0, cv);
            if (nv > 1) TS.Store(c1, cv + w);
            if (nv > 2) TS.Store(c2, cv + 2 * w);
            if (nv > 3) TS.Store(c3, cv + 3 * w);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScalarBlock<T>(T* a, nint rsA, nint csA, T* b, nint ldb, T* c, nint ldc,
        int i0, int i1, int j0, int j1, int k, bool load, T* bias = null) where T : unmanaged, INumber<T>
    {
        for (int i = i0; i < i1; i++)
            for (int j = j0; j < j1; j++)
            {
                T s = load ? c[i * ldc + j] : bias != null ? bias[j] : T.Zero;
                for (int p = 0; p < k; p++) s += a[i * rsA + p * csA] * b[p * ldb + j];
                c[i * ldc + j] = s;
            }
    }
}

/// <summary>
/// Per-thread scratch arrays that grow and are then reused: no allocation in steady state. Slots keep
/// buffers that are alive at the same time apart (slot 0: GEMM packing and partial sums, slot 1: a
/// kernel's per-worker tile, slot 2: a kernel's cross-worker partial sums).
/// </summary>
internal static class Scratch<T>
{
    [ThreadStatic] private static T[]?[]? _buffers;

    /// <summary>A span of at least <paramref name="length"/> elements (contents undefined).</summary>
    public static Span<T> Get(int length, int slot = 0)
    {
        var buffers = _buffers ??= new T[]?[6];
        ref var buffer = ref buffers[slot];
        if (buffer is null || buffer.Length < length) buffer = new T[Math.Max(length, 1024)];
        return buffer.AsSpan(0, length);
    }
}

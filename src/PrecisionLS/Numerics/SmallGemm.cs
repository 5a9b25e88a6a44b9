using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace PrecisionLS.Numerics;

/// <summary>Work a <see cref="SmallGemm"/> product may skip because the caller knows it is zero or unused.</summary>
public enum TriangleSkip
{
    /// <summary>Every p and every column.</summary>
    None,
    /// <summary>Row i sums only p ≤ i: the caller guarantees a(i, p) = 0 for p &gt; i (A v with a causal A).</summary>
    KUpToRow,
    /// <summary>Row i sums only p ≥ i: the caller guarantees a(i, p) = 0 for p &lt; i (Aᵀ dO with a causal A).</summary>
    KFromRow,
    /// <summary>Only columns j ≤ i are wanted: c(i, j) for j &gt; i is left unspecified (q kᵀ under a causal mask).</summary>
    NUpToRow,
}

/// <summary>
/// Single-threaded products of small strided matrices, the per-head products of attention (L ≤ ~50 tokens,
/// head size 4..128): <c>c(i,j) (+)= Σ_p a(i,p)·b(p,j)</c> with
/// <c>a(i,p) = a[i·rsA + p·csA]</c>, <c>b(p,j) = b[p·ldb + j]</c>, <c>c(i,j) = c[i·ldc + j]</c>, so a may be read
/// transposed and every operand may be a column slice of a wider row (one head of [q | k | v]).
/// </summary>
/// <remarks>
/// A register tile of up to 4 rows by 4 vectors along j, accumulating over p in increasing order with FMA;
/// columns are covered by 512-bit vectors, then 256-bit, then scalars (so a head size of 4 still vectorises).
/// Skipping (<see cref="TriangleSkip"/>) works per row tile, so a tile may also add products the caller
/// guarantees to be exact zeros: results equal the full product bit for bit. No threading and no allocation:
/// <see cref="Gemm"/> is the kernel for the large (B·L)×d products. <see cref="Reference{T}"/> is the plain loop.
/// </remarks>
public static unsafe class SmallGemm
{
    /// <summary>
    /// c(i,j) (+)= Σ_p a(i,p)·b(p,j) for i &lt; m, j &lt; n, p &lt; k (strided views, see the class summary);
    /// accumulate = false overwrites c. c must not overlap a or b.
    /// </summary>
    public static void Product<T>(ReadOnlySpan<T> a, int rsA, int csA, ReadOnlySpan<T> b, int ldb, Span<T> c, int ldc,
        int m, int n, int k, bool accumulate, TriangleSkip skip = TriangleSkip.None) where T : unmanaged, INumber<T>
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentException($"sizes must be non-negative, got m={m}, n={n}, k={k}");
        if (m == 0 || n == 0) return;
        if (rsA < 0 || csA < 0 || ldb < 0 || ldc < n)
            throw new ArgumentException($"strides must be non-negative and ldc ≥ n: rsA={rsA}, csA={csA}, ldb={ldb}, ldc={ldc}, n={n}");
        long needA = k == 0 ? 0 : (long)(m - 1) * rsA + (long)(k - 1) * csA + 1;
        long needB = k == 0 ? 0 : (long)(k - 1) * ldb + n;
        long needC = (long)(m - 1) * ldc + n;
        if (a.Length < needA) throw new ArgumentException($"a holds {a.Length} values, the view needs {needA}", nameof(a));
        if (b.Length < needB) throw new ArgumentException($"b holds {b.Length} values, the view needs {needB}", nameof(b));
        if (c.Length < needC) throw new ArgumentException($"c holds {c.Length} values, the view needs {needC}", nameof(c));
        fixed (T* pa = a, pb = b, pc = c) Run(pa, rsA, csA, pb, ldb, pc, ldc, m, n, k, accumulate, skip);
    }

    /// <summary>Pointer form of <see cref="Product{T}"/> for callers that already hold fixed buffers (no checks).</summary>
    internal static void Run<T>(T* a, nint rsA, nint csA, T* b, nint ldb, T* c, nint ldc, int m, int n, int k, bool accumulate, TriangleSkip skip)
        where T : unmanaged, INumber<T>
    {
        int j = 0;
        if (SimdInfo.Use512<T>() && n >= Vector512<T>.Count)
        {
            int end = n / Vector512<T>.Count * Vector512<T>.Count;
            Columns<Simd512<T>, Vector512<T>, T>(a, rsA, csA, b, ldb, c, ldc, m, 0, end, k, accumulate, skip);
            j = end;
        }
        if ((typeof(T) == typeof(double) || typeof(T) == typeof(float)) && Vector256.IsHardwareAccelerated && n - j >= Vector256<T>.Count)
        {
            int end = j + (n - j) / Vector256<T>.Count * Vector256<T>.Count;
            Columns<Simd256<T>, Vector256<T>, T>(a, rsA, csA, b, ldb, c, ldc, m, j, end, k, accumulate, skip);
            j = end;
        }
        if (j < n) ScalarColumns(a, rsA, csA, b, ldb, c, ldc, m, j, n, k, accumulate, skip);
    }

    /// <summary>The plain loop, honouring <paramref name="skip"/> per row exactly (columns j &gt; i untouched for NUpToRow).</summary>
    public static void Reference<T>(ReadOnlySpan<T> a, int rsA, int csA, ReadOnlySpan<T> b, int ldb, Span<T> c, int ldc,
        int m, int n, int k, bool accumulate, TriangleSkip skip = TriangleSkip.None) where T : INumber<T>
    {
        for (int i = 0; i < m; i++)
        {
            int p0 = skip == TriangleSkip.KFromRow ? Math.Min(i, k) : 0;
            int p1 = skip == TriangleSkip.KUpToRow ? Math.Min(k, i + 1) : k;
            int j1 = skip == TriangleSkip.NUpToRow ? Math.Min(n, i + 1) : n;
            for (int j = 0; j < j1; j++)
            {
                T s = T.Zero;
                for (int p = p0; p < p1; p++) s += a[i * rsA + p * csA] * b[p * ldb + j];
                c[i * ldc + j] = accumulate ? c[i * ldc + j] + s : s;
            }
        }
    }

    // Columns [j0, j1) (a multiple of TS.Count wide), all rows, in tiles of up to 4 rows by 4 vectors.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Columns<TS, TV, T>(T* a, nint rsA, nint csA, T* b, nint ldb, T* c, nint ldc,
        int m, int j0, int j1, int k, bool accumulate, TriangleSkip skip)
        where TS : struct, ISimdVector<TS, TV, T> where TV : struct where T : unmanaged, INumber<T>
    {
        int w = TS.Count;
        for (int i = 0; i < m;)
        {
            int rows = m - i >= 4 ? 4 : m - i >= 2 ? 2 : 1;
            int p0 = 0, p1 = k, jEnd = j1;
            if (skip == TriangleSkip.KUpToRow) p1 = Math.Min(k, i + rows);           // the tile's last row needs p ≤ i + rows - 1
            else if (skip == TriangleSkip.KFromRow) p0 = Math.Min(k, i);             // its first row needs p ≥ i
            else if (skip == TriangleSkip.NUpToRow)
            {
                int need = i + rows - j0;                                            // columns j < i + rows
                jEnd = need <= 0 ? j0 : Math.Min(j1, j0 + (need + w - 1) / w * w);
            }
            T* ai = a + i * rsA;
            for (int j = j0; j < jEnd; j += 4 * w)
            {
                int nv = Math.Min(4, (jEnd - j) / w);
                T* bj = b + j, cij = c + i * ldc + j;
                switch (rows * 4 + nv)
                {
                    case 17: Tile<TS, TV, T, R4, V1>(ai, rsA, csA, bj, ldb, cij, ldc, p0, p1, accumulate); break;
                    case 18: Tile<TS, TV, T, R4, V2>(ai, rsA, csA, bj, ldb, cij, ldc, p0, p1, accumulate); break;
                    case 19: Tile<TS, TV, T, R4, V3>(ai, rsA, csA, bj, ldb, cij, ldc, p0, p1, accumulate); break;
                    case 20: Tile<TS, TV, T, R4, V4>(ai, rsA, csA, bj, ldb, cij, ldc, p0, p1, accumulate); break;
                    case 9: Tile<TS, TV, T, R2, V1>(ai, rsA, csA, bj, ldb, cij, ldc, p0, p1, accumulate); break;
                    case 10: Tile<TS, TV, T, R2, V2>(ai, rsA, csA, bj, ldb, cij, ldc, p0, p1, accumulate); break;
                    case 11: Tile<TS, TV, T, R2, V3>(ai, rsA, csA, bj, ldb, cij, ldc, p0, p1, accumulate); break;
                    case 12: Tile<TS, TV, T, R2, V4>(ai, rsA, csA, bj, ldb, cij, ldc, p0, p1, accumulate); break;
                    case 5: Tile<TS, TV, T, R1, V1>(ai, rsA, csA, bj, ldb, cij, ldc, p0, p1, accumulate); break;
                    case 6: Tile<TS, TV, T, R1, V2>(ai, rsA, csA, bj, ldb, cij, ldc, p0, p1, accumulate); break;
                    case 7: Tile<TS, TV, T, R1, V3>(ai, rsA, csA, bj, ldb, cij, ldc, p0, p1, accumulate); break;
                    default: Tile<TS, TV, T, R1, V4>(ai, rsA, csA, bj, ldb, cij, ldc, p0, p1, accumulate); break;
                }
            }
            i += rows;
        }
    }

    // Counts as types, so one tile body serves every rows × vectors shape and the JIT drops what a shape lacks.
    private interface ICount { static abstract int Value { get; } }
    private struct R4 : ICount { public static int Value => 4; }
    private struct R2 : ICount { public static int Value => 2; }
    private struct R1 : ICount { public static int Value => 1; }
    private struct V4 : ICount { public static int Value => 4; }
    private struct V3 : ICount { public static int Value => 3; }
    private struct V2 : ICount { public static int Value => 2; }
    private struct V1 : ICount { public static int Value => 1; }

    // c[r, v] (+)= Σ_{p0 ≤ p < p1} a(r, p)·b(p, v·w ..) for r < TR rows and v < TN vectors.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile<TS, TV, T, TR, TN>(T* a, nint rsA, nint csA, T* b, nint ldb, T* c, nint ldc, int p0, int p1, bool load)
        where TS : struct, ISimdVector<TS, TV, T> where TV : struct where T : unmanaged, INumber<T>
        where TR : struct, ICount where TN : struct, ICount
    {
        nint w = TS.Count;
        int R = TR.Value, N = TN.Value;
        TV c00 = TS.Zero, c01 = TS.Zero, c02 = TS.Zero, c03 = TS.Zero, c10 = TS.Zero, c11 = TS.Zero, c12 = TS.Zero, c13 = TS.Zero;
        TV c20 = TS.Zero, c21 = TS.Zero, c22 = TS.Zero, c23 = TS.Zero, c30 = TS.Zero, c31 = TS.Zero, c32 = TS.Zero, c33 = TS.Zero;
        if (load)
        {
            T* r = c;
            c00 = TS.Load(r); if (N > 1) c01 = TS.Load(r + w); if (N > 2) c02 = TS.Load(r + 2 * w); if (N > 3) c03 = TS.Load(r + 3 * w);
            if (R > 1) { r += ldc; c10 = TS.Load(r); if (N > 1) c11 = TS.Load(r + w); if (N > 2) c12 = TS.Load(r + 2 * w); if (N > 3) c13 = TS.Load(r + 3 * w); }
            if (R > 2) { r += ldc; c20 = TS.Load(r); if (N > 1) c21 = TS.Load(r + w); if (N > 2) c22 = TS.Load(r + 2 * w); if (N > 3) c23 = TS.Load(r + 3 * w); }
            if (R > 3) { r += ldc; c30 = TS.Load(r); if (N > 1) c31 = TS.Load(r + w); if (N > 2) c32 = TS.Load(r + 2 * w); if (N > 3) c33 = TS.Load(r + 3 * w); }
        }
        T* a0 = a, a1 = a + rsA, a2 = a + 2 * rsA, a3 = a + 3 * rsA;
        for (int p = p0; p < p1; p++)
        {
            T* bp = b + p * ldb;
            TV b0 = TS.Load(bp);
            TV b1 = N > 1 ? TS.Load(bp + w) : TS.Zero;
            TV b2 = N > 2 ? TS.Load(bp + 2 * w) : TS.Zero;
            TV b3 = N > 3 ? TS.Load(bp + 3 * w) : TS.Zero;
            nint off = p * csA;
            TV x = TS.Broadcast(a0[off]);
            c00 = TS.Fma(x, b0, c00); if (N > 1) c01 = TS.Fma(x, b1, c01); if (N > 2) c02 = TS.Fma(x, b2, c02); if (N > 3) c03 = TS.Fma(x, b3, c03);
            if (R > 1)
            {
                x = TS.Broadcast(a1[off]);
                c10 = TS.Fma(x, b0, c10); if (N > 1) c11 = TS.Fma(x, b1, c11); if (N > 2) c12 = TS.Fma(x, b2, c12); if (N > 3) c13 = TS.Fma(x, b3, c13);
            }
            if (R > 2)
            {
                x = TS.Broadcast(a2[off]);
                c20 = TS.Fma(x, b0, c20); if (N > 1) c21 = TS.Fma(x, b1, c21); if (N > 2) c22 = TS.Fma(x, b2, c22); if (N > 3) c23 = TS.Fma(x, b3, c23);
            }
            if (R > 3)
            {
                x = TS.Broadcast(a3[off]);
                c30 = TS.Fma(x, b0, c30); if (N > 1) c31 = TS.Fma(x, b1, c31); if (N > 2) c32 = TS.Fma(x, b2, c32); if (N > 3) c33 = TS.Fma(x, b3, c33);
            }
        }
        T* o = c;
        TS.Store(c00, o); if (N > 1) TS.Store(c01, o + w); if (N > 2) TS.Store(c02, o + 2 * w); if (N > 3) TS.Store(c03, o + 3 * w);
        if (R > 1) { o += ldc; TS.Store(c10, o); if (N > 1) TS.Store(c11, o + w); if (N > 2) TS.Store(c12, o + 2 * w); if (N > 3) TS.Store(c13, o + 3 * w); }
        if (R > 2) { o += ldc; TS.Store(c20, o); if (N > 1) TS.Store(c21, o + w); if (N > 2) TS.Store(c22, o + 2 * w); if (N > 3) TS.Store(c23, o + 3 * w); }
        if (R > 3) { o += ldc; TS.Store(c30, o); if (N > 1) TS.Store(c31, o + w); if (N > 2) TS.Store(c32, o + 2 * w); if (N > 3) TS.Store(c33, o + 3 * w); }
    }

    // Columns [j0, j1) one element at a time (head sizes that are not a multiple of a vector, other element types).
    private static void ScalarColumns<T>(T* a, nint rsA, nint csA, T* b, nint ldb, T* c, nint ldc,
        int m, int j0, int j1, int k, bool accumulate, TriangleSkip skip) where T : unmanaged, INumber<T>
    {
        for (int i = 0; i < m; i++)
        {
            int p0 = skip == TriangleSkip.KFromRow ? Math.Min(i, k) : 0;
            int p1 = skip == TriangleSkip.KUpToRow ? Math.Min(k, i + 1) : k;
            int jEnd = skip == TriangleSkip.NUpToRow ? Math.Min(j1, i + 1) : j1;
            for (int j = j0; j < jEnd; j++)
            {
                T s = accumulate ? c[i * ldc + j] : T.Zero;
                for (int p = p0; p < p1; p++) s += a[i * rsA + p * csA] * b[p * ldb + j];
                c[i * ldc + j] = s;
            }
        }
    }
}

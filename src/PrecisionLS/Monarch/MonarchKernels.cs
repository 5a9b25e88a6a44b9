using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using PrecisionLS.Numerics;

namespace PrecisionLS.Monarch;

/// <summary>
/// The Monarch multiply's second-factor kernels, vectorised along the block index j so that the permutations
/// P_mid and P_out cost nothing: with the intermediate h viewed (r, l) and the output viewed (s, l), element
/// (c, j) of a row sits at c·l + j, so for a fixed c the values of consecutive blocks j are contiguous.
/// <list type="bullet">
/// <item><see cref="Product{T}"/>: out[b, a·l + j] (+)= Σ_c wt(a, c, j)·in[b, c·l + j] (the second factor forward,
/// and its transpose in backward).</item>
/// <item><see cref="Reduce{T}"/>: dwt(a, c, j) += Σ_b g[b, a·l + j]·h[b, c·l + j] (the second factor's gradient).</item>
/// </list>
/// wt(a, c, j) = w[j·strideJ + a·strideA + c·strideC] reads any transposition of a (l, ·, ·) weight in place.
/// </summary>
/// <remarks>
/// A register tile holds 4 rows × 6 values of a (Product) or 6 × 4 (a, c) pairs (Reduce), each one vector of
/// consecutive j: per step 10 vector loads feed 24 FMAs, the ratio of the dense GEMM's 6×4 tile, and every load
/// and store is a contiguous vector. Blocks j beyond the last full vector run through a scalar loop. Sums over c
/// (Product) and over rows (Reduce) run in increasing order, so results do not depend on how rows are split.
/// </remarks>
internal static unsafe class MonarchKernels
{
    /// <summary>The SIMD width (elements) the kernels use for l blocks: the widest vector no wider than l, else 1.</summary>
    public static int VectorWidth<T>(int l) where T : unmanaged
    {
        if (SimdInfo.Use512<T>() && Vector512<T>.Count <= l) return Vector512<T>.Count;
        if ((typeof(T) == typeof(double) || typeof(T) == typeof(float)) && Vector256.IsHardwareAccelerated && Vector256<T>.Count <= l)
            return Vector256<T>.Count;
        return 1;
    }

    /// <summary>Values <see cref="Pack{T}"/> writes: (l / w)·w·a·c.</summary>
    public static long PackedLength(int l, int aCount, int cCount, int w) => w <= 1 ? 0 : (long)(l / w) * w * aCount * cCount;

    /// <summary>
    /// Packs wt for <see cref="Product{T}"/>, for the full vector groups g &lt; l / w: group g, then the a tiles
    /// (<see cref="TileSize"/>: 6, 6, ..., then 4, 2, 1), each tile [c, its a values, lane] = wt(a, c, g·w + lane).
    /// A tile's weights are then one contiguous run: rows of consecutive c a power of two apart would share L1 sets
    /// (n = 4096: 4 KB) and evict each other.
    /// </summary>
    public static void Pack<T>(T* w, nint strideJ, nint strideA, nint strideC, int l, int aCount, int cCount, int width, T* packed)
        where T : unmanaged
    {
        if (width <= 1) return;
        int groups = l / width;
        for (int g = 0; g < groups; g++)
            for (int a0 = 0; a0 < aCount;)
            {
                int na = TileSize(aCount - a0);
                T* tile = packed + ((nint)g * aCount + a0) * cCount * width;
                for (int c = 0; c < cCount; c++)
                    for (int ai = 0; ai < na; ai++)
                    {
                        T* dst = tile + ((nint)c * na + ai) * width;
                        T* src = w + (nint)g * width * strideJ + (a0 + ai) * strideA + c * strideC;
                        for (int lane = 0; lane < width; lane++) dst[lane] = src[lane * strideJ];
                    }
                a0 += na;
            }
    }

    /// <summary>
    /// True when <see cref="Product{T}"/> may stream its stores to <paramref name="output"/>: every vector store is then
    /// aligned (the output, its rows ldOut apart and its blocks l apart all start on a vector boundary).
    /// </summary>
    public static bool CanStream<T>(T* output, nint ldOut, int l, int width) where T : unmanaged
    {
        nint bytes = width * sizeof(T);
        return width > 1 && (nint)output % bytes == 0 && ldOut * sizeof(T) % bytes == 0 && l * sizeof(T) % bytes == 0;
    }

    /// <summary>Values of a in the next register tile when <paramref name="left"/> remain: 6, else 4, 2 or 1.</summary>
    public static int TileSize(int left) => left >= 6 ? 6 : left >= 4 ? 4 : left >= 2 ? 2 : 1;

    /// <summary>
    /// out[b, a·l + j] (+)= Σ_c wt(a, c, j)·in[b, c·inC + j] for rows b &lt; rows, a &lt; aCount, j &lt; l (c &lt; cCount);
    /// with <paramref name="streaming"/> (only when not accumulating, and <see cref="CanStream{T}"/>) the full vectors
    /// are written past the caches.
    /// in rows are ldIn apart, out rows ldOut apart; inC ≥ l is the input view's row length (l, or l plus padding).
    /// packed is <see cref="Pack{T}"/> of wt at width w (<see cref="VectorWidth{T}"/>); w is read directly for the
    /// blocks past the last full vector.
    /// </summary>
    public static void Product<T>(T* input, nint ldIn, nint inC, T* w, nint strideJ, nint strideA, nint strideC, T* packed, int width,
        T* output, nint ldOut, int rows, int aCount, int cCount, int l, bool accumulate, bool streaming = false) where T : unmanaged, INumber<T>
    {
        int full = width <= 1 ? 0 : l / width * width;
        if (full > 0)
        {
            streaming &= !accumulate;
            System.Diagnostics.Debug.Assert(!streaming || CanStream<T>(output, ldOut, l, width), "streamed stores must be aligned");
            if (width == Vector512<T>.Count && SimdInfo.Use512<T>())
            {
                if (streaming) ProductColumns<Simd512<T>, Vector512<T>, T, Streamed>(input, ldIn, inC, packed, output, ldOut, rows, aCount, cCount, l, full, accumulate);
                else ProductColumns<Simd512<T>, Vector512<T>, T, Cached>(input, ldIn, inC, packed, output, ldOut, rows, aCount, cCount, l, full, accumulate);
            }
            else if (streaming) ProductColumns<Simd256<T>, Vector256<T>, T, Streamed>(input, ldIn, inC, packed, output, ldOut, rows, aCount, cCount, l, full, accumulate);
            else ProductColumns<Simd256<T>, Vector256<T>, T, Cached>(input, ldIn, inC, packed, output, ldOut, rows, aCount, cCount, l, full, accumulate);
        }
        for (int j = full; j < l; j++)
            for (int b = 0; b < rows; b++)
            {
                T* inb = input + b * ldIn + j;
                T* outb = output + b * ldOut + j;
                for (int a = 0; a < aCount; a++)
                {
                    T* wa = w + j * strideJ + a * strideA;
                    T s = accumulate ? outb[(nint)a * l] : T.Zero;
                    for (int c = 0; c < cCount; c++) s += wa[c * strideC] * inb[c * inC];
                    outb[(nint)a * l] = s;
                }
            }
    }

    /// <summary>
    /// dwt(a, c, j) += Σ_b g[b, a·l + j]·h[b, c·l + j] over rows b, for a &lt; aCount, c &lt; cCount, j &lt; l, added into
    /// dw at wt's indexing (dw[j·strideJ + a·strideA + c·strideC]). work holds <see cref="PackedLength"/> values.
    /// Only the a range [a0, a1) is done (the caller splits a over threads).
    /// </summary>
    public static void Reduce<T>(T* g, nint ldG, T* h, nint ldH, int rows, int aCount, int cCount, int l, int width,
        T* dw, nint strideJ, nint strideA, nint strideC, T* work, int a0, int a1) where T : unmanaged, INumber<T>
    {
        int full = width <= 1 ? 0 : l / width * width;
        if (full > 0)
        {
            if (width == Vector512<T>.Count && SimdInfo.Use512<T>())
                ReduceColumns<Simd512<T>, Vector512<T>, T>(g, ldG, h, ldH, rows, aCount, cCount, l, full, work, a0, a1);
            else
                ReduceColumns<Simd256<T>, Vector256<T>, T>(g, ldG, h, ldH, rows, aCount, cCount, l, full, work, a0, a1);
            // Unpack: work[group][a][c][lane] -> dw(a, c, j).
            for (int grp = 0; grp < full / width; grp++)
                for (int a = a0; a < a1; a++)
                    for (int c = 0; c < cCount; c++)
                    {
                        T* src = work + (((nint)grp * aCount + a) * cCount + c) * width;
                        T* dst = dw + (nint)grp * width * strideJ + a * strideA + c * strideC;
                        for (int lane = 0; lane < width; lane++) dst[lane * strideJ] += src[lane];
                    }
        }
        for (int j = full; j < l; j++)
            for (int a = a0; a < a1; a++)
                for (int c = 0; c < cCount; c++)
                {
                    T s = T.Zero;
                    T* gj = g + (nint)a * l + j;
                    T* hj = h + (nint)c * l + j;
                    for (int b = 0; b < rows; b++) s += gj[b * ldG] * hj[b * ldH];
                    dw[j * strideJ + a * strideA + c * strideC] += s;
                }
    }

    // Counts as types, so one tile body serves every shape and the JIT drops what a shape lacks.
    private interface ICount { static abstract int Value { get; } }
    private struct N6 : ICount { public static int Value => 6; }
    private struct N4 : ICount { public static int Value => 4; }
    private struct N2 : ICount { public static int Value => 2; }
    private struct N1 : ICount { public static int Value => 1; }

    // How a tile writes its results: through the caches, or streamed past them (for outputs too big to stay cached:
    // a streamed store does not read the line first, which saves a third of the memory traffic of a pass).
    private interface IStoreMode { static abstract bool Streaming { get; } }
    private struct Cached : IStoreMode { public static bool Streaming => false; }
    private struct Streamed : IStoreMode { public static bool Streaming => true; }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ProductColumns<TS, TV, T, TM>(T* input, nint ldIn, nint inC, T* packed, T* output, nint ldOut,
        int rows, int aCount, int cCount, int l, int full, bool accumulate)
        where TS : struct, ISimdVector<TS, TV, T> where TV : struct where T : unmanaged, INumber<T> where TM : struct, IStoreMode
    {
        int w = TS.Count;
        nint groupStride = (nint)cCount * aCount * w;
        for (int j = 0; j < full; j += w)
        {
            T* pg = packed + j / w * groupStride;
            // a tiles outside, rows inside: a tile's weights (cCount × 6 vectors) stay in L1 while every row passes.
            for (int a = 0; a < aCount;)
            {
                int na = TileSize(aCount - a);
                T* wa = pg + (nint)a * cCount * w;
                for (int b = 0; b < rows;)
                {
                    int nr = rows - b >= 4 ? 4 : rows - b >= 2 ? 2 : 1;
                    T* ib = input + b * ldIn + j;
                    T* oa = output + b * ldOut + j + (nint)a * l;
                    switch (nr * 8 + na)
                    {
                        case 38: ProductTile<TS, TV, T, TM, N4, N6>(ib, ldIn, inC, wa, oa, ldOut, l, cCount, accumulate); break;
                        case 36: ProductTile<TS, TV, T, TM, N4, N4>(ib, ldIn, inC, wa, oa, ldOut, l, cCount, accumulate); break;
                        case 34: ProductTile<TS, TV, T, TM, N4, N2>(ib, ldIn, inC, wa, oa, ldOut, l, cCount, accumulate); break;
                        case 33: ProductTile<TS, TV, T, TM, N4, N1>(ib, ldIn, inC, wa, oa, ldOut, l, cCount, accumulate); break;
                        case 22: ProductTile<TS, TV, T, TM, N2, N6>(ib, ldIn, inC, wa, oa, ldOut, l, cCount, accumulate); break;
                        case 20: ProductTile<TS, TV, T, TM, N2, N4>(ib, ldIn, inC, wa, oa, ldOut, l, cCount, accumulate); break;
                        case 18: ProductTile<TS, TV, T, TM, N2, N2>(ib, ldIn, inC, wa, oa, ldOut, l, cCount, accumulate); break;
                        case 17: ProductTile<TS, TV, T, TM, N2, N1>(ib, ldIn, inC, wa, oa, ldOut, l, cCount, accumulate); break;
                        case 14: ProductTile<TS, TV, T, TM, N1, N6>(ib, ldIn, inC, wa, oa, ldOut, l, cCount, accumulate); break;
                        case 12: ProductTile<TS, TV, T, TM, N1, N4>(ib, ldIn, inC, wa, oa, ldOut, l, cCount, accumulate); break;
                        case 10: ProductTile<TS, TV, T, TM, N1, N2>(ib, ldIn, inC, wa, oa, ldOut, l, cCount, accumulate); break;
                        default: ProductTile<TS, TV, T, TM, N1, N1>(ib, ldIn, inC, wa, oa, ldOut, l, cCount, accumulate); break;
                    }
                    b += nr;
                }
                a += na;
            }
        }
    }

    // out[i, a·l ..] (+)= Σ_c w[(c·NA + a)·w ..] ⊙ in[i, c·inC ..] for NR rows i and NA values a, one vector of j.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ProductTile<TS, TV, T, TM, TR, TA>(T* input, nint ldIn, nint inC, T* w0, T* output, nint ldOut,
        nint l, int cCount, bool load)
        where TS : struct, ISimdVector<TS, TV, T> where TV : struct where T : unmanaged, INumber<T>
        where TM : struct, IStoreMode where TR : struct, ICount where TA : struct, ICount
    {
        int NR = TR.Value, NA = TA.Value;
        nint w = TS.Count;
        T* i0 = input, i1 = input + ldIn, i2 = input + 2 * ldIn, i3 = input + 3 * ldIn;
        T* o0 = output, o1 = output + ldOut, o2 = output + 2 * ldOut, o3 = output + 3 * ldOut;
        T* wbase = w0;
        nint wStrideC = NA * w;
        TV c00 = TS.Zero, c01 = TS.Zero, c02 = TS.Zero, c03 = TS.Zero, c04 = TS.Zero, c05 = TS.Zero, c10 = TS.Zero, c11 = TS.Zero, c12 = TS.Zero, c13 = TS.Zero, c14 = TS.Zero, c15 = TS.Zero, c20 = TS.Zero, c21 = TS.Zero, c22 = TS.Zero, c23 = TS.Zero, c24 = TS.Zero, c25 = TS.Zero, c30 = TS.Zero, c31 = TS.Zero, c32 = TS.Zero, c33 = TS.Zero, c34 = TS.Zero, c35 = TS.Zero;
        if (load)
        {
            { c00 = TS.Load(o0 + 0 * l); if (NA > 1) c01 = TS.Load(o0 + 1 * l); if (NA > 2) c02 = TS.Load(o0 + 2 * l); if (NA > 3) c03 = TS.Load(o0 + 3 * l); if (NA > 4) c04 = TS.Load(o0 + 4 * l); if (NA > 5) c05 = TS.Load(o0 + 5 * l); }
            if (NR > 1) { c10 = TS.Load(o1 + 0 * l); if (NA > 1) c11 = TS.Load(o1 + 1 * l); if (NA > 2) c12 = TS.Load(o1 + 2 * l); if (NA > 3) c13 = TS.Load(o1 + 3 * l); if (NA > 4) c14 = TS.Load(o1 + 4 * l); if (NA > 5) c15 = TS.Load(o1 + 5 * l); }
            if (NR > 2) { c20 = TS.Load(o2 + 0 * l); if (NA > 1) c21 = TS.Load(o2 + 1 * l); if (NA > 2) c22 = TS.Load(o2 + 2 * l); if (NA > 3) c23 = TS.Load(o2 + 3 * l); if (NA > 4) c24 = TS.Load(o2 + 4 * l); if (NA > 5) c25 = TS.Load(o2 + 5 * l); }
            if (NR > 3) { c30 = TS.Load(o3 + 0 * l); if (NA > 1) c31 = TS.Load(o3 + 1 * l); if (NA > 2) c32 = TS.Load(o3 + 2 * l); if (NA > 3) c33 = TS.Load(o3 + 3 * l); if (NA > 4) c34 = TS.Load(o3 + 4 * l); if (NA > 5) c35 = TS.Load(o3 + 5 * l); }
        }
        for (int c = 0; c < cCount; c++)
        {
            nint off = c * inC;
            T* wc = wbase + c * wStrideC;
            TV x0 = TS.Load(i0 + off);
            TV x1 = NR > 1 ? TS.Load(i1 + off) : TS.Zero;
            TV x2 = NR > 2 ? TS.Load(i2 + off) : TS.Zero;
            TV x3 = NR > 3 ? TS.Load(i3 + off) : TS.Zero;
            { TV v = TS.Load(wc + 0 * w); c00 = TS.Fma(x0, v, c00); if (NR > 1) c10 = TS.Fma(x1, v, c10); if (NR > 2) c20 = TS.Fma(x2, v, c20); if (NR > 3) c30 = TS.Fma(x3, v, c30); }
            if (NA > 1) { TV v = TS.Load(wc + 1 * w); c01 = TS.Fma(x0, v, c01); if (NR > 1) c11 = TS.Fma(x1, v, c11); if (NR > 2) c21 = TS.Fma(x2, v, c21); if (NR > 3) c31 = TS.Fma(x3, v, c31); }
            if (NA > 2) { TV v = TS.Load(wc + 2 * w); c02 = TS.Fma(x0, v, c02); if (NR > 1) c12 = TS.Fma(x1, v, c12); if (NR > 2) c22 = TS.Fma(x2, v, c22); if (NR > 3) c32 = TS.Fma(x3, v, c32); }
            if (NA > 3) { TV v = TS.Load(wc + 3 * w); c03 = TS.Fma(x0, v, c03); if (NR > 1) c13 = TS.Fma(x1, v, c13); if (NR > 2) c23 = TS.Fma(x2, v, c23); if (NR > 3) c33 = TS.Fma(x3, v, c33); }
            if (NA > 4) { TV v = TS.Load(wc + 4 * w); c04 = TS.Fma(x0, v, c04); if (NR > 1) c14 = TS.Fma(x1, v, c14); if (NR > 2) c24 = TS.Fma(x2, v, c24); if (NR > 3) c34 = TS.Fma(x3, v, c34); }
            if (NA > 5) { TV v = TS.Load(wc + 5 * w); c05 = TS.Fma(x0, v, c05); if (NR > 1) c15 = TS.Fma(x1, v, c15); if (NR > 2) c25 = TS.Fma(x2, v, c25); if (NR > 3) c35 = TS.Fma(x3, v, c35); }
        }
        if (TM.Streaming)
        {
            { TS.StoreStreaming(c00, o0 + 0 * l); if (NA > 1) TS.StoreStreaming(c01, o0 + 1 * l); if (NA > 2) TS.StoreStreaming(c02, o0 + 2 * l); if (NA > 3) TS.StoreStreaming(c03, o0 + 3 * l); if (NA > 4) TS.StoreStreaming(c04, o0 + 4 * l); if (NA > 5) TS.StoreStreaming(c05, o0 + 5 * l); }
            if (NR > 1) { TS.StoreStreaming(c10, o1 + 0 * l); if (NA > 1) TS.StoreStreaming(c11, o1 + 1 * l); if (NA > 2) TS.StoreStreaming(c12, o1 + 2 * l); if (NA > 3) TS.StoreStreaming(c13, o1 + 3 * l); if (NA > 4) TS.StoreStreaming(c14, o1 + 4 * l); if (NA > 5) TS.StoreStreaming(c15, o1 + 5 * l); }
            if (NR > 2) { TS.StoreStreaming(c20, o2 + 0 * l); if (NA > 1) TS.StoreStreaming(c21, o2 + 1 * l); if (NA > 2) TS.StoreStreaming(c22, o2 + 2 * l); if (NA > 3) TS.StoreStreaming(c23, o2 + 3 * l); if (NA > 4) TS.StoreStreaming(c24, o2 + 4 * l); if (NA > 5) TS.StoreStreaming(c25, o2 + 5 * l); }
            if (NR > 3) { TS.StoreStreaming(c30, o3 + 0 * l); if (NA > 1) TS.StoreStreaming(c31, o3 + 1 * l); if (NA > 2) TS.StoreStreaming(c32, o3 + 2 * l); if (NA > 3) TS.StoreStreaming(c33, o3 + 3 * l); if (NA > 4) TS.StoreStreaming(c34, o3 + 4 * l); if (NA > 5) TS.StoreStreaming(c35, o3 + 5 * l); }
        }
        else
        {
            { TS.Store(c00, o0 + 0 * l); if (NA > 1) TS.Store(c01, o0 + 1 * l); if (NA > 2) TS.Store(c02, o0 + 2 * l); if (NA > 3) TS.Store(c03, o0 + 3 * l); if (NA > 4) TS.Store(c04, o0 + 4 * l); if (NA > 5) TS.Store(c05, o0 + 5 * l); }
            if (NR > 1) { TS.Store(c10, o1 + 0 * l); if (NA > 1) TS.Store(c11, o1 + 1 * l); if (NA > 2) TS.Store(c12, o1 + 2 * l); if (NA > 3) TS.Store(c13, o1 + 3 * l); if (NA > 4) TS.Store(c14, o1 + 4 * l); if (NA > 5) TS.Store(c15, o1 + 5 * l); }
            if (NR > 2) { TS.Store(c20, o2 + 0 * l); if (NA > 1) TS.Store(c21, o2 + 1 * l); if (NA > 2) TS.Store(c22, o2 + 2 * l); if (NA > 3) TS.Store(c23, o2 + 3 * l); if (NA > 4) TS.Store(c24, o2 + 4 * l); if (NA > 5) TS.Store(c25, o2 + 5 * l); }
            if (NR > 3) { TS.Store(c30, o3 + 0 * l); if (NA > 1) TS.Store(c31, o3 + 1 * l); if (NA > 2) TS.Store(c32, o3 + 2 * l); if (NA > 3) TS.Store(c33, o3 + 3 * l); if (NA > 4) TS.Store(c34, o3 + 4 * l); if (NA > 5) TS.Store(c35, o3 + 5 * l); }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ReduceColumns<TS, TV, T>(T* g, nint ldG, T* h, nint ldH, int rows, int aCount, int cCount, int l, int full,
        T* work, int a0, int a1)
        where TS : struct, ISimdVector<TS, TV, T> where TV : struct where T : unmanaged, INumber<T>
    {
        int w = TS.Count;
        // Rows in chunks, so a chunk's strips of g and h stay in cache while every (a, c) tile of the group sweeps them;
        // a tile's sums persist in work between chunks (loaded and stored again: the same additions in the same order).
        const int Chunk = 128;
        for (int j = 0; j < full; j += w)
        {
            T* wg = work + (nint)(j / w) * aCount * cCount * w;
            for (int a = a0; a < a1; a++) new Span<T>(wg + (nint)a * cCount * w, cCount * w).Clear();
            for (int b0 = 0; b0 < rows; b0 += Chunk)
            {
                int nb = Math.Min(Chunk, rows - b0);
                T* gb = g + b0 * ldG + j;
                T* hb = h + b0 * ldH + j;
                for (int a = a0; a < a1;)
                {
                    int na = TileSize(a1 - a);
                    for (int c = 0; c < cCount;)
                    {
                        int nc = Math.Min(TileSize(cCount - c), 4);
                        T* d = wg + ((nint)a * cCount + c) * w;
                        T* ga = gb + (nint)a * l;
                        T* hc = hb + (nint)c * l;
                        nint aStride = (nint)cCount * w;
                        switch (na * 8 + nc)
                        {
                            case 52: ReduceTile<TS, TV, T, N6, N4>(ga, ldG, hc, ldH, l, nb, d, aStride); break;
                            case 50: ReduceTile<TS, TV, T, N6, N2>(ga, ldG, hc, ldH, l, nb, d, aStride); break;
                            case 49: ReduceTile<TS, TV, T, N6, N1>(ga, ldG, hc, ldH, l, nb, d, aStride); break;
                            case 36: ReduceTile<TS, TV, T, N4, N4>(ga, ldG, hc, ldH, l, nb, d, aStride); break;
                            case 34: ReduceTile<TS, TV, T, N4, N2>(ga, ldG, hc, ldH, l, nb, d, aStride); break;
                            case 33: ReduceTile<TS, TV, T, N4, N1>(ga, ldG, hc, ldH, l, nb, d, aStride); break;
                            case 20: ReduceTile<TS, TV, T, N2, N4>(ga, ldG, hc, ldH, l, nb, d, aStride); break;
                            case 18: ReduceTile<TS, TV, T, N2, N2>(ga, ldG, hc, ldH, l, nb, d, aStride); break;
                            case 17: ReduceTile<TS, TV, T, N2, N1>(ga, ldG, hc, ldH, l, nb, d, aStride); break;
                            case 12: ReduceTile<TS, TV, T, N1, N4>(ga, ldG, hc, ldH, l, nb, d, aStride); break;
                            case 10: ReduceTile<TS, TV, T, N1, N2>(ga, ldG, hc, ldH, l, nb, d, aStride); break;
                            default: ReduceTile<TS, TV, T, N1, N1>(ga, ldG, hc, ldH, l, nb, d, aStride); break;
                        }
                        c += nc;
                    }
                    a += na;
                }
            }
        }
    }

    // d[a·aStride + c·w ..] += Σ_b g[b, a·l ..] ⊙ h[b, c·l ..] for NA values a and NC values c, one vector of j.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ReduceTile<TS, TV, T, TA, TC>(T* g, nint ldG, T* h, nint ldH, nint l, int rows, T* d, nint aStride)
        where TS : struct, ISimdVector<TS, TV, T> where TV : struct where T : unmanaged, INumber<T>
        where TA : struct, ICount where TC : struct, ICount
    {
        int NA = TA.Value, NC = TC.Value;
        nint w = TS.Count;
        TV c00 = TS.Zero, c01 = TS.Zero, c02 = TS.Zero, c03 = TS.Zero, c10 = TS.Zero, c11 = TS.Zero, c12 = TS.Zero, c13 = TS.Zero, c20 = TS.Zero, c21 = TS.Zero, c22 = TS.Zero, c23 = TS.Zero, c30 = TS.Zero, c31 = TS.Zero, c32 = TS.Zero, c33 = TS.Zero, c40 = TS.Zero, c41 = TS.Zero, c42 = TS.Zero, c43 = TS.Zero, c50 = TS.Zero, c51 = TS.Zero, c52 = TS.Zero, c53 = TS.Zero;
        { c00 = TS.Load(d + 0 * aStride + 0 * w); if (NC > 1) c01 = TS.Load(d + 0 * aStride + 1 * w); if (NC > 2) c02 = TS.Load(d + 0 * aStride + 2 * w); if (NC > 3) c03 = TS.Load(d + 0 * aStride + 3 * w); }
        if (NA > 1) { c10 = TS.Load(d + 1 * aStride + 0 * w); if (NC > 1) c11 = TS.Load(d + 1 * aStride + 1 * w); if (NC > 2) c12 = TS.Load(d + 1 * aStride + 2 * w); if (NC > 3) c13 = TS.Load(d + 1 * aStride + 3 * w); }
        if (NA > 2) { c20 = TS.Load(d + 2 * aStride + 0 * w); if (NC > 1) c21 = TS.Load(d + 2 * aStride + 1 * w); if (NC > 2) c22 = TS.Load(d + 2 * aStride + 2 * w); if (NC > 3) c23 = TS.Load(d + 2 * aStride + 3 * w); }
        if (NA > 3) { c30 = TS.Load(d + 3 * aStride + 0 * w); if (NC > 1) c31 = TS.Load(d + 3 * aStride + 1 * w); if (NC > 2) c32 = TS.Load(d + 3 * aStride + 2 * w); if (NC > 3) c33 = TS.Load(d + 3 * aStride + 3 * w); }
        if (NA > 4) { c40 = TS.Load(d + 4 * aStride + 0 * w); if (NC > 1) c41 = TS.Load(d + 4 * aStride + 1 * w); if (NC > 2) c42 = TS.Load(d + 4 * aStride + 2 * w); if (NC > 3) c43 = TS.Load(d + 4 * aStride + 3 * w); }
        if (NA > 5) { c50 = TS.Load(d + 5 * aStride + 0 * w); if (NC > 1) c51 = TS.Load(d + 5 * aStride + 1 * w); if (NC > 2) c52 = TS.Load(d + 5 * aStride + 2 * w); if (NC > 3) c53 = TS.Load(d + 5 * aStride + 3 * w); }
        for (int b = 0; b < rows; b++)
        {
            T* hb = h + b * ldH;
            T* gb = g + b * ldG;
            TV x0 = TS.Load(hb);
            TV x1 = NC > 1 ? TS.Load(hb + 1 * l) : TS.Zero;
            TV x2 = NC > 2 ? TS.Load(hb + 2 * l) : TS.Zero;
            TV x3 = NC > 3 ? TS.Load(hb + 3 * l) : TS.Zero;
            { TV v = TS.Load(gb + 0 * l); c00 = TS.Fma(v, x0, c00); if (NC > 1) c01 = TS.Fma(v, x1, c01); if (NC > 2) c02 = TS.Fma(v, x2, c02); if (NC > 3) c03 = TS.Fma(v, x3, c03); }
            if (NA > 1) { TV v = TS.Load(gb + 1 * l); c10 = TS.Fma(v, x0, c10); if (NC > 1) c11 = TS.Fma(v, x1, c11); if (NC > 2) c12 = TS.Fma(v, x2, c12); if (NC > 3) c13 = TS.Fma(v, x3, c13); }
            if (NA > 2) { TV v = TS.Load(gb + 2 * l); c20 = TS.Fma(v, x0, c20); if (NC > 1) c21 = TS.Fma(v, x1, c21); if (NC > 2) c22 = TS.Fma(v, x2, c22); if (NC > 3) c23 = TS.Fma(v, x3, c23); }
            if (NA > 3) { TV v = TS.Load(gb + 3 * l); c30 = TS.Fma(v, x0, c30); if (NC > 1) c31 = TS.Fma(v, x1, c31); if (NC > 2) c32 = TS.Fma(v, x2, c32); if (NC > 3) c33 = TS.Fma(v, x3, c33); }
            if (NA > 4) { TV v = TS.Load(gb + 4 * l); c40 = TS.Fma(v, x0, c40); if (NC > 1) c41 = TS.Fma(v, x1, c41); if (NC > 2) c42 = TS.Fma(v, x2, c42); if (NC > 3) c43 = TS.Fma(v, x3, c43); }
            if (NA > 5) { TV v = TS.Load(gb + 5 * l); c50 = TS.Fma(v, x0, c50); if (NC > 1) c51 = TS.Fma(v, x1, c51); if (NC > 2) c52 = TS.Fma(v, x2, c52); if (NC > 3) c53 = TS.Fma(v, x3, c53); }
        }
        { TS.Store(c00, d + 0 * aStride + 0 * w); if (NC > 1) TS.Store(c01, d + 0 * aStride + 1 * w); if (NC > 2) TS.Store(c02, d + 0 * aStride + 2 * w); if (NC > 3) TS.Store(c03, d + 0 * aStride + 3 * w); }
        if (NA > 1) { TS.Store(c10, d + 1 * aStride + 0 * w); if (NC > 1) TS.Store(c11, d + 1 * aStride + 1 * w); if (NC > 2) TS.Store(c12, d + 1 * aStride + 2 * w); if (NC > 3) TS.Store(c13, d + 1 * aStride + 3 * w); }
        if (NA > 2) { TS.Store(c20, d + 2 * aStride + 0 * w); if (NC > 1) TS.Store(c21, d + 2 * aStride + 1 * w); if (NC > 2) TS.Store(c22, d + 2 * aStride + 2 * w); if (NC > 3) TS.Store(c23, d + 2 * aStride + 3 * w); }
        if (NA > 3) { TS.Store(c30, d + 3 * aStride + 0 * w); if (NC > 1) TS.Store(c31, d + 3 * aStride + 1 * w); if (NC > 2) TS.Store(c32, d + 3 * aStride + 2 * w); if (NC > 3) TS.Store(c33, d + 3 * aStride + 3 * w); }
        if (NA > 4) { TS.Store(c40, d + 4 * aStride + 0 * w); if (NC > 1) TS.Store(c41, d + 4 * aStride + 1 * w); if (NC > 2) TS.Store(c42, d + 4 * aStride + 2 * w); if (NC > 3) TS.Store(c43, d + 4 * aStride + 3 * w); }
        if (NA > 5) { TS.Store(c50, d + 5 * aStride + 0 * w); if (NC > 1) TS.Store(c51, d + 5 * aStride + 1 * w); if (NC > 2) TS.Store(c52, d + 5 * aStride + 2 * w); if (NC > 3) TS.Store(c53, d + 5 * aStride + 3 * w); }
    }
}

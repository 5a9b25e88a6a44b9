using System.Numerics;

namespace PrecisionLS.Numerics;

/// <summary>
/// Two real channels in one complex transform: the packed forward and inverse of <see cref="MonarchFft{T}"/>.
/// <code>
/// z_c = x_c + i·x_{m+c},  c &lt; m = ⌈d/2⌉   (x_{m+c} = 0 past d: odd d leaves the last complex channel's imaginary part empty)
/// </code>
/// A token's d channels are then already a token's m complex channels laid out [re(m) | im(m)], so step 1 is the same
/// real GEMM as for d real channels, [F2r; F2i]·[Xr | Xi], and its four products combine into F2·Z before the twiddle:
/// <code>
/// F2 Z = (F2r Xr − F2i Xi) + i (F2i Xr + F2r Xi)
/// </code>
/// From there the twiddle, step 3 and the spectrum [k1, k2, batch, re(m) | im(m)] hold m complex channels instead of
/// d: half the step-3 work and half the memory traffic. The packed inverse keeps both parts of conj(F_N)·spec (the
/// real part into channel c, the imaginary part into channel m + c): its step 1 is [F2r; F2i]·[Br | Bi] and
/// <code>
/// conj(F2) B = (F2r Br + F2i Bi) + i (F2r Bi − F2i Br)
/// </code>
/// How two real signals' spectra are separated again (and multiplied without separating) is
/// <see cref="PackedSpectra{T}"/>'s part: it needs the row of the mirror frequency N − k, <see cref="MirrorRows"/>.
/// </summary>
public sealed partial class MonarchFft<T>
{
    private int[]? _mirror;

    /// <summary>Complex channels m = ⌈d/2⌉ that d real channels pack into.</summary>
    public static int PackedChannels(int d) => (d + 1) / 2;

    /// <summary>
    /// For each spectrum row (stored order, <see cref="StorageRow"/>), the row that holds the mirror frequency
    /// (N − k) mod N. An involution; rows of frequency 0 and N/2 are their own mirror.
    /// </summary>
    public ReadOnlySpan<int> MirrorRows
    {
        get
        {
            if (_mirror is null)
            {
                var rowOf = new int[N];
                for (int r = 0; r < N1; r++)
                    for (int k2 = 0; k2 < N2; k2++) rowOf[FrequencyOf(k2, r)] = StorageRow(k2, r);
                var mirror = new int[N];
                for (int r = 0; r < N1; r++)
                    for (int k2 = 0; k2 < N2; k2++) mirror[StorageRow(k2, r)] = rowOf[(N - FrequencyOf(k2, r)) % N];
                _mirror = mirror;
            }
            return _mirror;
        }
    }

    /// <summary>
    /// spec = DFT_N of the packed sequences z_c = x_c + i·x_{m+c} (see the type): x [batch, rows, d] (rows ≤ N) →
    /// spec [k1, k2, batch, 2m] with m = ⌈d/2⌉ (unnormalised, ω = e^{−2πi/N}). Overwrites spec.
    /// </summary>
    public void ForwardPacked(ReadOnlySpan<T> x, int rows, int batch, int d, Span<T> spec)
    {
        int n1 = N1, n2 = N2, m = PackedChannels(d), m2 = 2 * m;
        if (rows < 1 || rows > N) throw new ArgumentOutOfRangeException(nameof(rows), rows, $"rows must be in [1, N = {N}]");
        if (x.Length < (long)batch * rows * d) throw new ArgumentException($"x holds {x.Length} values, [{batch}, {rows}, {d}] needs {(long)batch * rows * d}", nameof(x));
        if (spec.Length < SpectrumLength(batch, m)) throw new ArgumentException($"spec holds {spec.Length} values, needs {SpectrumLength(batch, m)}", nameof(spec));
        if (!_isChunk && m > ChunkChannels && batch * rows >= ChunkMinRows) { Chunked(x, rows, batch, d, spec, default, false, inverse: false, packed: true); return; }
        int kRows = rows <= Padded ? n2 / 2 : n2;               // rows of X that can be non-zero
        ReadOnlySpan<T> f2 = kRows == n2 ? _f2Full : _f2Half;
        int w = n1 * m2, W = batch * w;                          // one row of X: n1 tokens of [re(m) | im(m)]
        var xp = Grow(ref _xp, (long)kRows * W).AsSpan(0, kRows * W);
        var p1 = Grow(ref _p1, 2L * n2 * W).AsSpan(0, 2 * n2 * W);
        // X[r, b, :] = tokens r·n1 .. r·n1+n1-1 of entry b (odd d: each token padded with a zero channel), zero past rows
        for (int r = 0; r < kRows; r++)
            for (int b = 0; b < batch; b++)
            {
                var dst = xp.Slice(r * W + b * w, w);
                int t0 = r * n1, count = Math.Clamp(rows - t0, 0, n1);
                if (d == m2) { if (count > 0) x.Slice((b * rows + t0) * d, count * d).CopyTo(dst); }
                else
                    for (int j = 0; j < count; j++)
                    {
                        x.Slice((b * rows + t0 + j) * d, d).CopyTo(dst.Slice(j * m2, d));
                        dst[j * m2 + d] = T.Zero;
                    }
                dst[(count * m2)..].Clear();
            }
        // step 1: [F2r; F2i][:, :kRows] [Xr | Xi]   → [2·n2, batch·n1·2m], one GEMM for the whole batch
        Gemm.NN<T>(f2, xp, p1, 2 * n2, W, kRows, accumulate: false);
        // step 2: combine into F2·Z, twiddle, written as [i1, k2, batch, re|im] for step 3
        TwiddlePacked(p1, spec, batch, m, inverse: false);
        // step 3 on m complex channels
        Step3(spec, batch, m, conjugate: false);
    }

    /// <summary>
    /// The packed inverse: w = conj(F_N) spec, the first <paramref name="rowsOut"/> rows of each entry, Re w_c into
    /// channel c and Im w_c into channel m + c (when m + c &lt; d): spec [k1, k2, batch, 2m] (in the order of
    /// <see cref="ForwardPacked"/>; destroyed) → y [batch, rowsOut, d] (added when accumulate). Unnormalised:
    /// InversePacked(ForwardPacked(x)) = N·x.
    /// </summary>
    public void InversePacked(Span<T> spec, int rowsOut, int batch, int d, Span<T> y, bool accumulate)
    {
        int n1 = N1, n2 = N2, m = PackedChannels(d), m2 = 2 * m;
        if (rowsOut < 1 || rowsOut > N) throw new ArgumentOutOfRangeException(nameof(rowsOut), rowsOut, $"rowsOut must be in [1, N = {N}]");
        if (y.Length < (long)batch * rowsOut * d) throw new ArgumentException($"y holds {y.Length} values, [{batch}, {rowsOut}, {d}] needs {(long)batch * rowsOut * d}", nameof(y));
        if (spec.Length < SpectrumLength(batch, m)) throw new ArgumentException($"spec holds {spec.Length} values, needs {SpectrumLength(batch, m)}", nameof(spec));
        if (!_isChunk && m > ChunkChannels && batch * rowsOut >= ChunkMinRows) { Chunked(default, rowsOut, batch, d, spec, y, accumulate, inverse: true, packed: true); return; }
        Step3(spec, batch, m, conjugate: true);
        int w = n1 * m2, W = batch * w;
        int outRows = (rowsOut + n1 - 1) / n1;                   // rows i2 of the output needed
        var planar = Grow(ref _b, (long)n2 * W).AsSpan(0, n2 * W);
        var p1 = Grow(ref _p1, 2L * n2 * W).AsSpan(0, 2 * outRows * W);
        // conj twiddle, into [k2, batch·n1·(re(m) | im(m))]
        TwiddlePacked(planar, spec, batch, m, inverse: true);
        // rows 2·i2 and 2·i2 + 1: F2r·[Br | Bi] and F2i·[Br | Bi] of output row i2, one GEMM
        Gemm.NN<T>(_f2Pair.AsSpan(0, 2 * outRows * n2), planar, p1, 2 * outRows, W, n2, accumulate: false);
        for (int b = 0; b < batch; b++)
            for (int r = 0; r < outRows; r++)
            {
                int t0 = r * n1, count = Math.Min(rowsOut - t0, n1);
                var fr = p1.Slice(2 * r * W + b * w, count * m2);
                var fi = p1.Slice((2 * r + 1) * W + b * w, count * m2);
                for (int j = 0; j < count; j++)
                    CombineInverse(fr.Slice(j * m2, m2), fi.Slice(j * m2, m2), y.Slice((b * rowsOut + t0 + j) * d, d), m, accumulate);
            }
    }

    // One token of the packed inverse: y_c (+)= F2r·Br + F2i·Bi, y_{m+c} (+)= F2r·Bi − F2i·Br (for m + c < d).
    private static void CombineInverse(ReadOnlySpan<T> fr, ReadOnlySpan<T> fi, Span<T> y, int m, bool accumulate)
    {
        int d = y.Length, c = 0;
        if (Vector<T>.IsSupported)
            for (; c + Vector<T>.Count <= d - m; c += Vector<T>.Count)
            {
                var re = new Vector<T>(fr[c..]) + new Vector<T>(fi[(m + c)..]);
                var im = new Vector<T>(fr[(m + c)..]) - new Vector<T>(fi[c..]);
                if (accumulate) { re += new Vector<T>(y[c..]); im += new Vector<T>(y[(m + c)..]); }
                re.CopyTo(y[c..]); im.CopyTo(y[(m + c)..]);
            }
        for (; c < m; c++)
        {
            T re = fr[c] + fi[m + c];
            y[c] = accumulate ? y[c] + re : re;
            if (m + c < d)
            {
                T im = fr[m + c] - fi[c];
                y[m + c] = accumulate ? y[m + c] + im : im;
            }
        }
    }

    // Forward: spec[i1, k2, b] = ω_N^{i1 k2}·((rr − ii) + i (ir + ri)) from the step-1 products rr = F2r·Xr, ri = F2r·Xi
    // (rows k2 of products) and ir = F2i·Xr, ii = F2i·Xi (rows n2 + k2); inverse: planar[k2][b, i1] = conj(ω)·spec.
    private unsafe void TwiddlePacked(Span<T> products, Span<T> spec, int batch, int m, bool inverse)
    {
        fixed (T* pl = products, sp = spec, tr = _twRe, ti = _twIm)
        {
            var args = new TwiddleArgs { Planar = pl, Spec = sp, TwRe = tr, TwIm = ti, N1 = N1, N2 = N2, Batch = batch, D = m, Inverse = inverse };
            ParallelFor.Run(N2, Math.Max(1, 16384 / Math.Max(1, N1 * batch * 2 * m)), in args, &TwiddlePackedRange);
        }
    }

    private static unsafe void TwiddlePackedRange(in TwiddleArgs a, int start, int end)
    {
        int n1 = a.N1, n2 = a.N2, m = a.D, w = n1 * 2 * m, W = a.Batch * w, bs = a.Batch * 2 * m;
        int vw = Vector<T>.IsSupported ? Vector<T>.Count : int.MaxValue;
        for (int k2 = start; k2 < end; k2++)
            for (int b = 0; b < a.Batch; b++)
                for (int i1 = 0; i1 < n1; i1++)
                {
                    T tr = a.TwRe[k2 * n1 + i1], ti = a.TwIm[k2 * n1 + i1];
                    T* sp = a.Spec + ((long)i1 * n2 + k2) * bs + b * 2 * m;
                    T* pr = a.Planar + (long)k2 * W + b * w + i1 * 2 * m;    // forward: rr | ri; inverse: Br | Bi
                    int c = 0;
                    if (!a.Inverse)
                    {
                        T* pi = a.Planar + (long)(n2 + k2) * W + b * w + i1 * 2 * m;   // ir | ii
                        if (vw <= m)
                        {
                            var vtr = new Vector<T>(tr); var vti = new Vector<T>(ti);
                            for (; c + vw <= m; c += vw)
                            {
                                var re = Vector.Load(pr + c) - Vector.Load(pi + m + c);
                                var im = Vector.Load(pi + c) + Vector.Load(pr + m + c);
                                Vector.Store(re * vtr - im * vti, sp + c);
                                Vector.Store(re * vti + im * vtr, sp + m + c);
                            }
                        }
                        for (; c < m; c++)
                        {
                            T re = pr[c] - pi[m + c], im = pi[c] + pr[m + c];
                            sp[c] = re * tr - im * ti;
                            sp[m + c] = re * ti + im * tr;
                        }
                    }
                    else
                    {
                        if (vw <= m)
                        {
                            var vtr = new Vector<T>(tr); var vti = new Vector<T>(ti);
                            for (; c + vw <= m; c += vw)
                            {
                                var re = Vector.Load(sp + c); var im = Vector.Load(sp + m + c);
                                Vector.Store(re * vtr + im * vti, pr + c);          // (re + i im)(tr − i ti)
                                Vector.Store(im * vtr - re * vti, pr + m + c);
                            }
                        }
                        for (; c < m; c++)
                        {
                            T re = sp[c], im = sp[m + c];
                            pr[c] = re * tr + im * ti;
                            pr[m + c] = im * tr - re * ti;
                        }
                    }
                }
    }
}

using System.Numerics;

namespace PrecisionLS.Numerics;

/// <summary>
/// Two real channels in one complex transform: the packed forward and inverse of <see cref="MonarchFft{T}"/>.
/// <code>
/// z_c = x_c + i·x_{m+c},  c &lt; m = ⌈d/2⌉   (x_{m+c} = 0 past d: odd d leaves the last complex channel's imaginary part empty)
/// </code>
/// Step 1 takes the real and imaginary parts as two blocks of rows and forms both parts of F2·Z in one real GEMM,
/// straight into the [Re rows; Im rows] layout that the twiddle reads:
/// <code>
/// [Re; Im] (F2 Z) = [F2r  −F2i; F2i  F2r] · [Xr; Xi]
/// </code>
/// From there the twiddle, step 3 and the spectrum [k1, k2, batch, re(m) | im(m)] hold m complex channels instead of
/// d: half the step-3 work and half the memory traffic (step 1's multiply-adds are those of d real channels). The packed
/// inverse keeps both parts of conj(F_N)·spec (the real part into channel c, the imaginary part into channel m + c),
/// its step 1 again one real GEMM, its rows interleaved so that the first 2·outRows give the outRows output rows needed:
/// <code>
/// [Re; Im] (conj(F2) B) = [F2r  F2i; −F2i  F2r] · [Br; Bi]
/// </code>
/// How two real signals' spectra are separated again (and multiplied without separating) is
/// <see cref="PackedSpectra{T}"/>'s part: it needs the row of the mirror frequency N − k, <see cref="MirrorRows"/>.
/// </summary>
public sealed partial class MonarchFft<T>
{
    // step 1 on [Xr; Xi]: [F2r −F2i; F2i F2r] (2·n2 × 2·n2) and, for half-filled inputs, its columns of the first h rows
    // of Xr and of Xi (2·n2 × 2·h); inverse: rows 2i, 2i+1 = [F2r F2i], [−F2i F2r] of output row i (2·n2 × 2·n2)
    private T[]? _f2Packed, _f2PackedHalf, _f2PackedInv;

    private int[]? _mirror;

    [System.Diagnostics.CodeAnalysis.MemberNotNull(nameof(_f2Packed), nameof(_f2PackedHalf), nameof(_f2PackedInv))]
    private void BuildPackedMatrices()
    {
        if (_f2Packed is not null && _f2PackedHalf is not null && _f2PackedInv is not null) return;
        int n2 = N2, h = n2 / 2;
        var full = new T[4 * n2 * n2]; var half = new T[4 * n2 * h]; var inv = new T[4 * n2 * n2];
        for (int k = 0; k < n2; k++)
            for (int i = 0; i < n2; i++)
            {
                var (re, im) = Root((long)k * i % n2, n2);
                full[k * 2 * n2 + i] = re; full[k * 2 * n2 + n2 + i] = -im;
                full[(n2 + k) * 2 * n2 + i] = im; full[(n2 + k) * 2 * n2 + n2 + i] = re;
                if (i < h)
                {
                    half[k * 2 * h + i] = re; half[k * 2 * h + h + i] = -im;
                    half[(n2 + k) * 2 * h + i] = im; half[(n2 + k) * 2 * h + h + i] = re;
                }
                // F2 is symmetric: output row k, column i of conj(F2) is conj(F2[k, i])
                inv[2 * k * 2 * n2 + i] = re; inv[2 * k * 2 * n2 + n2 + i] = im;
                inv[(2 * k + 1) * 2 * n2 + i] = -im; inv[(2 * k + 1) * 2 * n2 + n2 + i] = re;
            }
        _f2PackedHalf = half; _f2PackedInv = inv; _f2Packed = full;
    }

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
        BuildPackedMatrices();
        int kRows = rows <= Padded ? n2 / 2 : n2;               // rows of X that can be non-zero
        ReadOnlySpan<T> f2 = kRows == n2 ? _f2Packed : _f2PackedHalf;
        int w = n1 * m, W = batch * w;                           // one row of Xr or Xi: n1 tokens of m channels
        var xp = Grow(ref _xp, 2L * kRows * W).AsSpan(0, 2 * kRows * W);
        var p1 = Grow(ref _p1, 2L * n2 * W).AsSpan(0, 2 * n2 * W);
        // Xr[r, b, :] and Xi[r, b, :] (rows kRows + r) = channels 0..m-1 and m..d-1 (zero past d) of tokens r·n1 ..
        // r·n1+n1-1 of entry b, zero past rows
        for (int r = 0; r < kRows; r++)
            for (int b = 0; b < batch; b++)
            {
                var re = xp.Slice(r * W + b * w, w); var im = xp.Slice((kRows + r) * W + b * w, w);
                int t0 = r * n1, count = Math.Clamp(rows - t0, 0, n1);
                for (int j = 0; j < count; j++)
                {
                    var token = x.Slice((b * rows + t0 + j) * d, d);
                    token[..m].CopyTo(re.Slice(j * m, m));
                    token[m..].CopyTo(im.Slice(j * m, d - m));
                    if (d < m2) im[j * m + m - 1] = T.Zero;
                }
                re[(count * m)..].Clear(); im[(count * m)..].Clear();
            }
        // step 1: [Re; Im](F2 Z) = [F2r −F2i; F2i F2r] [Xr; Xi]   → [2·n2, batch·n1·m], one GEMM for the whole batch
        Gemm.NN<T>(f2, xp, p1, 2 * n2, W, 2 * kRows, accumulate: false);
        // steps 2 and 3 per k2 on m complex channels
        Columns(p1, spec, batch, m, inverse: false);
    }

    /// <summary>
    /// The packed inverse: w = conj(F_N) spec, the first <paramref name="rowsOut"/> rows of each entry, Re w_c into
    /// channel c and Im w_c into channel m + c (when m + c &lt; d): spec [k1, k2, batch, 2m] (in the order of
    /// <see cref="ForwardPacked"/>; destroyed) → y [batch, rowsOut, d] (added when accumulate). Unnormalised:
    /// InversePacked(ForwardPacked(x)) = N·x.
    /// </summary>
    public void InversePacked(Span<T> spec, int rowsOut, int batch, int d, Span<T> y, bool accumulate)
    {
        int n1 = N1, n2 = N2, m = PackedChannels(d);
        if (rowsOut < 1 || rowsOut > N) throw new ArgumentOutOfRangeException(nameof(rowsOut), rowsOut, $"rowsOut must be in [1, N = {N}]");
        if (y.Length < (long)batch * rowsOut * d) throw new ArgumentException($"y holds {y.Length} values, [{batch}, {rowsOut}, {d}] needs {(long)batch * rowsOut * d}", nameof(y));
        if (spec.Length < SpectrumLength(batch, m)) throw new ArgumentException($"spec holds {spec.Length} values, needs {SpectrumLength(batch, m)}", nameof(spec));
        if (!_isChunk && m > ChunkChannels && batch * rowsOut >= ChunkMinRows) { Chunked(default, rowsOut, batch, d, spec, y, accumulate, inverse: true, packed: true); return; }
        BuildPackedMatrices();
        int w = n1 * m, W = batch * w;
        int outRows = (rowsOut + n1 - 1) / n1;                   // rows i2 of the output needed
        var planar = Grow(ref _b, 2L * n2 * W).AsSpan(0, 2 * n2 * W);
        var p1 = Grow(ref _p1, 2L * n2 * W).AsSpan(0, 2 * outRows * W);
        // per k2: step 3 conjugated, then the conj twiddle into planar [re rows k2 | im rows k2] × [batch·n1·m]
        Columns(planar, spec, batch, m, inverse: true);
        // rows 2·i2, 2·i2 + 1: Re and Im of conj(F2) B for output row i2, one GEMM
        Gemm.NN<T>(_f2PackedInv.AsSpan(0, 2 * outRows * 2 * n2), planar, p1, 2 * outRows, W, 2 * n2, accumulate: false);
        for (int b = 0; b < batch; b++)
            for (int r = 0; r < outRows; r++)
            {
                int t0 = r * n1, count = Math.Min(rowsOut - t0, n1);
                var re = p1.Slice(2 * r * W + b * w, count * m);
                var im = p1.Slice((2 * r + 1) * W + b * w, count * m);
                for (int j = 0; j < count; j++)
                {
                    var token = y.Slice((b * rowsOut + t0 + j) * d, d);
                    Put(re.Slice(j * m, m), token[..m], accumulate);
                    Put(im.Slice(j * m, d - m), token[m..], accumulate);
                }
            }
    }
}

using System.Numerics;

namespace PrecisionLS.Numerics;

/// <summary>
/// The FFT of size N = n1·n2 as Monarch Mixer computes it (REFERENCE §3: the DFT is exactly Monarch): two batched
/// dense matrix products with a twiddle between them, on the repo's GEMM, no FFT library. With t = i1 + n1·i2 and
/// k = k2 + n2·k1 (ω_N = e^{−2πi/N}):
/// <code>
/// X̂[k2, k1] = Σ_{i1} ω_{n1}^{i1 k1} · ω_N^{i1 k2} · Σ_{i2} ω_{n2}^{i2 k2} x[i2, i1]
///   step 1: B = F_{n2} X            one GEMM, X viewed [n2, n1·d·...] (zero rows past the input are skipped)
///   step 2: B[k2, i1] ·= ω_N^{i1 k2}  twiddle
///   step 3: X̂[:, k2] = F_{n1} B[:, k2] for every k2 and channel: small complex DFTs in place, vectorised across the
///           channels, or, when n1 = p·q is cheaper, the same trick one level down (DFTs of size p, twiddles, DFTs of
///           size q): MonarchFftStep3.cs
/// </code>
/// Spectra are kept in the order [k1, k2, batch, re(d) | im(d)] (frequency k = k2 + n2·k1, k1 digit-permuted with two
/// levels: <see cref="FrequencyOf"/>); only products of spectra
/// taken in the same order are formed, so the order never needs undoing. <see cref="Inverse"/> applies conj(F)
/// (unnormalised: divide by N yourself) and keeps the real part. <see cref="ForwardPacked"/> and
/// <see cref="InversePacked"/> transform two real channels as one complex one (MonarchFftPacked.cs).
/// </summary>
/// <remarks>
/// The sizes are picked for a causal convolution of length L: N = 2·Lp with Lp = n1·h ≥ L, n2 = 2h, so an input of
/// at most Lp rows fills only the first h rows of X and step 1 reads only half of F_{n2}. n1 ≈ √(L/2) balances the
/// two steps' cost (N·d·(n2 + 4·n1) real multiply-adds per entry): O(L^1.5·d) in all, the Monarch cost of the DFT.
/// DFT entries and twiddles are computed in double with the exponent reduced mod n, then rounded to T.
/// Not thread-safe: one instance per layer (model replicas each hold their own).
/// </remarks>
public sealed partial class MonarchFft<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    // step 1: [F2r; F2i] (2·n2 × n2) and its first h columns (2·n2 × h) for half-filled inputs
    private readonly T[] _f2Full, _f2Half;
    // inverse step 1: [F2r | F2i] (n2 × 2·n2): Re(conj(F2) B) = F2r·Br + F2i·Bi
    private readonly T[] _f2Inv;
    // step 3, one level: [F1r; F1i] (2·n1 × n1); two levels (n1 = p·q): [Fpr; Fpi], [Fqr; Fqi] and ω_{n1}^{iq kp} [p, q]
    private readonly T[] _f1, _fp, _fq, _t1Re, _t1Im, _t1ImNeg;
    // twiddles ω_N^{i1 k2}, [n2, n1] re and im
    private readonly T[] _twRe, _twIm;
    private T[]? _xp, _p1, _b;
    private readonly bool _isChunk;
    private Chunk[] _chunks = [];

    /// <summary>
    /// Channels per chunk: transforms of more channels than this run as independent chunks of this many channels, one
    /// chunk per worker at a time, so a chunk's buffers (about N·batch·2·ChunkChannels values each) stay in cache
    /// through the three steps instead of streaming the whole spectrum from memory between steps. Each channel's
    /// arithmetic is the same whatever the chunking (the steps never mix channels). With step 3 in place (one read and one
    /// write of the spectrum per level) whole spectra do better than chunks: at L = 4096, d = 64 (32 packed channels),
    /// batch 1 to 4, a convolution's forward and backward took 13-20% less time unchunked than in chunks of 16 complex
    /// channels on 2 workers, and at d = 128 chunks of 64 beat chunks of 32 and 16; hence 64.
    /// </summary>
    internal static int ChunkChannels { get; set; } = 64;

    // A chunk engine (same sizes, its own buffers) and the chunk's gathered input, spectrum and output.
    private sealed class Chunk(MonarchFft<T> engine)
    {
        public readonly MonarchFft<T> Engine = engine;
        public T[]? X, Spec, Y;
    }

    /// <param name="length">The longest input L a causal convolution will feed (sets N = 2·Lp ≥ 2L).</param>
    public MonarchFft(int length) : this(length, chunkEngine: false) { }

    private MonarchFft(int length, bool chunkEngine)
    {
        if (length < 1) throw new ArgumentOutOfRangeException(nameof(length), length, "the sequence length must be at least 1");
        Length = length;
        _isChunk = chunkEngine;
        (N1, P, Q) = ChooseSizes(length);
        int h = (length + N1 - 1) / N1;
        N2 = 2 * h; N = N1 * N2; Padded = N1 * h;
        int n1 = N1, n2 = N2;
        _f2Full = new T[2 * n2 * n2]; _f2Half = new T[2 * n2 * h]; _f2Inv = new T[n2 * 2 * n2];
        for (int k = 0; k < n2; k++)
            for (int i = 0; i < n2; i++)
            {
                var (re, im) = Root((long)k * i % n2, n2);
                _f2Full[k * n2 + i] = re; _f2Full[(n2 + k) * n2 + i] = im;
                if (i < h) { _f2Half[k * h + i] = re; _f2Half[(n2 + k) * h + i] = im; }
                _f2Inv[i * 2 * n2 + k] = re; _f2Inv[i * 2 * n2 + n2 + k] = im;   // row i (output), column k (symmetric F)
            }
        _f1 = Q == 1 ? DftStack(n1) : [];
        _fp = Q == 1 ? [] : DftStack(P);
        _fq = Q == 1 ? [] : DftStack(Q);
        _t1Re = new T[P * Q]; _t1Im = new T[P * Q]; _t1ImNeg = new T[P * Q];
        for (int kp = 0; kp < P; kp++)
            for (int iq = 0; iq < Q; iq++)
            {
                var (re, im) = Root((long)iq * kp % n1, n1);
                _t1Re[kp * Q + iq] = re; _t1Im[kp * Q + iq] = im; _t1ImNeg[kp * Q + iq] = -im;
            }
        _twRe = new T[n2 * n1]; _twIm = new T[n2 * n1];
        for (int k2 = 0; k2 < n2; k2++)
            for (int i1 = 0; i1 < n1; i1++)
            {
                var (re, im) = Root((long)i1 * k2 % N, N);
                _twRe[k2 * n1 + i1] = re; _twIm[k2 * n1 + i1] = im;
            }
    }

    /// <summary>The L the sizes were chosen for.</summary>
    public int Length { get; }
    /// <summary>Transform size N = n1·n2 (at least 2L).</summary>
    public int N { get; }
    /// <summary>Inner factor n1 (the step-3 DFT size).</summary>
    public int N1 { get; }
    /// <summary>Step 3 as two levels n1 = p·q (q = 1: one dense DFT_{n1}).</summary>
    public int P { get; }
    /// <summary>See <see cref="P"/>.</summary>
    public int Q { get; }
    /// <summary>Outer factor n2 (the step-1 DFT size, even).</summary>
    public int N2 { get; }
    /// <summary>Lp = N/2 ≥ L: inputs of at most this many rows take the half-size step 1.</summary>
    public int Padded { get; }

    /// <summary>Values a spectrum of <paramref name="batch"/> entries of <paramref name="d"/> channels holds: N·batch·2d.</summary>
    public long SpectrumLength(int batch, int d) => (long)N * batch * 2 * d;

    /// <summary>
    /// The frequency k of spectrum row (r, k2) (stored at row r·n2 + k2): k = k2 + n2·k1, with k1 = r for one-level
    /// step 3 and, for two levels, r = kp·q + kq holding k1 = kp + p·kq.
    /// </summary>
    public int FrequencyOf(int k2, int row) => k2 + N2 * (Q == 1 ? row : row / Q + P * (row % Q));

    /// <summary>Where (r, k2) of <see cref="FrequencyOf"/> is stored: spectrum row r·n2 + k2 (then batch, then re|im).</summary>
    public int StorageRow(int k2, int row) => row * N2 + k2;

    // n1 and its split p·q minimising the multiply-adds per entry and channel, N·(n2 + step 3), with N = n1·2·⌈L/n1⌉:
    // step 3 costs 4·n1 as one level of DFTs, 4·(p + q) + 3 as two (the 3 for the twiddle).
    private static (int N1, int P, int Q) ChooseSizes(int length)
    {
        (int, int, int) best = (1, 1, 1);
        double bestCost = double.MaxValue;
        int top = (int)Math.Ceiling(2 * Math.Sqrt(length)) + 2;
        for (int n1 = 1; n1 <= Math.Min(top, length); n1++)
        {
            int h = (length + n1 - 1) / n1;
            double n = 2.0 * n1 * h;
            int p = 1, q = n1;
            for (int f = (int)Math.Sqrt(n1); f >= 2; f--) if (n1 % f == 0) { p = f; q = n1 / f; break; }
            double step3 = 4.0 * n1;
            bool two = p > 1 && n1 >= 16 && 4.0 * (p + q) + 3 < step3;
            if (two) step3 = 4.0 * (p + q) + 3;
            double cost = n * (2 * h + step3);
            if (cost < bestCost) { bestCost = cost; best = two ? (n1, p, q) : (n1, n1, 1); }
        }
        return best;
    }

    // [Fr; Fi] of DFT_n: (2n × n)
    private static T[] DftStack(int n)
    {
        var f = new T[2 * n * n];
        for (int k = 0; k < n; k++)
            for (int i = 0; i < n; i++)
            {
                var (re, im) = Root((long)k * i % n, n);
                f[k * n + i] = re; f[(n + k) * n + i] = im;
            }
        return f;
    }

    // Step 2 for k2 in [start, end) (see Columns). Forward: spec[i1, k2, b] = ω_N^{i1 k2}·(planar[k2][b, i1] + i
    // planar[n2 + k2][b, i1]); inverse: planar = conj(ω)·spec.
    private unsafe struct TwiddleArgs
    {
        public T* Planar, Spec, TwRe, TwIm;
        public int N1, N2, Batch, D;
        public bool Inverse;
    }

    private static unsafe void TwiddleRange(in TwiddleArgs a, int start, int end)
    {
        int n1 = a.N1, n2 = a.N2, d = a.D, w = n1 * d, W = a.Batch * w, bs = a.Batch * 2 * d;
        for (int k2 = start; k2 < end; k2++)
            for (int b = 0; b < a.Batch; b++)
                for (int i1 = 0; i1 < n1; i1++)
                {
                    T tr = a.TwRe[k2 * n1 + i1], ti = a.TwIm[k2 * n1 + i1];
                    T* pr = a.Planar + (long)k2 * W + b * w + i1 * d, pi = a.Planar + (long)(n2 + k2) * W + b * w + i1 * d;
                    T* sp = a.Spec + ((long)i1 * n2 + k2) * bs + b * 2 * d;
                    if (!a.Inverse)
                        for (int c = 0; c < d; c++)
                        {
                            T re = pr[c], im = pi[c];
                            sp[c] = re * tr - im * ti;
                            sp[d + c] = re * ti + im * tr;
                        }
                    else
                        for (int c = 0; c < d; c++)
                        {
                            T re = sp[c], im = sp[d + c];
                            pr[c] = re * tr + im * ti;           // (re + i im)(tr − i ti)
                            pi[c] = im * tr - re * ti;
                        }
                }
    }

    private static T[] Grow(ref T[]? buffer, long length)
    {
        if (buffer is null || buffer.Length < length) buffer = new T[length];
        return buffer;
    }

    // e^{−2πi e/n}, 0 ≤ e < n
    private static (T Re, T Im) Root(long e, int n)
    {
        var (sin, cos) = Math.SinCos(-2 * Math.PI * e / n);
        return (T.CreateChecked(cos), T.CreateChecked(sin));
    }

    /// <summary>
    /// spec = DFT_N of each entry's zero-padded sequence: x [batch, rows, d] (rows ≤ N) → spec [k1, k2, batch, 2d]
    /// (unnormalised, ω = e^{−2πi/N}). Overwrites spec.
    /// </summary>
    public void Forward(ReadOnlySpan<T> x, int rows, int batch, int d, Span<T> spec)
    {
        int n1 = N1, n2 = N2;
        if (rows < 1 || rows > N) throw new ArgumentOutOfRangeException(nameof(rows), rows, $"rows must be in [1, N = {N}]");
        if (x.Length < (long)batch * rows * d) throw new ArgumentException($"x holds {x.Length} values, [{batch}, {rows}, {d}] needs {(long)batch * rows * d}", nameof(x));
        if (spec.Length < SpectrumLength(batch, d)) throw new ArgumentException($"spec holds {spec.Length} values, needs {SpectrumLength(batch, d)}", nameof(spec));
        if (!_isChunk && d > ChunkChannels && batch * rows >= ChunkMinRows) { Chunked(x, rows, batch, d, spec, default, false, inverse: false, packed: false); return; }
        int kRows = rows <= Padded ? n2 / 2 : n2;               // rows of X that can be non-zero
        ReadOnlySpan<T> f2 = kRows == n2 ? _f2Full : _f2Half;
        int w = n1 * d;                                          // one row of X: n1 tokens of d channels
        int W = batch * w;                                       // X of every entry side by side: [kRows, batch·n1·d]
        var xp = Grow(ref _xp, (long)kRows * W).AsSpan(0, kRows * W);
        var p1 = Grow(ref _p1, 2L * n2 * W).AsSpan(0, 2 * n2 * W);
        int bs = batch * 2 * d;                                  // one (k2, k1) row of the spectrum
        // X[r, b, :] = tokens r·n1 .. r·n1+n1-1 of entry b, zero past rows
        for (int r = 0; r < kRows; r++)
            for (int b = 0; b < batch; b++)
            {
                var dst = xp.Slice(r * W + b * w, w);
                int t0 = r * n1, count = Math.Clamp(rows - t0, 0, n1);
                if (count > 0) x.Slice((b * rows + t0) * d, count * d).CopyTo(dst);
                dst[(count * d)..].Clear();
            }
        // step 1: P = [F2r; F2i][:, :kRows] X   → [2·n2, batch·n1·d], one GEMM for the whole batch
        Gemm.NN<T>(f2, xp, p1, 2 * n2, W, kRows, accumulate: false);
        // steps 2 and 3 per k2: twiddle, written as [i1, k2, batch, re|im], then the DFTs along i1
        Columns(p1, spec, batch, d, inverse: false);
    }

    /// <summary>
    /// y = Re(conj(F_N) spec), the first <paramref name="rowsOut"/> rows of each entry: spec [k1, k2, batch, 2d] (in
    /// the order of <see cref="Forward"/>; destroyed) → y [batch, rowsOut, d] (added when accumulate). Unnormalised:
    /// Inverse(Forward(x)) = N·x.
    /// </summary>
    public void Inverse(Span<T> spec, int rowsOut, int batch, int d, Span<T> y, bool accumulate)
    {
        int n1 = N1, n2 = N2;
        if (rowsOut < 1 || rowsOut > N) throw new ArgumentOutOfRangeException(nameof(rowsOut), rowsOut, $"rowsOut must be in [1, N = {N}]");
        if (y.Length < (long)batch * rowsOut * d) throw new ArgumentException($"y holds {y.Length} values, [{batch}, {rowsOut}, {d}] needs {(long)batch * rowsOut * d}", nameof(y));
        if (spec.Length < SpectrumLength(batch, d)) throw new ArgumentException($"spec holds {spec.Length} values, needs {SpectrumLength(batch, d)}", nameof(spec));
        if (!_isChunk && d > ChunkChannels && batch * rowsOut >= ChunkMinRows) { Chunked(default, rowsOut, batch, d, spec, y, accumulate, inverse: true, packed: false); return; }
        int w = n1 * d, W = batch * w;
        int outRows = (rowsOut + n1 - 1) / n1;                   // rows i2 of the [n2, batch·n1·d] output needed
        var planar = Grow(ref _b, 2L * n2 * W).AsSpan(0, 2 * n2 * W);
        var p1 = Grow(ref _p1, 2L * n2 * W).AsSpan(0, 2 * n2 * W);
        var outBuf = p1[..(outRows * W)];
        // per k2: step 3 conjugated, then the conj twiddle into planar [re rows k2 | im rows k2] × [batch·n1·d]
        Columns(planar, spec, batch, d, inverse: true);
        // Re(conj(F2) B) = [F2r | F2i] [Br; Bi]   → [outRows, batch·n1·d], one GEMM
        Gemm.NN<T>(_f2Inv.AsSpan(0, outRows * 2 * n2), planar, outBuf, outRows, W, 2 * n2, accumulate: false);
        for (int b = 0; b < batch; b++)
            for (int r = 0; r < outRows; r++)
            {
                int t0 = r * n1, count = Math.Min(rowsOut - t0, n1);
                var src = outBuf.Slice(r * W + b * w, count * d);
                var dst = y.Slice((b * rowsOut + t0) * d, count * d);
                if (accumulate) System.Numerics.Tensors.TensorPrimitives.Add(dst, src, dst);
                else src.CopyTo(dst);
            }
    }

    // Short inputs (a kernel's few taps, small batches of short sequences) are not worth the gather and scatter.
    private const int ChunkMinRows = 64;

    // Forward or Inverse of every chunk of ChunkChannels spectrum channels on its own engine, the chunks split over the
    // workers (each chunk's GEMMs then run serially on its worker). Forward gathers the chunk's channels of x (packed:
    // its real channels c0.. and, as imaginary parts, m + c0..), transforms them and scatters the chunk spectrum into
    // spec's [.., re(m) | im(m)] rows (m = d unpacked); Inverse gathers from spec and scatters (or adds) into y.
    private unsafe void Chunked(ReadOnlySpan<T> x, int rows, int batch, int d, Span<T> spec, Span<T> y, bool accumulate, bool inverse, bool packed)
    {
        int m = packed ? PackedChannels(d) : d;
        int dc = ChunkChannels, count = (m + dc - 1) / dc;
        if (_chunks.Length != count)
        {
            _chunks = new Chunk[count];
            for (int c = 0; c < count; c++) _chunks[c] = new Chunk(new MonarchFft<T>(Length, chunkEngine: true));
        }
        fixed (T* px = x, ps = spec, py = y)
        {
            var args = new ChunkArgs
            {
                Owner = this, X = px, Spec = ps, Y = py, Rows = rows, Batch = batch, D = d, M = m, Dc = dc, Accumulate = accumulate, Inverse = inverse,
                Packed = packed,
            };
            ParallelFor.Run(count, 1, in args, &ChunkRange);
        }
    }

    private unsafe struct ChunkArgs
    {
        public MonarchFft<T> Owner;
        public T* X, Spec, Y;
        public int Rows, Batch, D, M, Dc;
        public bool Accumulate, Inverse, Packed;
    }

    private static unsafe void ChunkRange(in ChunkArgs a, int start, int end)
    {
        int d = a.D, m = a.M, dc0 = a.Dc, rows = a.Rows, batch = a.Batch;
        long specRows = (long)a.Owner.N * batch;                // spectrum rows (k, b), each 2m wide
        long tokens = (long)batch * rows;
        for (int c = start; c < end; c++)
        {
            var chunk = a.Owner._chunks[c];
            int c0 = c * dc0, dc = Math.Min(dc0, m - c0);
            // packed: the chunk's tokens are [re(dc) | im(dc)], the imaginary parts from channels m + c0.. (imN of them)
            int width = a.Packed ? 2 * dc : dc, imN = a.Packed ? Math.Clamp(d - m - c0, 0, dc) : 0;
            var engine = chunk.Engine;
            long inLen = tokens * width, specLen = engine.SpectrumLength(batch, dc);
            var cs = Grow(ref chunk.Spec, specLen).AsSpan(0, (int)specLen);
            if (!a.Inverse)
            {
                var cx = Grow(ref chunk.X, inLen).AsSpan(0, (int)inLen);
                for (long r = 0; r < tokens; r++)
                {
                    var dst = cx.Slice((int)(r * width), width);
                    new ReadOnlySpan<T>(a.X + r * d + c0, dc).CopyTo(dst);
                    if (!a.Packed) continue;
                    new ReadOnlySpan<T>(a.X + r * d + m + c0, imN).CopyTo(dst[dc..]);
                    dst[(dc + imN)..].Clear();
                }
                if (a.Packed) engine.ForwardPacked(cx, rows, batch, width, cs);
                else engine.Forward(cx, rows, batch, dc, cs);
                for (long r = 0; r < specRows; r++)
                {
                    T* dst = a.Spec + r * 2 * m;
                    cs.Slice((int)(r * 2 * dc), dc).CopyTo(new Span<T>(dst + c0, dc));
                    cs.Slice((int)(r * 2 * dc + dc), dc).CopyTo(new Span<T>(dst + m + c0, dc));
                }
            }
            else
            {
                for (long r = 0; r < specRows; r++)
                {
                    T* src = a.Spec + r * 2 * m;
                    new ReadOnlySpan<T>(src + c0, dc).CopyTo(cs.Slice((int)(r * 2 * dc), dc));
                    new ReadOnlySpan<T>(src + m + c0, dc).CopyTo(cs.Slice((int)(r * 2 * dc + dc), dc));
                }
                var cy = Grow(ref chunk.Y, inLen).AsSpan(0, (int)inLen);
                if (a.Packed) engine.InversePacked(cs, rows, batch, width, cy, accumulate: false);
                else engine.Inverse(cs, rows, batch, dc, cy, accumulate: false);
                for (long r = 0; r < tokens; r++)
                {
                    Put(cy.Slice((int)(r * width), dc), new Span<T>(a.Y + r * d + c0, dc), a.Accumulate);
                    if (imN > 0) Put(cy.Slice((int)(r * width) + dc, imN), new Span<T>(a.Y + r * d + m + c0, imN), a.Accumulate);
                }
            }
        }
    }

    private static void Put(ReadOnlySpan<T> src, Span<T> dst, bool accumulate)
    {
        if (accumulate) System.Numerics.Tensors.TensorPrimitives.Add(dst, src, dst);
        else src.CopyTo(dst);
    }

    /// <summary>
    /// out[k, b, :] = a[k, b, :] · kernel[k, :] (complex, per channel; conj(kernel) when conjugateKernel): a and out
    /// [N, batch, 2d], kernel [N, 2d] (a one-entry spectrum). out may alias a. Element-wise, split over the workers by k.
    /// </summary>
    public static unsafe void MultiplyByKernel(ReadOnlySpan<T> a, ReadOnlySpan<T> kernel, Span<T> output, int n, int batch, int d, bool conjugateKernel)
    {
        fixed (T* pa = a, pk = kernel, po = output)
        {
            var args = new SpectrumArgs { A = pa, B = pk, Out = po, Batch = batch, D = d, Conjugate = conjugateKernel };
            ParallelFor.Run(n, Math.Max(1, 8192 / Math.Max(1, batch * 2 * d)), in args, &MultiplyRange);
        }
    }

    /// <summary>
    /// acc[k, :] += Σ_b conj(a[k, b, :]) · g[k, b, :]: a and g [N, batch, 2d], acc [N, 2d]. Split over the workers by k;
    /// each k sums its batch in order, so the result does not depend on the split.
    /// </summary>
    public static unsafe void AccumulateConjugateProducts(ReadOnlySpan<T> a, ReadOnlySpan<T> g, Span<T> acc, int n, int batch, int d)
    {
        fixed (T* pa = a, pg = g, pacc = acc)
        {
            var args = new SpectrumArgs { A = pa, B = pg, Out = pacc, Batch = batch, D = d };
            ParallelFor.Run(n, Math.Max(1, 8192 / Math.Max(1, batch * 2 * d)), in args, &AccumulateRange);
        }
    }

    private unsafe struct SpectrumArgs
    {
        public T* A, B, Out;
        public int Batch, D;
        public bool Conjugate;
    }

    private static unsafe void MultiplyRange(in SpectrumArgs s, int start, int end)
    {
        int d = s.D, w = Vector<T>.IsSupported ? Vector<T>.Count : int.MaxValue;
        for (int k = start; k < end; k++)
        {
            T* kr = s.B + (long)k * 2 * d, ki = kr + d;
            for (int b = 0; b < s.Batch; b++)
            {
                long o = ((long)k * s.Batch + b) * 2 * d;
                T* ar = s.A + o, ai = ar + d, outR = s.Out + o, outI = outR + d;
                int c = 0;
                for (; c + w <= d; c += w)
                {
                    var vr = Vector.Load(ar + c); var vi = Vector.Load(ai + c);
                    var br = Vector.Load(kr + c); var bi = Vector.Load(ki + c);
                    if (s.Conjugate) bi = -bi;
                    Vector.Store(vr * br - vi * bi, outR + c);
                    Vector.Store(vr * bi + vi * br, outI + c);
                }
                for (; c < d; c++)
                {
                    T xr = ar[c], xi = ai[c], yr = kr[c], yi = s.Conjugate ? -ki[c] : ki[c];
                    outR[c] = xr * yr - xi * yi;
                    outI[c] = xr * yi + xi * yr;
                }
            }
        }
    }

    private static unsafe void AccumulateRange(in SpectrumArgs s, int start, int end)
    {
        int d = s.D, w = Vector<T>.IsSupported ? Vector<T>.Count : int.MaxValue;
        for (int k = start; k < end; k++)
        {
            T* sr = s.Out + (long)k * 2 * d, si = sr + d;
            for (int b = 0; b < s.Batch; b++)
            {
                long o = ((long)k * s.Batch + b) * 2 * d;
                T* ar = s.A + o, ai = ar + d, gr = s.B + o, gi = gr + d;
                int c = 0;
                for (; c + w <= d; c += w)
                {
                    var vr = Vector.Load(ar + c); var vi = Vector.Load(ai + c);
                    var hr = Vector.Load(gr + c); var hi = Vector.Load(gi + c);
                    Vector.Store(Vector.Load(sr + c) + (vr * hr + vi * hi), sr + c);      // (ar − i ai)(gr + i gi)
                    Vector.Store(Vector.Load(si + c) + (vr * hi - vi * hr), si + c);
                }
                for (; c < d; c++)
                {
                    T xr = ar[c], xi = ai[c], yr = gr[c], yi = gi[c];
                    sr[c] += xr * yr + xi * yi;
                    si[c] += xr * yi - xi * yr;
                }
            }
        }
    }
}

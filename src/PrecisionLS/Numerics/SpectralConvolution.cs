using System.Numerics;
using MathNet.Numerics.IntegralTransforms;

namespace PrecisionLS.Numerics;

/// <summary>
/// Depthwise long convolution by FFT, the Monarch Mixer's fftconv (REFERENCE §2 M2), on token-major data
/// [batch, L, d], per channel c, with a kernel sequence k [kRows, d] laid out on the transform's circle:
/// <code>
/// y[b, t, c] = Σ_s k[(t − s) mod N, c] · x[b, s, c]          N ≥ 2L, so nothing wraps:
///   causal:        k rows 0..L-1 = lags 0..L-1               y_t = Σ_{s≤t} k[t−s] x_s
///   bidirectional: k rows N-m = kr[m-1], m = 1..L-1          y_t += Σ_{s>t} kr[s−t−1] x_s
/// </code>
/// computed as y = IDFT(DFT(x) ⊙ DFT(k)) / N on <see cref="MonarchFft{T}"/> (two GEMMs and a twiddle per transform),
/// or, with <c>plainFft</c>, on MathNet's FFT (complex double, one sequence at a time: the comparison path).
/// Forward keeps DFT(x) for the backward:
/// <code>
/// dx[s] = Σ_t k[(t − s) mod N]·dy[t] = IDFT(conj(DFT k) ⊙ DFT dy) / N
/// dk[j] = Σ_b Σ_t dy[t]·x[t − j]     = IDFT(Σ_b conj(DFT x_b) ⊙ DFT dy_b) / N   (one inverse for the whole batch)
/// </code>
/// Exact to rounding: no term wraps around, so the circular products equal the linear sums.
/// <para>
/// On the Monarch FFT the channels go two to a transform (channel c with channel m + c, m = ⌈d/2⌉:
/// <see cref="MonarchFft{T}.ForwardPacked"/>), and the products above are formed on the packed spectra by
/// <see cref="PackedSpectra{T}"/>: half the transforms' step-3 work and half the spectra's memory traffic. The kernel is
/// kept as its halves P, M (divided by N); dk's two channels of a pair come out of one packed inverse.
/// </para>
/// </summary>
public sealed class SpectralConvolution<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly bool _plain, _packed;
    private int[] _pairs = [];
    private MonarchFft<T>? _fft;
    private int _length = -1, _n, _batch, _d;
    private T[] _kSpec = [], _xSpec = [], _gSpec = [], _acc = [];
    private T[] _tSpec = [], _tkSpec = [];   // tangent: DFT(dx)·DFT(k)/N + DFT(x)·DFT(dk)/N, and DFT(dk)/N

    /// <param name="plainFft">Use MathNet's FFT instead of the Monarch factorisation (for comparison).</param>
    public SpectralConvolution(bool plainFft = false) : this(plainFft, packPairs: true) { }

    /// <param name="plainFft">Use MathNet's FFT instead of the Monarch factorisation (for comparison; never packed).</param>
    /// <param name="packPairs">On the Monarch FFT, transform two real channels as one complex one (false: one channel
    /// per complex transform, the unpacked path kept for comparison).</param>
    internal SpectralConvolution(bool plainFft, bool packPairs) { _plain = plainFft; _packed = packPairs && !plainFft; }

    /// <summary>True for the MathNet comparison path.</summary>
    public bool PlainFft => _plain;

    /// <summary>Transform size N (≥ 2L) for sequences of length L.</summary>
    public int SizeFor(int length)
    {
        Prepare(length);
        return _n;
    }

    /// <summary>Transform size of the current length (after <see cref="SetKernel"/>).</summary>
    public int N => _n;

    private void Prepare(int length)
    {
        if (length == _length) return;
        _length = length;
        if (_plain) { _fft = null; _n = 2 * length; }
        else
        {
            _fft = new MonarchFft<T>(length); _n = _fft.N;
            if (_packed) _pairs = PackedSpectra<T>.PairRows(_fft.MirrorRows);
        }
    }

    // Complex channels of a spectrum: m = ⌈d/2⌉ packed, d otherwise.
    private int Channels(int d) => _packed ? MonarchFft<T>.PackedChannels(d) : d;

    /// <summary>
    /// Sets the kernel for sequences of length L: k [kRows, d] row r = the tap at circular position r (rows past kRows
    /// are zero; kRows ≤ N). Stores DFT(k)/N (packed: its halves P/N and M/N for each pair of channels,
    /// <see cref="PackedSpectra{T}.KernelHalves"/>).
    /// </summary>
    public void SetKernel(ReadOnlySpan<T> k, int kRows, int d, int length)
    {
        Prepare(length);
        if (kRows > _n) throw new ArgumentOutOfRangeException(nameof(kRows), kRows, $"the kernel has more rows than the transform size {_n}");
        _d = d;
        T inv = T.One / T.CreateChecked(_n);
        if (_packed)
        {
            int m = Channels(d);
            var z = Grow(ref _acc, (long)_n * 2 * m).AsSpan(0, _n * 2 * m);
            _fft!.ForwardPacked(k, kRows, 1, d, z);
            PackedSpectra<T>.KernelHalves(z, Grow(ref _kSpec, (long)_n * 4 * m), _fft.MirrorRows, m, inv);
            return;
        }
        Grow(ref _kSpec, (long)_n * 2 * d);
        Transform(k, kRows, 1, d, _kSpec);
        System.Numerics.Tensors.TensorPrimitives.Multiply(_kSpec.AsSpan(0, _n * 2 * d), inv, _kSpec.AsSpan(0, _n * 2 * d));
    }

    /// <summary>y (+)= k ∗ x: x, y [batch, L, d] with L the kernel's length. Keeps DFT(x) for <see cref="Backward"/>.</summary>
    public void Forward(ReadOnlySpan<T> x, Span<T> y, int batch, bool accumulate)
    {
        if (_length < 0) throw new InvalidOperationException("SetKernel first");
        int d = _d, L = _length, m = Channels(d);
        long specLen = (long)_n * batch * 2 * m;
        Grow(ref _xSpec, specLen); Grow(ref _gSpec, specLen);
        _batch = batch;
        var xs = _xSpec.AsSpan(0, (int)specLen); var ys = _gSpec.AsSpan(0, (int)specLen);
        Transform(x, L, batch, d, xs);
        MultiplyByKernel(xs, _kSpec, ys, batch, conjugateKernel: false, add: false);
        InverseTransform(ys, L, batch, d, y, accumulate);
    }

    /// <summary>
    /// Backward of <see cref="Forward"/>: dx (+)= kᵀ ∗ dy; dk [kRows, d] is OVERWRITTEN with the kernel gradient
    /// summed over the batch (skipped when empty).
    /// </summary>
    public void Backward(ReadOnlySpan<T> dy, Span<T> dx, bool accumulateDx, Span<T> dk, int kRows)
    {
        int d = _d, L = _length, batch = _batch, m = Channels(d);
        long specLen = (long)_n * batch * 2 * m;
        var xs = _xSpec.AsSpan(0, (int)specLen); var gs = _gSpec.AsSpan(0, (int)specLen);
        Transform(dy, L, batch, d, gs);
        if (!dk.IsEmpty)
        {
            var acc = Grow(ref _acc, (long)_n * 2 * m).AsSpan(0, _n * 2 * m);
            T inv = T.One / T.CreateChecked(_n);
            if (_packed) PackedSpectra<T>.AccumulateConjugateProducts(xs, gs, acc, _fft!.MirrorRows, _pairs, batch, m, inv);
            else
            {
                acc.Clear();
                MonarchFft<T>.AccumulateConjugateProducts(xs, gs, acc, _n, batch, d);
                System.Numerics.Tensors.TensorPrimitives.Multiply(acc, inv, acc);
            }
            InverseTransform(acc, kRows, 1, d, dk, accumulate: false);
        }
        MultiplyByKernel(gs, _kSpec, gs, batch, conjugateKernel: true, add: false);
        InverseTransform(gs, L, batch, d, dx, accumulateDx);
    }

    /// <summary>
    /// Forward-mode tangent of <see cref="Forward"/> at its point (the convolution is bilinear in x and k):
    /// <code>
    /// dy (+)= k ∗ dx + dk ∗ x = IDFT(DFT(dx) ⊙ DFT(k) + DFT(x) ⊙ DFT(dk)) / N
    /// </code>
    /// dx [batch, L, d] (empty: zero), dk [dkRows, d] on the same circle as <see cref="SetKernel"/>'s k (empty: zero),
    /// with batch and L those of the last Forward. One inverse transform for both terms; reads the kept DFT(x) and
    /// DFT(k)/N and writes neither (its own spectra), so a later <see cref="Backward"/> is unchanged.
    /// </summary>
    public void ForwardTangent(ReadOnlySpan<T> dx, ReadOnlySpan<T> dk, int dkRows, Span<T> dy, bool accumulate)
    {
        if (_length < 0 || _batch == 0) throw new InvalidOperationException("ForwardTangent needs a Forward first");
        int d = _d, L = _length, batch = _batch;
        if (!dx.IsEmpty && dx.Length < (long)batch * L * d) throw new ArgumentException($"dx holds {dx.Length} values, [{batch}, {L}, {d}] needs {(long)batch * L * d}", nameof(dx));
        if (!dk.IsEmpty && (dkRows < 1 || dkRows > _n || dk.Length < (long)dkRows * d)) throw new ArgumentException($"dk must hold [{dkRows}, {d}] with 1 ≤ rows ≤ N = {_n}", nameof(dk));
        if (dx.IsEmpty && dk.IsEmpty)
        {
            if (!accumulate) dy[..(batch * L * d)].Clear();
            return;
        }
        int m = Channels(d);
        long specLen = (long)_n * batch * 2 * m;
        var ts = Grow(ref _tSpec, specLen).AsSpan(0, (int)specLen);
        if (!dx.IsEmpty)
        {
            Transform(dx, L, batch, d, ts);
            MultiplyByKernel(ts, _kSpec, ts, batch, conjugateKernel: false, add: false);   // DFT(dx)·DFT(k)/N
        }
        if (!dk.IsEmpty)
        {
            T inv = T.One / T.CreateChecked(_n);
            var xs = _xSpec.AsSpan(0, (int)specLen);
            if (_packed)
            {
                var z = Grow(ref _acc, (long)_n * 2 * m).AsSpan(0, _n * 2 * m);
                _fft!.ForwardPacked(dk, dkRows, 1, d, z);
                var tk = Grow(ref _tkSpec, (long)_n * 4 * m).AsSpan(0, _n * 4 * m);
                PackedSpectra<T>.KernelHalves(z, tk, _fft.MirrorRows, m, inv);
                MultiplyByKernel(xs, tk, ts, batch, conjugateKernel: false, add: !dx.IsEmpty);   // + DFT(x)·DFT(dk)/N
            }
            else
            {
                var tk = Grow(ref _tkSpec, (long)_n * 2 * d).AsSpan(0, _n * 2 * d);
                Transform(dk, dkRows, 1, d, tk);
                System.Numerics.Tensors.TensorPrimitives.Multiply(tk, inv, tk);
                MultiplyAddByKernel(xs, tk, ts, _n, batch, d, add: !dx.IsEmpty);   // + DFT(x)·DFT(dk)/N
            }
        }
        InverseTransform(ts, L, batch, d, dy, accumulate);
    }

    // out = a · kernel per frequency and channel: packed (PackedSpectra, kernel [N, 4m] halves, out may be a; add: out +=)
    // or unpacked (kernel [N, 2d]; out may be a when not adding).
    private void MultiplyByKernel(ReadOnlySpan<T> a, ReadOnlySpan<T> kernel, Span<T> output, int batch, bool conjugateKernel, bool add)
    {
        if (_packed) PackedSpectra<T>.MultiplyByKernel(a, kernel, output, _fft!.MirrorRows, _pairs, batch, Channels(_d), conjugateKernel, add);
        else if (add) MultiplyAddByKernel(a, kernel, output, _n, batch, _d, add: true);
        else MonarchFft<T>.MultiplyByKernel(a, kernel, output, _n, batch, _d, conjugateKernel);
    }

    // out[k, b, :] (+)= a[k, b, :] · kernel[k, :] (complex, per channel): a and out [N, batch, 2d], kernel [N, 2d].
    private static void MultiplyAddByKernel(ReadOnlySpan<T> a, ReadOnlySpan<T> kernel, Span<T> output, int n, int batch, int d, bool add)
    {
        for (int k = 0; k < n; k++)
        {
            var kr = kernel.Slice(k * 2 * d, d); var ki = kernel.Slice(k * 2 * d + d, d);
            for (int b = 0; b < batch; b++)
            {
                int o = (k * batch + b) * 2 * d;
                for (int c = 0; c < d; c++)
                {
                    T ar = a[o + c], ai = a[o + d + c], br = kr[c], bi = ki[c];
                    T re = ar * br - ai * bi, im = ar * bi + ai * br;
                    output[o + c] = add ? output[o + c] + re : re;
                    output[o + d + c] = add ? output[o + d + c] + im : im;
                }
            }
        }
    }

    /// <summary>
    /// Multiply-adds of one forward: the transforms' GEMMs (about N·(n2 + 4·n1) per channel each, two per forward; packed,
    /// step 1 is unchanged and step 3 is shared by a pair: N·(n2 + 2·n1) per real channel) and the product.
    /// </summary>
    public long ForwardMultiplyAdds(int batch, int length, int d)
    {
        if (_plain) { long n = 2L * length; return batch * (long)d * (2 * 5 * n * (long)Math.Ceiling(Math.Log2(n)) / 2 + 4 * n); }
        var f = _fft is not null && _length == length ? _fft : new MonarchFft<T>(length);
        long perTransform = (long)f.N * (f.N2 + (_packed ? 2L : 4L) * f.N1);
        return batch * (long)d * (2 * perTransform + 4L * f.N);
    }

    private void Transform(ReadOnlySpan<T> x, int rows, int batch, int d, Span<T> spec)
    {
        if (_packed) { _fft!.ForwardPacked(x, rows, batch, d, spec); return; }
        if (!_plain) { _fft!.Forward(x, rows, batch, d, spec); return; }
        var buf = new Complex[_n];
        for (int b = 0; b < batch; b++)
            for (int c = 0; c < d; c++)
            {
                Array.Clear(buf);
                for (int t = 0; t < rows; t++) buf[t] = new Complex(double.CreateChecked(x[(b * rows + t) * d + c]), 0);
                Fourier.Forward(buf, FourierOptions.NoScaling);
                for (int k = 0; k < _n; k++)
                {
                    spec[(k * batch + b) * 2 * d + c] = T.CreateChecked(buf[k].Real);
                    spec[(k * batch + b) * 2 * d + d + c] = T.CreateChecked(buf[k].Imaginary);
                }
            }
    }

    private void InverseTransform(Span<T> spec, int rowsOut, int batch, int d, Span<T> y, bool accumulate)
    {
        if (_packed) { _fft!.InversePacked(spec, rowsOut, batch, d, y, accumulate); return; }
        if (!_plain) { _fft!.Inverse(spec, rowsOut, batch, d, y, accumulate); return; }
        var buf = new Complex[_n];
        for (int b = 0; b < batch; b++)
            for (int c = 0; c < d; c++)
            {
                for (int k = 0; k < _n; k++)
                    buf[k] = new Complex(double.CreateChecked(spec[(k * batch + b) * 2 * d + c]), double.CreateChecked(spec[(k * batch + b) * 2 * d + d + c]));
                Fourier.Inverse(buf, FourierOptions.NoScaling);
                for (int t = 0; t < rowsOut; t++)
                {
                    T v = T.CreateChecked(buf[t].Real);
                    ref T dst = ref y[(b * rowsOut + t) * d + c];
                    dst = accumulate ? dst + v : v;
                }
            }
    }

    private static T[] Grow(ref T[] buffer, long length)
    {
        if (buffer.Length < length) buffer = new T[length];
        return buffer;
    }
}

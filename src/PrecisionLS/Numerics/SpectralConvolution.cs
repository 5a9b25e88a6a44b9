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
/// </summary>
public sealed class SpectralConvolution<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly bool _plain;
    private MonarchFft<T>? _fft;
    private int _length = -1, _n, _batch, _d;
    private T[] _kSpec = [], _xSpec = [], _gSpec = [], _acc = [];

    /// <param name="plainFft">Use MathNet's FFT instead of the Monarch factorisation (for comparison).</param>
    public SpectralConvolution(bool plainFft = false) { _plain = plainFft; }

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
        else { _fft = new MonarchFft<T>(length); _n = _fft.N; }
    }

    /// <summary>
    /// Sets the kernel for sequences of length L: k [kRows, d] row r = the tap at circular position r (rows past kRows
    /// are zero; kRows ≤ N). Stores DFT(k)/N.
    /// </summary>
    public void SetKernel(ReadOnlySpan<T> k, int kRows, int d, int length)
    {
        Prepare(length);
        if (kRows > _n) throw new ArgumentOutOfRangeException(nameof(kRows), kRows, $"the kernel has more rows than the transform size {_n}");
        _d = d;
        Grow(ref _kSpec, (long)_n * 2 * d);
        Transform(k, kRows, 1, d, _kSpec);
        T inv = T.One / T.CreateChecked(_n);
        System.Numerics.Tensors.TensorPrimitives.Multiply(_kSpec.AsSpan(0, _n * 2 * d), inv, _kSpec.AsSpan(0, _n * 2 * d));
    }

    /// <summary>y (+)= k ∗ x: x, y [batch, L, d] with L the kernel's length. Keeps DFT(x) for <see cref="Backward"/>.</summary>
    public void Forward(ReadOnlySpan<T> x, Span<T> y, int batch, bool accumulate)
    {
        if (_length < 0) throw new InvalidOperationException("SetKernel first");
        int d = _d, L = _length;
        long specLen = (long)_n * batch * 2 * d;
        Grow(ref _xSpec, specLen); Grow(ref _gSpec, specLen);
        _batch = batch;
        var xs = _xSpec.AsSpan(0, (int)specLen); var ys = _gSpec.AsSpan(0, (int)specLen);
        Transform(x, L, batch, d, xs);
        MonarchFft<T>.MultiplyByKernel(xs, _kSpec, ys, _n, batch, d, conjugateKernel: false);
        InverseTransform(ys, L, batch, d, y, accumulate);
    }

    /// <summary>
    /// Backward of <see cref="Forward"/>: dx (+)= kᵀ ∗ dy; dk [kRows, d] is OVERWRITTEN with the kernel gradient
    /// summed over the batch (skipped when empty).
    /// </summary>
    public void Backward(ReadOnlySpan<T> dy, Span<T> dx, bool accumulateDx, Span<T> dk, int kRows)
    {
        int d = _d, L = _length, batch = _batch;
        long specLen = (long)_n * batch * 2 * d;
        var xs = _xSpec.AsSpan(0, (int)specLen); var gs = _gSpec.AsSpan(0, (int)specLen);
        Transform(dy, L, batch, d, gs);
        if (!dk.IsEmpty)
        {
            var acc = Grow(ref _acc, (long)_n * 2 * d).AsSpan(0, _n * 2 * d);
            acc.Clear();
            MonarchFft<T>.AccumulateConjugateProducts(xs, gs, acc, _n, batch, d);
            T inv = T.One / T.CreateChecked(_n);
            System.Numerics.Tensors.TensorPrimitives.Multiply(acc, inv, acc);
            InverseTransform(acc, kRows, 1, d, dk, accumulate: false);
        }
        MonarchFft<T>.MultiplyByKernel(gs, _kSpec, gs, _n, batch, d, conjugateKernel: true);
        InverseTransform(gs, L, batch, d, dx, accumulateDx);
    }

    /// <summary>Multiply-adds of one forward per (entry, channel): the transforms' GEMMs (about N·(n2 + 4·n1) each, two per forward) and the product.</summary>
    public long ForwardMultiplyAdds(int batch, int length, int d)
    {
        if (_plain) { long n = 2L * length; return batch * (long)d * (2 * 5 * n * (long)Math.Ceiling(Math.Log2(n)) / 2 + 4 * n); }
        var f = _fft is not null && _length == length ? _fft : new MonarchFft<T>(length);
        long perTransform = (long)f.N * (f.N2 + 4L * f.N1);
        return batch * (long)d * (2 * perTransform + 4L * f.N);
    }

    private void Transform(ReadOnlySpan<T> x, int rows, int batch, int d, Span<T> spec)
    {
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

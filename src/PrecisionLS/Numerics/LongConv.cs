using System.Numerics;

namespace PrecisionLS.Numerics;

/// <summary>
/// The long convolution of BaseConv (the authors' fft_conv with gelu off) as a direct sum, per channel c, on
/// token-major data [batch, length, channels], with a filter h of <c>taps</c> lags (lags at or past taps read zero):
/// <code>
/// causal (FFT size 2L, linear):    y[b,t,c] = Σ_{j=0..t}   h[j,c]·x[b, t-j, c]          (+ x[b,t,c] when resid)
/// non-causal (FFT size L, circular): y[b,t,c] = Σ_{j=0..L-1} h[j,c]·x[b, (t-j) mod L, c]  (+ x[b,t,c] when resid)
/// </code>
/// (REFERENCE §2 BaseConv long conv; fixtures conv_long_*: the FFT's scaling cancels, so this is a plain,
/// unnormalised convolution; non-causal is circular, not centred.)
/// </summary>
/// <remarks>
/// Both are a full-length Toeplitz map, so they run on <see cref="DepthwiseConv"/> (register-tiled, SIMD, threaded,
/// gate fused) with an unrolled kernel w of K taps, y[t] = Σ_{j'} w[j']·x[t + j' - pad]:
/// causal: K = L, pad = L-1, w[j'] = h[L-1-j'] (lag j = L-1-j'); circular: K = 2L-1, pad = L-1 and the lag of
/// tap j' is (pad - j') mod L, i.e. L-1-j' for j' &lt;= L-1 and 2L-1-j' above: the circulant matrix written as one
/// two-sided kernel, with the wrapped lags on the anticausal side. Each output then sums exactly L (circular) or
/// t+1 (causal) products, as a direct circular or causal sum would; for the sequence lengths of this project
/// (L &lt;= ~100) the direct sum is faster than an FFT and exact to rounding (no 1/n scaling or twiddle error).
/// The unrolled kernel depends on L, so it is rebuilt for every call (O(L·channels)).
/// hT, the filter, is lag-major [taps, channels] (the transpose of PyTorch's (d, l_max) filter).
/// </remarks>
public static class LongConv
{
    /// <summary>The <see cref="DepthwiseConv.Shape"/> that computes the long convolution of a length-L sequence.</summary>
    public static DepthwiseConv.Shape ShapeFor(int batch, int length, int channels, bool causal, bool resid, int inStride = 0, int outStride = 0)
    {
        if (length < 1) throw new ArgumentOutOfRangeException(nameof(length), length, "the sequence length must be at least 1");
        int kernel = causal ? length : 2 * length - 1;
        return new DepthwiseConv.Shape(batch, length, channels, kernel, length - 1, resid, inStride, outStride);
    }

    /// <summary>Lag of the unrolled tap j' (K = L causal, 2L-1 circular; pad L-1): (L-1-j') mod L.</summary>
    public static int LagOf(int tap, int length) => tap <= length - 1 ? length - 1 - tap : 2 * length - 1 - tap;

    /// <summary>
    /// Builds the unrolled tap-major kernel wT [K, channels] of a length-L convolution from the lag-major filter
    /// hT [taps, channels]: wT[j'] = h[lag(j')] where lag &lt; taps, else 0. Overwrites wT[..K·channels].
    /// </summary>
    public static void Unroll<T>(ReadOnlySpan<T> hT, int taps, Span<T> wT, int channels, int length, bool causal) where T : INumber<T>
    {
        int kernel = causal ? length : 2 * length - 1;
        if (taps < 0) throw new ArgumentOutOfRangeException(nameof(taps), taps, "the filter's tap count cannot be negative");
        if (hT.Length < (long)taps * channels) throw new ArgumentException($"hT holds {hT.Length} values, {taps} taps of {channels} channels need {(long)taps * channels}", nameof(hT));
        if (wT.Length < (long)kernel * channels) throw new ArgumentException($"wT holds {wT.Length} values, the unrolled kernel needs {(long)kernel * channels}", nameof(wT));
        for (int j = 0; j < kernel; j++)
        {
            int lag = LagOf(j, length);
            var row = wT.Slice(j * channels, channels);
            if (lag < taps) hT.Slice(lag * channels, channels).CopyTo(row);
            else row.Clear();
        }
    }

    /// <summary>
    /// The gradient of <see cref="Unroll{T}"/>: dhT[lag(j')] += dwT[j'] for the lags below taps (lags at or past
    /// taps, and past L-1, get nothing: those filter taps never touch the data).
    /// </summary>
    public static void Fold<T>(ReadOnlySpan<T> dwT, Span<T> dhT, int taps, int channels, int length, bool causal) where T : INumber<T>
    {
        int kernel = causal ? length : 2 * length - 1;
        if (dwT.Length < (long)kernel * channels) throw new ArgumentException($"dwT holds {dwT.Length} values, the unrolled kernel needs {(long)kernel * channels}", nameof(dwT));
        if (dhT.Length < (long)taps * channels) throw new ArgumentException($"dhT holds {dhT.Length} values, {taps} taps of {channels} channels need {(long)taps * channels}", nameof(dhT));
        for (int j = 0; j < kernel; j++)
        {
            int lag = LagOf(j, length);
            if (lag >= taps) continue;
            System.Numerics.Tensors.TensorPrimitives.Add(dhT.Slice(lag * channels, channels), dwT.Slice(j * channels, channels), dhT.Slice(lag * channels, channels));
        }
    }

    /// <summary>Reference forward: the formula as a plain loop over contiguous rows (no gate, no threads), for tests.</summary>
    public static void ForwardReference<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> hT, int taps, Span<T> y, int batch, int length, int channels,
        bool causal, bool resid) where T : INumber<T>
    {
        int C = channels, L = length;
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < L; t++)
                for (int c = 0; c < C; c++)
                {
                    T acc = T.Zero;
                    for (int j = 0; j < Math.Min(taps, L); j++)
                    {
                        int src = t - j;
                        if (src < 0) { if (causal) break; src += L; }
                        acc += hT[j * C + c] * x[(b * L + src) * C + c];
                    }
                    if (resid) acc += x[(b * L + t) * C + c];
                    y[(b * L + t) * C + c] = acc;
                }
    }
}

using System.Numerics;
using PrecisionLS.Numerics;

namespace PrecisionLS.Nn;

/// <summary>
/// The authors' ImplicitLongConvolution (conv_type implicit; REFERENCE §2 BaseConv, fixtures conv_implicit_*): the
/// long convolution of <see cref="LongConvolution{T}"/> with a filter computed each forward by a small MLP of fixed
/// positional features:
/// <code>
/// z[i]   = [t_i, cos(f_k w_i)..., -sin(f_k w_i)...],  t_i = i/(l_max-1), w_i = 2π i/l_max   (i &lt; l_max; l_max, not L)
/// k      = mlp.2(relu(mlp.0(z[:L])))        [L', d], L' = min(L, l_max)
/// filter = kᵀ                                (d, L')  (lag-major k is exactly the filter the convolution reads)
/// y      = filter ∗ x (+ x)                  causal (linear) or non-causal (circular), as the long conv
/// </code>
/// With d_emb = 3 (the authors' default and the only value BaseConv passes) there is one band, f = 1e-4.
/// Parameters in the authors' order: "{name}.pos_emb.z" [1, l_max, d_emb] (an nn.Parameter with requires_grad=False:
/// registered non-trainable, filled by <see cref="InitializePositionalFeatures"/>), "{name}.mlp.0.weight"
/// [d_hidden, d_emb], "{name}.mlp.0.bias", "{name}.mlp.2.weight" [d, d_hidden], "{name}.mlp.2.bias".
/// </summary>
public sealed class ImplicitLongConvolution<T> : IConvolution<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ParameterStore<T> _store;
    private readonly FilterConvolution<T> _conv;
    // Forward caches, l_max rows at most: pre-activation h = mlp.0(z), a = relu(h), k = mlp.2(a) (the filter, lag-major).
    private readonly T[] _h, _a, _k;
    private readonly T[] _dk, _da;       // backward scratch
    private readonly T[] _tk, _th;       // tangent scratch: dk [L', d], dh then da [L', d_hidden]
    private int _lastTaps = -1;

    public ImplicitLongConvolution(ParameterStore<T> store, string name, int channels, int lMax, bool causal, bool resid,
        int dEmb = 3, int dHidden = 16)
    {
        if (channels < 1) throw new ArgumentOutOfRangeException(nameof(channels), channels, "the channel count must be at least 1");
        if (lMax < 1) throw new ArgumentOutOfRangeException(nameof(lMax), lMax, "l_max (n_positions) must be at least 1");
        if (dEmb < 3 || dEmb % 2 == 0) throw new ArgumentOutOfRangeException(nameof(dEmb), dEmb, "d_emb must be odd and at least 3 (time, cosine and sine)");
        if (dHidden < 1) throw new ArgumentOutOfRangeException(nameof(dHidden), dHidden, "d_hidden must be at least 1");
        _store = store;
        Channels = channels; LMax = lMax; Causal = causal; Resid = resid; DEmb = dEmb; DHidden = dHidden;
        PositionalFeatures = store.Add(name + ".pos_emb.z", [1, lMax, dEmb], trainable: false);
        Mlp0 = new Linear<T>(store, name + ".mlp.0", dEmb, dHidden);
        Mlp2 = new Linear<T>(store, name + ".mlp.2", dHidden, channels);
        _h = new T[lMax * dHidden]; _a = new T[lMax * dHidden]; _da = new T[lMax * dHidden];
        _k = new T[lMax * channels]; _dk = new T[lMax * channels];
        _tk = new T[lMax * channels]; _th = new T[lMax * dHidden];
        _conv = new FilterConvolution<T>(channels, causal, resid);
    }

    public int Channels { get; }
    /// <summary>l_max (= n_positions): the length the positional features are built for.</summary>
    public int LMax { get; }
    public bool Causal { get; }
    public bool Resid { get; }
    /// <summary>Positional feature width d_emb (odd, &gt;= 3).</summary>
    public int DEmb { get; }
    /// <summary>Hidden width of the filter MLP (16 in the paper).</summary>
    public int DHidden { get; }
    /// <summary>"{name}.pos_emb.z" [1, l_max, d_emb], frozen.</summary>
    public Parameter PositionalFeatures { get; }
    /// <summary>"{name}.mlp.0": Linear(d_emb, d_hidden).</summary>
    public Linear<T> Mlp0 { get; }
    /// <summary>"{name}.mlp.2": Linear(d_hidden, d).</summary>
    public Linear<T> Mlp2 { get; }

    /// <summary>
    /// Writes the authors' PositionalEmbedding(d_emb, l_max).z into z [1, l_max, d_emb]: per row i,
    /// [t_i, cos(f_k w_i) for each band k, -sin(f_k w_i) for each band k] with t = torch.linspace(0, 1, l_max),
    /// w_i = 2π i / l_max and f = torch.linspace(1e-4, bands-1, bands), bands = (d_emb-1)/2 (so f = [1e-4] for
    /// d_emb = 3). Computed in float64 (torch's linspace formula, so t matches it bit for bit), then rounded to T.
    /// </summary>
    public static void FillPositionalFeatures(Span<T> z, int lMax, int dEmb = 3)
    {
        if (z.Length != lMax * dEmb) throw new ArgumentException($"z holds {z.Length} values, [1, {lMax}, {dEmb}] needs {lMax * dEmb}", nameof(z));
        int bands = (dEmb - 1) / 2;
        for (int i = 0; i < lMax; i++)
        {
            var row = z.Slice(i * dEmb, dEmb);
            row[0] = T.CreateChecked(TorchLinspace(0.0, 1.0, lMax, i));
            double w = 2 * Math.PI * i / lMax;   // Python: 2 * math.pi * t_rescaled / seq_len, t_rescaled = i exactly
            for (int k = 0; k < bands; k++)
            {
                double theta = TorchLinspace(1e-4, bands - 1, bands, k) * w;
                row[1 + k] = T.CreateChecked(Math.Cos(theta));            // Re exp(-i f w)
                row[1 + bands + k] = T.CreateChecked(-Math.Sin(theta));   // Im exp(-i f w)
            }
        }
    }

    /// <summary>Fills this layer's "pos_emb.z" in the store (once, after the store is allocated; checkpoints keep it).</summary>
    public void InitializePositionalFeatures() => FillPositionalFeatures(_store.Value(PositionalFeatures), LMax, DEmb);

    // torch.linspace(start, end, steps)[i] as ATen computes it: the first half counts up from start, the second
    // half down from end.
    private static double TorchLinspace(double start, double end, int steps, int i)
    {
        if (steps == 1) return start;
        double step = (end - start) / (steps - 1);
        return i < steps / 2 ? start + step * i : end - step * (steps - i - 1);
    }

    /// <summary>Filter taps a length-L forward uses: min(L, l_max).</summary>
    public int TapsFor(int length) => Math.Min(length, LMax);

    /// <summary>
    /// Copies the filter of the last forward into dst in PyTorch layout (d, L'), L' = min(L, l_max) (the fixtures'
    /// aux output "filter").
    /// </summary>
    public void CopyFilter(Span<T> dst)
    {
        if (_lastTaps < 0) throw new InvalidOperationException("no forward has run yet");
        int taps = _lastTaps, C = Channels;
        if (dst.Length < taps * C) throw new ArgumentException($"dst holds {dst.Length} values, the filter ({C}, {taps}) needs {taps * C}", nameof(dst));
        for (int c = 0; c < C; c++)
            for (int j = 0; j < taps; j++) dst[c * taps + j] = _k[j * C + c];
    }

    /// <summary>filter = MLP(z[:L])ᵀ, then y = filter ∗ x (+ x) and g = y·gate when gated. Rows as in <see cref="IConvolution{T}"/>.</summary>
    public void Forward(ReadOnlySpan<T> x, Span<T> y, ReadOnlySpan<T> gate, Span<T> g, int batch, int length, int inStride = 0, int outStride = 0)
    {
        int taps = TapsFor(length), H = DHidden;
        var z = _store.Value(PositionalFeatures)[..(taps * DEmb)];
        var h = _h.AsSpan(0, taps * H); var a = _a.AsSpan(0, taps * H); var k = _k.AsSpan(0, taps * Channels);
        Mlp0.Forward(z, h, taps);                                        // h = z W0ᵀ + b0      [L', d_hidden]
        System.Numerics.Tensors.TensorPrimitives.Max(h, T.Zero, a);      // a = relu(h)
        Mlp2.Forward(a, k, taps);                                        // k = a W2ᵀ + b2      [L', d] = filterᵀ
        _conv.Forward(k, taps, x, y, gate, g, batch, length, inStride, outStride);
        _lastTaps = taps;
    }

    /// <summary>
    /// Backward: through the convolution into dx and dk = dfilterᵀ, then k = mlp.2(a): dW2, db2, da = dk W2;
    /// a = relu(h): dh = da·[h &gt; 0]; h = mlp.0(z): dW0, db0 (z is frozen: no gradient). Needs Forward's length.
    /// </summary>
    public void Backward(ReadOnlySpan<T> x, ReadOnlySpan<T> dOut, ReadOnlySpan<T> gate, ReadOnlySpan<T> y, Span<T> dGate, Span<T> dx,
        int batch, int length, int inStride = 0, int outStride = 0, bool accumulateDx = true)
    {
        int taps = TapsFor(length), H = DHidden;
        if (taps != _lastTaps) throw new InvalidOperationException($"backward for length {length}, but the last forward used {_lastTaps} filter taps");
        var dk = _dk.AsSpan(0, taps * Channels);
        _conv.Backward(x, dOut, gate, y, dGate, dx, dk, batch, length, inStride, outStride, accumulateDx);
        var z = _store.Value(PositionalFeatures)[..(taps * DEmb)];
        var h = _h.AsSpan(0, taps * H); var da = _da.AsSpan(0, taps * H);
        Mlp2.Backward(_a.AsSpan(0, taps * H), dk, da, taps, accumulateDx: false);   // k = a W2ᵀ + b2
        for (int i = 0; i < da.Length; i++) if (!(h[i] > T.Zero)) da[i] = T.Zero;   // a = relu(h); PyTorch: 0 at h = 0
        Mlp0.Backward(z, da, default, taps);                                         // h = z W0ᵀ + b0
    }

    /// <summary>
    /// Forward-mode tangent (ungated): the filter's tangent through its MLP (z is frozen), dh = mlp.0'(z; v),
    /// da = dh·[h &gt; 0], dk = mlp.2'(a; da, v), then dy = k ∗ dx (+ dx) + dk ∗ x. Rows as in
    /// <see cref="IConvolution{T}.ForwardTangent"/>; overwrites dy. Needs Forward's length.
    /// </summary>
    public void ForwardTangent(ReadOnlySpan<T> x, ReadOnlySpan<T> dx, ReadOnlySpan<T> v, Span<T> dy, int batch, int length, int inStride = 0)
    {
        int taps = TapsFor(length), H = DHidden;
        if (taps != _lastTaps) throw new InvalidOperationException($"tangent for length {length}, but the last forward used {_lastTaps} filter taps");
        var z = _store.Value(PositionalFeatures)[..(taps * DEmb)];
        var h = _h.AsSpan(0, taps * H); var dh = _th.AsSpan(0, taps * H); var dk = _tk.AsSpan(0, taps * Channels);
        Mlp0.ForwardTangent(z, default, v, dh, taps);                                // h = z W0ᵀ + b0: dh = z dW0ᵀ + db0
        for (int i = 0; i < dh.Length; i++) if (!(h[i] > T.Zero)) dh[i] = T.Zero;    // a = relu(h): da = dh·[h > 0]
        Mlp2.ForwardTangent(_a.AsSpan(0, taps * H), dh, v, dk, taps);               // k = a W2ᵀ + b2: dk = da W2ᵀ + a dW2ᵀ + db2
        _conv.ForwardTangent(dk, taps, x, dx, dy, batch, length, inStride);
    }

    /// <summary>Multiply-adds: the filter MLP over L' = min(L, l_max) positions plus the long convolution.</summary>
    public long ForwardMultiplyAdds(int batch, int length)
    {
        int taps = TapsFor(length);
        return Mlp0.MultiplyAdds(taps) + Mlp2.MultiplyAdds(taps) + LongConv.ShapeFor(batch, length, Channels, Causal, Resid).MultiplyAdds;
    }
}

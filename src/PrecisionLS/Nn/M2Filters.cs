using System.Numerics;
using PrecisionLS.Numerics;

namespace PrecisionLS.Nn;

/// <summary>
/// A long-convolution filter of the M2 sequence mixer: produces the lag-major taps k [taps, d] (k[j, c] multiplies
/// the input j tokens back in channel c) for a sequence of length L, taps = min(L, l_max), and takes their gradient.
/// </summary>
public interface IM2Filter<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Channels d.</summary>
    int Channels { get; }
    /// <summary>l_max (model.n_positions).</summary>
    int LMax { get; }
    /// <summary>kT [taps, d] = the filter's first taps lags; overwrites kT.</summary>
    void Compute(int taps, Span<T> kT);
    /// <summary>Given dL/dkT [taps, d] (for the taps of the last Compute), adds the parameter gradients.</summary>
    void Backward(ReadOnlySpan<T> dkT, int taps);
    /// <summary>Multiply-adds of one Compute.</summary>
    long MultiplyAdds(int taps);
}

/// <summary>
/// An explicit filter: the taps are the parameter "{name}" [d, l_max] itself (PyTorch layout, channel-major; the m2
/// fixture's "k"), of which the first min(L, l_max) lags are used.
/// </summary>
public sealed class ExplicitM2Filter<T> : IM2Filter<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ParameterStore<T> _store;

    public ExplicitM2Filter(ParameterStore<T> store, string name, int channels, int lMax)
    {
        _store = store; Channels = channels; LMax = lMax;
        Filter = store.Add(name, [channels, lMax]);
    }

    public int Channels { get; }
    public int LMax { get; }
    /// <summary>The filter [d, l_max].</summary>
    public Parameter Filter { get; }

    public void Compute(int taps, Span<T> kT)
    {
        var f = _store.Value(Filter);
        int C = Channels;
        for (int c = 0; c < C; c++)
            for (int j = 0; j < taps; j++) kT[j * C + c] = f[c * LMax + j];
    }

    public void Backward(ReadOnlySpan<T> dkT, int taps)
    {
        if (!Filter.Trainable) return;
        var g = _store.Grad(Filter);
        int C = Channels;
        for (int c = 0; c < C; c++)
            for (int j = 0; j < taps; j++) g[c * LMax + j] += dkT[j * C + c];
    }

    public long MultiplyAdds(int taps) => 0;
}

/// <summary>
/// The Hyena implicit filter of Monarch Mixer (m2's HyenaFilter with num_inner_mlps = 2, modulate = True,
/// normalized = False; REFERENCE §2 M2):
/// <code>
/// z[i]  = [t_i, cos(f_k w_i)..., −sin(f_k w_i)...], t_i = i/(l_max−1), w_i = 2π i/l_max   (positional features, frozen)
/// a0 = sin(freq ⊙ (z W0ᵀ + b0)),  a1 = sin(freq ⊙ (a0 W2ᵀ + b2)),  a2 = sin(freq ⊙ (a1 W4ᵀ + b4))   [taps, order]
/// h  = a2 W6ᵀ                                  [taps, d]   (no bias)
/// k[i, c] = h[i, c] · exp(−t_i·|δ_c|)           exponential decay modulation, δ = linspace(ln(1e−2)/1.5, ln(1e−2)/0.3, d) (frozen)
/// </code>
/// One Sin module (one "freq" [1, order], initialised to w = 1) is shared by the three activations, as in the m2 code
/// where the same module object is appended three times. Parameters under "{name}": implicit_filter.0/2/4.weight and
/// .bias, implicit_filter.1.freq, implicit_filter.6.weight, and the frozen pos_emb.z [1, l_max, emb], pos_emb.t
/// [1, l_max, 1], modulation.deltas [1, 1, d]. (m2 registers pos_emb.z with a small learning rate; here it is frozen,
/// like the BaseConv implicit filter's.)
/// </summary>
public sealed class HyenaM2Filter<T> : IM2Filter<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ParameterStore<T> _store;
    private readonly Linear<T>[] _lin;          // implicit_filter.0, .2, .4
    private readonly Linear<T> _out;            // implicit_filter.6 (no bias)
    // Forward caches per layer: pre-activation p = f·h (the sin argument) and a = sin(p), [l_max, order].
    private readonly T[][] _h, _a;
    private readonly T[] _hk;                   // h before the modulation [l_max, d]
    private readonly T[] _dh, _da, _dk;
    private int _lastTaps = -1;

    public HyenaM2Filter(ParameterStore<T> store, string name, int channels, int lMax, int embDim = 3, int order = 16)
    {
        if (embDim < 3 || embDim % 2 == 0) throw new ArgumentOutOfRangeException(nameof(embDim), embDim, "the Hyena filter's emb_dim must be odd and at least 3");
        _store = store; Channels = channels; LMax = lMax; EmbDim = embDim; Order = order;
        PositionalFeatures = store.Add(name + ".pos_emb.z", [1, lMax, embDim], trainable: false);
        Times = store.Add(name + ".pos_emb.t", [1, lMax, 1], trainable: false);
        _lin = [new Linear<T>(store, name + ".implicit_filter.0", embDim, order), null!, null!];
        Freq = store.Add(name + ".implicit_filter.1.freq", [1, order]);
        _lin[1] = new Linear<T>(store, name + ".implicit_filter.2", order, order);
        _lin[2] = new Linear<T>(store, name + ".implicit_filter.4", order, order);
        _out = new Linear<T>(store, name + ".implicit_filter.6", order, channels, bias: false);
        Deltas = store.Add(name + ".modulation.deltas", [1, 1, channels], trainable: false);
        _h = [new T[lMax * order], new T[lMax * order], new T[lMax * order]];
        _a = [new T[lMax * order], new T[lMax * order], new T[lMax * order]];
        _hk = new T[lMax * channels];
        _dh = new T[lMax * order]; _da = new T[lMax * order]; _dk = new T[lMax * channels];
    }

    public int Channels { get; }
    public int LMax { get; }
    public int EmbDim { get; }
    public int Order { get; }
    public Parameter PositionalFeatures { get; }
    public Parameter Times { get; }
    public Parameter Freq { get; }
    public Parameter Deltas { get; }

    /// <summary>m2's ExponentialModulation deltas: linspace(ln(target)/slow, ln(target)/fast, d) with target 1e-2, fast 0.3, slow 1.5.</summary>
    public static void FillDeltas(Span<T> deltas)
    {
        int d = deltas.Length;
        double max = Math.Log(1e-2) / 0.3, min = Math.Log(1e-2) / 1.5;
        for (int c = 0; c < d; c++) deltas[c] = T.CreateChecked(TorchLinspace(min, max, d, c));
    }

    /// <summary>pos_emb.t = torch.linspace(0, 1, l_max).</summary>
    public static void FillTimes(Span<T> t)
    {
        for (int i = 0; i < t.Length; i++) t[i] = T.CreateChecked(TorchLinspace(0, 1, t.Length, i));
    }

    private static double TorchLinspace(double start, double end, int steps, int i)
    {
        if (steps == 1) return start;
        double step = (end - start) / (steps - 1);
        return i < steps / 2 ? start + step * i : end - step * (steps - i - 1);
    }

    public void Compute(int taps, Span<T> kT)
    {
        int O = Order, C = Channels;
        var f = _store.Value(Freq);
        ReadOnlySpan<T> input = _store.Value(PositionalFeatures)[..(taps * EmbDim)];
        for (int l = 0; l < 3; l++)
        {
            var h = _h[l].AsSpan(0, taps * O); var a = _a[l].AsSpan(0, taps * O);
            _lin[l].Forward(input, h, taps);                         // h = in Wᵀ + b
            for (int i = 0; i < taps; i++)
                for (int j = 0; j < O; j++) a[i * O + j] = T.Sin(f[j] * h[i * O + j]);   // a = sin(freq·h)
            input = a;
        }
        var hk = _hk.AsSpan(0, taps * C);
        _out.Forward(input, hk, taps);                                // hk = a2 W6ᵀ
        var t = _store.Value(Times); var dl = _store.Value(Deltas);
        for (int i = 0; i < taps; i++)
            for (int c = 0; c < C; c++) kT[i * C + c] = hk[i * C + c] * T.Exp(-t[i] * T.Abs(dl[c]));   // k = hk·exp(−t|δ|)
        _lastTaps = taps;
    }

    public void Backward(ReadOnlySpan<T> dkT, int taps)
    {
        if (taps != _lastTaps) throw new InvalidOperationException($"filter backward for {taps} taps, but the last Compute made {_lastTaps}");
        int O = Order, C = Channels;
        var t = _store.Value(Times); var dl = _store.Value(Deltas);
        var dk = _dk.AsSpan(0, taps * C);
        for (int i = 0; i < taps; i++)
            for (int c = 0; c < C; c++) dk[i * C + c] = dkT[i * C + c] * T.Exp(-t[i] * T.Abs(dl[c]));   // k = hk·decay
        var da = _da.AsSpan(0, taps * O); var dh = _dh.AsSpan(0, taps * O);
        _out.Backward(_a[2].AsSpan(0, taps * O), dk, da, taps, accumulateDx: false);
        var f = _store.Value(Freq); var df = _store.Grad(Freq);
        for (int l = 2; l >= 0; l--)
        {
            var h = _h[l].AsSpan(0, taps * O);
            // a = sin(f·h): dh = da·f·cos(f·h), dfreq += Σ_i da·h·cos(f·h)
            for (int i = 0; i < taps; i++)
                for (int j = 0; j < O; j++)
                {
                    T cos = T.Cos(f[j] * h[i * O + j]);
                    T g = da[i * O + j] * cos;
                    if (Freq.Trainable) df[j] += g * h[i * O + j];
                    dh[i * O + j] = g * f[j];
                }
            ReadOnlySpan<T> input = l == 0 ? _store.Value(PositionalFeatures)[..(taps * EmbDim)] : _a[l - 1].AsSpan(0, taps * O);
            _lin[l].Backward(input, dh, l == 0 ? default : da, taps, accumulateDx: false);   // da of the layer below
        }
    }

    public long MultiplyAdds(int taps) => (long)taps * (EmbDim * Order + 2L * Order * Order + (long)Order * Channels);
}

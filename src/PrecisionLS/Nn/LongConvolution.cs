using System.Numerics;
using PrecisionLS.Numerics;

namespace PrecisionLS.Nn;

/// <summary>
/// The authors' LongConvolution (conv_type long; REFERENCE §2 BaseConv, fixtures conv_long_causal/_noncausal):
/// an explicit filter h (d, l_max), initialised to a delta at lag 0, of which only h[:, :L] is used:
/// <code>
/// causal:     y[b,t,c] = Σ_{j&lt;=t} h[c,j]·x[b,t-j,c]            (+ x[b,t,c] when resid)   FFT size 2L in the paper's code
/// non-causal: y[b,t,c] = Σ_j h[c,j]·x[b,(t-j) mod L,c]   (+ x[b,t,c] when resid)   FFT size L: circular
/// </code>
/// computed as a direct sum (<see cref="LongConv"/>): no FFT, no 1/n scaling. Parameter "{name}.filter" [d, l_max].
/// Sequences longer than l_max are allowed (the filter then reads as zero past l_max, as PyTorch's zero-padded
/// FFT does).
/// </summary>
public sealed class LongConvolution<T> : IConvolution<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ParameterStore<T> _store;
    private readonly T[] _hT;         // lag-major copy of filter[:, :taps], refreshed each forward
    private readonly T[] _dhT;        // lag-major filter gradient of one backward
    private readonly T[] _thT;        // lag-major filter direction of one tangent
    private readonly FilterConvolution<T> _conv;

    /// <summary>
    /// Registers "{name}.filter" [channels, lMax]. trainable = false freezes the filter (the authors' exact
    /// "square"/"cumsum" constructions set requires_grad = False on it): no gradient, no update.
    /// </summary>
    public LongConvolution(ParameterStore<T> store, string name, int channels, int lMax, bool causal, bool resid, bool trainable = true)
    {
        if (channels < 1) throw new ArgumentOutOfRangeException(nameof(channels), channels, "the channel count must be at least 1");
        if (lMax < 1) throw new ArgumentOutOfRangeException(nameof(lMax), lMax, "the filter length l_max (n_positions) must be at least 1");
        _store = store;
        Channels = channels; LMax = lMax; Causal = causal; Resid = resid;
        Filter = store.Add(name + ".filter", [channels, lMax], trainable);
        _hT = new T[lMax * channels];
        _dhT = new T[lMax * channels];
        _thT = new T[lMax * channels];
        _conv = new FilterConvolution<T>(channels, causal, resid);
    }

    public int Channels { get; }
    /// <summary>Filter length l_max (= n_positions).</summary>
    public int LMax { get; }
    public bool Causal { get; }
    public bool Resid { get; }
    /// <summary>"{name}.filter", [d, l_max] (PyTorch layout: channel-major).</summary>
    public Parameter Filter { get; }

    /// <summary>The authors' init: filter = 0 except filter[c, 0] = 1 (a delta at lag 0: y = x, or 2x with resid).</summary>
    public static void DeltaInit(Span<T> filter, int channels, int lMax)
    {
        if (filter.Length != channels * lMax) throw new ArgumentException($"filter holds {filter.Length} values, [{channels}, {lMax}] needs {channels * lMax}", nameof(filter));
        filter.Clear();
        for (int c = 0; c < channels; c++) filter[c * lMax] = T.One;
    }

    /// <summary>Applies <see cref="DeltaInit"/> to this layer's filter in the store.</summary>
    public void InitializeDelta() => DeltaInit(_store.Value(Filter), Channels, LMax);

    /// <summary>Filter taps a length-L forward reads: min(L, l_max).</summary>
    public int TapsFor(int length) => Math.Min(length, LMax);

    /// <summary>y = h ∗ x (+ x); when gate is given also g = y·gate. Rows as in <see cref="IConvolution{T}"/>.</summary>
    public void Forward(ReadOnlySpan<T> x, Span<T> y, ReadOnlySpan<T> gate, Span<T> g, int batch, int length, int inStride = 0, int outStride = 0)
    {
        int taps = TapsFor(length), C = Channels;
        // _hT[j, c] = filter[c, j] for j < taps
        var filter = _store.Value(Filter);
        for (int c = 0; c < C; c++)
            for (int j = 0; j < taps; j++) _hT[j * C + c] = filter[c * LMax + j];
        _conv.Forward(_hT, taps, x, y, gate, g, batch, length, inStride, outStride);
    }

    /// <summary>
    /// Backward: dz = dOut (or dg·gate), dx += hᵀ ∗ dz (+ dz), dfilter[c, j] += Σ_{b,t} dz[b,t,c]·x[b,t-j,c] (indices
    /// mod L when circular) for j &lt; min(L, l_max); taps from L on get nothing. Needs the same length as Forward.
    /// </summary>
    public void Backward(ReadOnlySpan<T> x, ReadOnlySpan<T> dOut, ReadOnlySpan<T> gate, ReadOnlySpan<T> y, Span<T> dGate, Span<T> dx,
        int batch, int length, int inStride = 0, int outStride = 0, bool accumulateDx = true)
    {
        int taps = TapsFor(length), C = Channels;
        var dhT = _dhT.AsSpan(0, taps * C);
        _conv.Backward(x, dOut, gate, y, dGate, dx, Filter.Trainable ? dhT : default, batch, length, inStride, outStride, accumulateDx);
        if (!Filter.Trainable) return;
        var dFilter = _store.Grad(Filter);
        for (int c = 0; c < C; c++)
            for (int j = 0; j < taps; j++) dFilter[c * LMax + j] += dhT[j * C + c];
    }

    /// <summary>
    /// Forward-mode tangent (ungated): dy = h ∗ dx (+ dx) + dh ∗ x with dh this layer's slice of <paramref name="v"/>
    /// (zero when frozen). Rows as in <see cref="IConvolution{T}.ForwardTangent"/>; overwrites dy.
    /// </summary>
    public void ForwardTangent(ReadOnlySpan<T> x, ReadOnlySpan<T> dx, ReadOnlySpan<T> v, Span<T> dy, int batch, int length, int inStride = 0)
    {
        int taps = TapsFor(length), C = Channels;
        Span<T> dhT = default;
        if (Filter.Trainable)
        {
            var dFilter = v.Slice(Filter.Offset, Filter.Length);
            dhT = _thT.AsSpan(0, taps * C);
            for (int c = 0; c < C; c++)
                for (int j = 0; j < taps; j++) dhT[j * C + c] = dFilter[c * LMax + j];
        }
        _conv.ForwardTangent(dhT, taps, x, dx, dy, batch, length, inStride);
    }

    /// <summary>Multiply-adds of the direct sum: (L+1)L/2 (causal) or L² (circular) per entry and channel.</summary>
    public long ForwardMultiplyAdds(int batch, int length) => LongConv.ShapeFor(batch, length, Channels, Causal, Resid).MultiplyAdds;
}

/// <summary>
/// The convolution step shared by <see cref="LongConvolution{T}"/> and <see cref="ImplicitLongConvolution{T}"/>: a
/// given lag-major filter hT [taps, d] applied by <see cref="LongConv"/> on <see cref="DepthwiseConv"/>. Keeps the
/// unrolled kernel of the last forward for the backward.
/// </summary>
internal sealed class FilterConvolution<T>(int channels, bool causal, bool resid) where T : unmanaged, IFloatingPointIeee754<T>
{
    private T[] _wT = [], _dwT = [];  // the unrolled kernel [K, d] of the last forward's length, and its gradient
    private int _lastLength = -1;
    private T[] _twT = [], _tTmp = [];  // tangent scratch: the unrolled filter direction, one term [rows, d]

    public int Channels { get; } = channels;
    public bool Causal { get; } = causal;
    public bool Resid { get; } = resid;

    /// <summary>y = h ∗ x (+ x), and g = y·gate when gate is not empty; overwrites y (and g).</summary>
    public void Forward(ReadOnlySpan<T> hT, int taps, ReadOnlySpan<T> x, Span<T> y, ReadOnlySpan<T> gate, Span<T> g,
        int batch, int length, int inStride, int outStride)
    {
        var s = LongConv.ShapeFor(batch, length, Channels, Causal, Resid, inStride, outStride);
        int kc = s.Kernel * Channels;
        Buffers.Ensure(ref _wT, kc);
        LongConv.Unroll(hT, taps, _wT.AsSpan(0, kc), Channels, length, Causal);
        DepthwiseConv.Forward<T>(x, _wT.AsSpan(0, kc), default, y, gate, g, s);
        _lastLength = length;
    }

    /// <summary>
    /// Tangent of the ungated <see cref="Forward"/> at its point: dy = h ∗ dx (+ dx) + dh ∗ x, from the kept unrolled
    /// kernel and the filter direction dhT [taps, d] (empty: zero); dx may be empty. Overwrites dy [rows, d].
    /// </summary>
    public void ForwardTangent(ReadOnlySpan<T> dhT, int taps, ReadOnlySpan<T> x, ReadOnlySpan<T> dx, Span<T> dy,
        int batch, int length, int inStride)
    {
        if (length != _lastLength)
            throw new InvalidOperationException($"tangent for length {length}, but the last forward had length {_lastLength}");
        var s = LongConv.ShapeFor(batch, length, Channels, Causal, Resid, inStride);
        int kc = s.Kernel * Channels, n = batch * length * Channels;
        var y = dy[..n];
        if (!dx.IsEmpty) DepthwiseConv.Forward<T>(dx, _wT.AsSpan(0, kc), default, y, default, default, s);   // h ∗ dx (+ dx)
        if (dhT.IsEmpty) { if (dx.IsEmpty) y.Clear(); return; }
        Buffers.Ensure(ref _twT, kc);
        LongConv.Unroll(dhT, taps, _twT.AsSpan(0, kc), Channels, length, Causal);
        var term = dx.IsEmpty ? y : Buffers.Ensure(ref _tTmp, n).AsSpan(0, n);
        DepthwiseConv.Forward<T>(x, _twT.AsSpan(0, kc), default, term, default, default, s with { Resid = false });   // dh ∗ x
        if (!dx.IsEmpty) System.Numerics.Tensors.TensorPrimitives.Add(y, term, y);
    }

    /// <summary>
    /// Backward of <see cref="Forward"/>: dx += (or =) the input gradient, dGate = dOut·y when gated; dhT [taps, d]
    /// is OVERWRITTEN with the filter gradient (skipped when dhT is empty).
    /// </summary>
    public void Backward(ReadOnlySpan<T> x, ReadOnlySpan<T> dOut, ReadOnlySpan<T> gate, ReadOnlySpan<T> y, Span<T> dGate, Span<T> dx,
        Span<T> dhT, int batch, int length, int inStride, int outStride, bool accumulateDx)
    {
        if (length != _lastLength)
            throw new InvalidOperationException($"backward for length {length}, but the last forward had length {_lastLength}");
        var s = LongConv.ShapeFor(batch, length, Channels, Causal, Resid, inStride, outStride);
        int kc = s.Kernel * Channels;
        Buffers.Ensure(ref _dwT, kc);
        var dwT = _dwT.AsSpan(0, kc);
        dwT.Clear();
        DepthwiseConv.Backward<T>(x, _wT.AsSpan(0, kc), dOut, gate, y, dGate, dx, dwT, default, s, accumulateDx);
        if (dhT.IsEmpty) return;
        dhT.Clear();
        LongConv.Fold<T>(dwT, dhT, dhT.Length / Channels, Channels, length, Causal);
    }
}

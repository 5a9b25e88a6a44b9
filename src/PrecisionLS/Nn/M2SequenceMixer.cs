using System.Numerics;
using System.Numerics.Tensors;
using PrecisionLS.Numerics;

namespace PrecisionLS.Nn;

/// <summary>
/// The Monarch Mixer sequence mixer (REFERENCE §2 M2; m2's MonarchMixerSequenceMixing, fixture m2_sequence_mixer),
/// `seq_op: m2`:
/// <code>
/// z  = in_linear(u)                         [rows, 3d]
/// zc = ShortConv3(z)                        depthwise, kernel 3, padding 2, first L kept: zc_t = b + w0 z_{t−2} + w1 z_{t−1} + w2 z_t
/// x1, x2, v = zc[:, :d], zc[:, d:2d], zc[:, 2d:]
/// v  = v · x1
/// y  = LongConv(v, k) + v · D               causal: y_t = Σ_{s≤t} k[t−s] v_s; bidirectional: + Σ_{s&gt;t} k_rev[s−t−1] v_s
/// y  = y · x2 (+ LongConv(u, k2) + u · D2 with residual_long_conv)
/// out = out_linear(y)
/// </code>
/// The filter k is explicit ("{name}.k" [d, l_max]) or Hyena implicit ("{name}.filter_fn.*", D = "filter_fn.bias"); the
/// long convolution runs on the Monarch FFT (<see cref="MonarchFft{T}"/>, `m2_conv: monarch_fft`), MathNet's FFT
/// (`fft`, for comparison) or, causal only, is replaced by the learnable <see cref="CausalMonarchMap{T}"/>
/// (`causal_monarch`, causal bit for bit). Parameters: in_linear.weight [3d, d], in_linear.bias,
/// short_filter.weight [3d, 1, 3], short_filter.bias, the filters and D, out_linear.weight [d, d], out_linear.bias.
/// </summary>
public sealed class M2SequenceMixer<T> : ISequenceMixer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The accepted values of model.m2_filter.</summary>
    public static readonly IReadOnlyList<string> FilterNames = ["explicit", "hyena"];
    /// <summary>The accepted values of model.m2_conv.</summary>
    public static readonly IReadOnlyList<string> ConvNames = ["monarch_fft", "fft", "causal_monarch"];

    private readonly ParameterStore<T> _store;
    private readonly int _d, _lMax;
    private readonly LongPath _main;
    private readonly LongPath? _resid;
    private readonly T[] _wT, _dwT;                // short filter, tap-major [3, 3d]
    // Forward caches: z [rows, 3d], zc [rows, 3d], vg = v·x1 [rows, d], y (conv + skip, before x2) [rows, d], g = y·x2 [rows, d]
    private T[] _z = [], _zc = [], _vg = [], _y = [], _g = [];

    /// <param name="store">Where the parameters are registered.</param>
    /// <param name="name">Parameter prefix, e.g. "_backbone.transformer.h.0.seq_mixer".</param>
    /// <param name="d">Width.</param>
    /// <param name="lMax">l_max = n_positions: filter length.</param>
    /// <param name="causal">Causal, or bidirectional (forward and reversed kernels).</param>
    /// <param name="filter">"explicit" or "hyena".</param>
    /// <param name="conv">"monarch_fft", "fft" or "causal_monarch" (causal only; no filter then).</param>
    /// <param name="residualLongConv">Add LongConv(u, k2) + u·D2 after the gate.</param>
    public M2SequenceMixer(ParameterStore<T> store, string name, int d, int lMax, bool causal, string filter = "explicit",
        string conv = "monarch_fft", bool residualLongConv = false)
    {
        if (!FilterNames.Contains(filter)) throw new ArgumentException($"model.m2_filter '{filter}' is unknown; accepted: {string.Join(", ", FilterNames)}", nameof(filter));
        if (!ConvNames.Contains(conv)) throw new ArgumentException($"model.m2_conv '{conv}' is unknown; accepted: {string.Join(", ", ConvNames)}", nameof(conv));
        if (conv == "causal_monarch" && !causal) throw new ArgumentException("model.m2_conv 'causal_monarch' needs model.causal: true (it is a causal map)", nameof(conv));
        _store = store; _d = d; _lMax = lMax; Causal = causal; Filter = filter; Conv = conv;
        InLinear = new Linear<T>(store, name + ".in_linear", d, 3 * d);
        ShortWeight = store.Add(name + ".short_filter.weight", [3 * d, 1, 3]);
        ShortBias = store.Add(name + ".short_filter.bias", [3 * d]);
        _main = new LongPath(store, name, "", d, lMax, causal, filter, conv);
        if (residualLongConv) _resid = new LongPath(store, name, "2", d, lMax, causal, filter, conv);
        OutLinear = new Linear<T>(store, name + ".out_linear", d, d);
        _wT = new T[3 * 3 * d]; _dwT = new T[3 * 3 * d];
    }

    public bool Causal { get; }
    public string Filter { get; }
    public string Conv { get; }
    public bool ResidualLongConv => _resid is not null;
    public Linear<T> InLinear { get; }
    public Parameter ShortWeight { get; }
    public Parameter ShortBias { get; }
    public Linear<T> OutLinear { get; }
    /// <summary>The skip D [d].</summary>
    public Parameter D => _main.Skip;
    /// <summary>The causal Monarch map (m2_conv causal_monarch), else null.</summary>
    public CausalMonarchMap<T>? Map => _main.Map;

    private DepthwiseConv.Shape ShortShape(int batch, int length) => new(batch, length, 3 * _d, 3, 2, false);

    public void Forward(ReadOnlySpan<T> u, Span<T> output, int batch, int length)
    {
        int rows = batch * length, d = _d, n = rows * d;
        if (length > _lMax) throw new ArgumentException($"sequence length {length} exceeds l_max = {_lMax} (model.n_positions)");
        Buffers.Ensure(ref _z, 3L * n); Buffers.Ensure(ref _zc, 3L * n);
        Buffers.Ensure(ref _vg, n); Buffers.Ensure(ref _y, n); Buffers.Ensure(ref _g, n);
        var z = _z.AsSpan(0, 3 * n); var zc = _zc.AsSpan(0, 3 * n);
        var vg = _vg.AsSpan(0, n); var y = _y.AsSpan(0, n); var g = _g.AsSpan(0, n);
        // z = in_linear(u); zc = ShortConv3(z)
        InLinear.Forward(u, z, rows);
        DepthwiseConv.ToTapMajor<T>(_store.Value(ShortWeight), _wT, 3 * d, 3);
        DepthwiseConv.Forward<T>(z, _wT, _store.Value(ShortBias), zc, default, default, ShortShape(batch, length));
        // v = v·x1
        for (int r = 0; r < rows; r++)
            TensorPrimitives.Multiply(zc.Slice(r * 3 * d + 2 * d, d), zc.Slice(r * 3 * d, d), vg.Slice(r * d, d));
        // y = LongConv(v) + v·D
        _main.Forward(vg, y, batch, length);
        // g = y·x2 (+ LongConv2(u) + u·D2)
        for (int r = 0; r < rows; r++)
            TensorPrimitives.Multiply(y.Slice(r * d, d), zc.Slice(r * 3 * d + d, d), g.Slice(r * d, d));
        _resid?.Forward(u[..n], g, batch, length, accumulate: true);
        OutLinear.Forward(g, output, rows);
    }

    public void Backward(ReadOnlySpan<T> u, ReadOnlySpan<T> dOutput, Span<T> du, int batch, int length)
    {
        int rows = batch * length, d = _d, n = rows * d;
        var z = _z.AsSpan(0, 3 * n); var zc = _zc.AsSpan(0, 3 * n);
        var vg = _vg.AsSpan(0, n); var y = _y.AsSpan(0, n); var g = _g.AsSpan(0, n);
        var dg = Workspace<T>.Get(0, n).AsSpan(0, n);
        var dy = Workspace<T>.Get(1, n).AsSpan(0, n);
        var dzc = Workspace<T>.Get(2, 3L * n).AsSpan(0, 3 * n);
        var dz = Workspace<T>.Get(3, 3L * n).AsSpan(0, 3 * n);
        // out = out_linear(g)
        OutLinear.Backward(g, dOutput, dg, rows, accumulateDx: false);
        // g = y·x2 + resid(u):  dy = dg·x2, dx2 = dg·y, du += resid'(dg)
        _resid?.Backward(dg, du[..n], accumulateDx: true);
        for (int r = 0; r < rows; r++)
        {
            TensorPrimitives.Multiply(dg.Slice(r * d, d), zc.Slice(r * 3 * d + d, d), dy.Slice(r * d, d));
            TensorPrimitives.Multiply(dg.Slice(r * d, d), y.Slice(r * d, d), dzc.Slice(r * 3 * d + d, d));
        }
        // y = LongConv(vg) + vg·D:  dvg (into dg, free now), dk, dD
        var dvg = dg;
        _main.Backward(dy, dvg, accumulateDx: false);
        // vg = v·x1:  dv = dvg·x1, dx1 = dvg·v
        for (int r = 0; r < rows; r++)
        {
            TensorPrimitives.Multiply(dvg.Slice(r * d, d), zc.Slice(r * 3 * d, d), dzc.Slice(r * 3 * d + 2 * d, d));
            TensorPrimitives.Multiply(dvg.Slice(r * d, d), zc.Slice(r * 3 * d + 2 * d, d), dzc.Slice(r * 3 * d, d));
        }
        // zc = ShortConv3(z)
        Array.Clear(_dwT);
        DepthwiseConv.Backward<T>(z, _wT, dzc, default, default, default, dz, _dwT, _store.Grad(ShortBias), ShortShape(batch, length), accumulateDx: false);
        DepthwiseConv.AddFromTapMajor<T>(_dwT, _store.Grad(ShortWeight), 3 * d, 3);
        // z = in_linear(u)
        InLinear.Backward(u, dz, du, rows, accumulateDx: true);
    }

    public void ForwardTangent(ReadOnlySpan<T> u, ReadOnlySpan<T> du, ReadOnlySpan<T> v, Span<T> dy, int batch, int length) =>
        throw new NotSupportedException("seq_op m2 has no forward-mode tangent yet");

    public long ForwardMultiplyAdds(int batch, int length)
    {
        long rows = (long)batch * length;
        long ma = InLinear.MultiplyAdds(rows) + OutLinear.MultiplyAdds(rows) + ShortShape(batch, length).MultiplyAdds + 3 * rows * _d;
        ma += _main.ForwardMultiplyAdds(batch, length);
        if (_resid is not null) ma += _resid.ForwardMultiplyAdds(batch, length);
        return ma;
    }

    /// <summary>
    /// One long-convolution path: y (+)= LongConv(x, k [, k_rev]) + x·D, with its filters, skip and engine. Suffix ""
    /// is the main path (k, k_rev, D / filter_fn, filter_fn_rev), "2" the residual one (k2, k2_rev, D2 / filter_fn2, ...).
    /// </summary>
    private sealed class LongPath
    {
        private readonly ParameterStore<T> _store;
        private readonly int _d, _lMax;
        private readonly bool _causal;
        private readonly IM2Filter<T>? _fwd, _rev;
        private readonly SpectralConvolution<T>? _spectral;
        private readonly T[] _kT, _krT, _dkT, _dkrT;
        private T[] _kSeq = [], _dkSeq = [];
        private T[] _x = [];     // the input of the last forward (the skip's gradient needs it)
        private int _batch, _length, _kRows;

        public LongPath(ParameterStore<T> store, string name, string suffix, int d, int lMax, bool causal, string filter, string conv)
        {
            _store = store; _d = d; _lMax = lMax; _causal = causal;
            if (conv == "causal_monarch")
            {
                Map = new CausalMonarchMap<T>(store, name + ".monarch_map" + suffix, d, lMax);
                Skip = store.Add(name + ".D" + suffix, [d]);
            }
            else if (filter == "explicit")
            {
                _fwd = new ExplicitM2Filter<T>(store, name + ".k" + suffix, d, lMax);
                if (!causal) _rev = new ExplicitM2Filter<T>(store, name + ".k" + suffix + "_rev", d, lMax);
                Skip = store.Add(name + ".D" + suffix, [d]);
            }
            else
            {
                Skip = store.Add(name + ".filter_fn" + suffix + ".bias", [d]);
                _fwd = new HyenaM2Filter<T>(store, name + ".filter_fn" + suffix, d, lMax);
                if (!causal) _rev = new HyenaM2Filter<T>(store, name + ".filter_fn" + suffix + "_rev", d, lMax);
            }
            if (Map is null) _spectral = new SpectralConvolution<T>(plainFft: conv == "fft");
            _kT = new T[lMax * d]; _krT = new T[lMax * d]; _dkT = new T[lMax * d]; _dkrT = new T[lMax * d];
        }

        public Parameter Skip { get; }
        public CausalMonarchMap<T>? Map { get; }

        public void Forward(ReadOnlySpan<T> x, Span<T> y, int batch, int length, bool accumulate = false)
        {
            int d = _d, n = batch * length * d;
            _batch = batch; _length = length;
            Buffers.Ensure(ref _x, n);
            x[..n].CopyTo(_x);
            if (Map is not null) Map.Forward(x, y, batch, length, accumulate);
            else
            {
                int taps = Math.Min(length, _lMax);
                _fwd!.Compute(taps, _kT);
                int nT = _spectral!.SizeFor(length);
                if (_rev is null) { _kRows = taps; _spectral.SetKernel(_kT, taps, d, length); }
                else
                {
                    // k on the circle of size N: rows 0..taps-1 = k_fwd, row N−m = k_rev[m−1] for m = 1..L−1
                    _rev.Compute(taps, _krT);
                    _kRows = nT;
                    var seq = Buffers.Ensure(ref _kSeq, (long)nT * d).AsSpan(0, nT * d);
                    seq.Clear();
                    _kT.AsSpan(0, taps * d).CopyTo(seq);
                    for (int m = 1; m <= Math.Min(length - 1, taps); m++)
                        _krT.AsSpan((m - 1) * d, d).CopyTo(seq.Slice((nT - m) * d, d));
                    _spectral.SetKernel(seq, nT, d, length);
                }
                _spectral.Forward(x, y, batch, accumulate);
            }
            // + x·D
            var D = _store.Value(Skip);
            for (int r = 0; r < batch * length; r++)
            {
                var yr = y.Slice(r * d, d);
                TensorPrimitives.MultiplyAdd(x.Slice(r * d, d), D, yr, yr);
            }
        }

        /// <summary>dx (+)= LongConv'(dy) + dy·D; adds the filter and skip gradients.</summary>
        public void Backward(ReadOnlySpan<T> dy, Span<T> dx, bool accumulateDx)
        {
            int d = _d, batch = _batch, length = _length, rows = batch * length;
            var x = _x.AsSpan(0, rows * d);
            if (Map is not null) Map.Backward(dy, dx, accumulateDx);
            else
            {
                int taps = Math.Min(length, _lMax);
                if (_rev is null)
                {
                    _spectral!.Backward(dy, dx, accumulateDx, _dkT, taps);
                    _fwd!.Backward(_dkT, taps);
                }
                else
                {
                    int nT = _kRows;
                    var dseq = Buffers.Ensure(ref _dkSeq, (long)nT * d).AsSpan(0, nT * d);
                    _spectral!.Backward(dy, dx, accumulateDx, dseq, nT);
                    dseq[..(taps * d)].CopyTo(_dkT);
                    Array.Clear(_dkrT);
                    for (int m = 1; m <= Math.Min(length - 1, taps); m++)
                        dseq.Slice((nT - m) * d, d).CopyTo(_dkrT.AsSpan((m - 1) * d, d));
                    _fwd!.Backward(_dkT, taps);
                    _rev.Backward(_dkrT, taps);
                }
            }
            // y += x·D:  dx += dy·D, dD += Σ_rows dy·x
            var D = _store.Value(Skip); var dD = _store.Grad(Skip);
            for (int r = 0; r < rows; r++)
            {
                var dxr = dx.Slice(r * d, d);
                TensorPrimitives.MultiplyAdd(dy.Slice(r * d, d), D, dxr, dxr);
                if (Skip.Trainable)
                    for (int c = 0; c < d; c++) dD[c] += dy[r * d + c] * x[r * d + c];
            }
        }

        public long ForwardMultiplyAdds(int batch, int length)
        {
            long skip = (long)batch * length * _d;
            if (Map is not null) return Map.ForwardMultiplyAdds(batch, length) + skip;
            int taps = Math.Min(length, _lMax);
            long filters = _fwd!.MultiplyAdds(taps) + (_rev?.MultiplyAdds(taps) ?? 0);
            return _spectral!.ForwardMultiplyAdds(batch, length, _d) + filters + skip;
        }
    }
}

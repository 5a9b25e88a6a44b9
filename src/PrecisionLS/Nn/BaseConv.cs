using System.Numerics;
using PrecisionLS.Bench;
using PrecisionLS.Numerics;

namespace PrecisionLS.Nn;

/// <summary>
/// The authors' BaseConv sequence mixer (REFERENCE §2, fixtures baseconv_short_causal[_noresid]):
/// <code>
/// z  = in_proj(u)            p = projection(u)
/// zc = ShortConv(z)          (includes + z when resid)
/// y  = out_proj(zc · p)
/// out = branch_weights[0]·y + branch_weights[1]·u   (resid; otherwise out = y)
/// </code>
/// Its Linears always have biases. Parameters are registered in the authors' state-dict order.
/// in_proj and projection run as one GEMM producing rows [z | p] (u is read once); the convolution reads z and
/// p in place with a row stride of 2d.
/// </summary>
public sealed class BaseConv<T> : ISequenceMixer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ParameterStore<T> _store;
    private readonly int _d;
    // Forward caches: zp = [z | p] is [rows, 2d] (in_proj and projection as one GEMM), the others [rows, d].
    private T[] _zp = [], _zc = [], _g = [], _y = [];
    // [W_in; W_p] and [b_in; b_p] stacked, refreshed each forward; the gradient of the stack per backward.
    private readonly T[] _wCat, _wCatT, _bCat, _dwCat, _dbCat;
    // Tangent: the parameter direction of the stack, transposed [d, 2d], and of its bias [2d]; scratch dzp [rows, 2d],
    // dzc, dg and dy [rows, d].
    private readonly T[] _tWCatT, _tBCat;
    private T[] _tZp = [], _tZc = [], _tG = [], _tY = [];

    /// <param name="store">Where the parameters are registered.</param>
    /// <param name="name">Parameter prefix, e.g. "_backbone.transformer.h.0.seq_mixer.base_conv".</param>
    /// <param name="d">Width.</param>
    /// <param name="lMax">l_max = n_positions: the convolution's filter length.</param>
    /// <param name="causal">Causal (linear) or not (centred short conv; circular long conv).</param>
    /// <param name="resid">The authors' use_resid: + z inside the conv and the branch weights.</param>
    /// <param name="convType">"short" (depthwise, kernel l_max), "long" (explicit filter) or "implicit" (filter MLP).</param>
    public BaseConv(ParameterStore<T> store, string name, int d, int lMax, bool causal, bool resid, string convType = "short")
    {
        _store = store; _d = d; Resid = resid;
        Projection = new Linear<T>(store, name + ".projection", d, d);
        InProj = new Linear<T>(store, name + ".in_proj", d, d);
        OutProj = new Linear<T>(store, name + ".out_proj", d, d);
        BranchWeights = resid ? store.Add(name + ".branch_weights", [2]) : null;
        Conv = convType switch   // registered last, after branch_weights, as in the authors' state dict
        {
            "short" => new ShortConvolution<T>(store, name + ".conv.conv", d, lMax, causal, resid),
            "long" => new LongConvolution<T>(store, name + ".conv", d, lMax, causal, resid),
            "implicit" => new ImplicitLongConvolution<T>(store, name + ".conv", d, lMax, causal, resid),
            _ => throw new ArgumentException($"model.conv_type '{convType}' is unknown; accepted: short, long, implicit", nameof(convType)),
        };
        _wCat = new T[2 * d * d]; _wCatT = new T[2 * d * d]; _bCat = new T[2 * d]; _dwCat = new T[2 * d * d]; _dbCat = new T[2 * d];
        _tWCatT = new T[2 * d * d]; _tBCat = new T[2 * d];
    }

    public bool Resid { get; }
    public Linear<T> Projection { get; }
    public Linear<T> InProj { get; }
    public Linear<T> OutProj { get; }
    public Parameter? BranchWeights { get; }
    public IConvolution<T> Conv { get; }

    public void Forward(ReadOnlySpan<T> u, Span<T> output, int batch, int length) => Forward(u, output, batch, length, T.Zero);

    /// <summary>out = BaseConv(u) + u in one pass: the residual joins the branch combination.</summary>
    public void ForwardResidual(ReadOnlySpan<T> u, Span<T> output, int batch, int length)
    {
        if (BranchWeights is null) { Forward(u, output, batch, length); System.Numerics.Tensors.TensorPrimitives.Add(output[..u.Length], u, output[..u.Length]); return; }
        Forward(u, output, batch, length, T.One);
    }

    private void Forward(ReadOnlySpan<T> u, Span<T> output, int batch, int length, T residual)
    {
        int rows = batch * length, d = _d;
        long n = (long)rows * d;
        Buffers.Ensure(ref _zp, 2 * n); Buffers.Ensure(ref _zc, n); Buffers.Ensure(ref _g, n);
        var zp = _zp.AsSpan(0, (int)(2 * n)); var zc = _zc.AsSpan(0, (int)n); var g = _g.AsSpan(0, (int)n);
        long t0 = StepProfiler.Start();
        // [z | p] = u [W_in; W_p]ᵀ + [b_in; b_p]: in_proj and projection read u once. The stack is kept both
        // as is (for backward) and transposed, [d, 2d], so the product runs as NN without packing.
        var wIn = _store.Value(InProj.Weight); var wP = _store.Value(Projection.Weight);
        wIn.CopyTo(_wCat); wP.CopyTo(_wCat.AsSpan(d * d));
        for (int o = 0; o < d; o++)
            for (int i = 0; i < d; i++)
            {
                _wCatT[i * 2 * d + o] = wIn[o * d + i];
                _wCatT[i * 2 * d + d + o] = wP[o * d + i];
            }
        _store.Value(InProj.Bias!).CopyTo(_bCat); _store.Value(Projection.Bias!).CopyTo(_bCat.AsSpan(d));
        Gemm.NN<T>(u, _wCatT, _bCat, zp, rows, 2 * d, d);
        StepProfiler.Stop("baseconv.fwd.in_proj+projection", t0); t0 = StepProfiler.Start();
        Conv.Forward(zp, zc, zp[d..], g, batch, length, inStride: 2 * d);   // zc = Conv(z) (+ z), g = zc · p
        StepProfiler.Stop("baseconv.fwd.conv", t0); t0 = StepProfiler.Start();
        if (BranchWeights is null) { OutProj.Forward(g, output, rows); return; }
        Buffers.Ensure(ref _y, n);
        var y = _y.AsSpan(0, (int)n);
        OutProj.Forward(g, y, rows);
        StepProfiler.Stop("baseconv.fwd.out_proj", t0); t0 = StepProfiler.Start();
        var bw = _store.Value(BranchWeights);
        Elementwise.LinearCombination(bw[0], y, bw[1] + residual, u[..(int)n], output);   // out = bw0·y + (bw1 [+ 1])·u
        StepProfiler.Stop("baseconv.fwd.branch", t0);
    }

    public void Backward(ReadOnlySpan<T> u, ReadOnlySpan<T> dOutput, Span<T> du, int batch, int length) =>
        Backward(u, dOutput, du, batch, length, residual: false);

    /// <summary>Backward of <see cref="ForwardResidual"/>; overwrites du.</summary>
    public void BackwardResidual(ReadOnlySpan<T> u, ReadOnlySpan<T> dOutput, Span<T> du, int batch, int length)
    {
        if (BranchWeights is null) { dOutput[..u.Length].CopyTo(du); Backward(u, dOutput, du, batch, length, residual: false); return; }
        Backward(u, dOutput, du, batch, length, residual: true);
    }

    // residual: out also held + u, and du is written (not accumulated): du = (bw1 + 1)·dout + ...
    private void Backward(ReadOnlySpan<T> u, ReadOnlySpan<T> dOutput, Span<T> du, int batch, int length, bool residual)
    {
        int rows = batch * length, d = _d;
        int n = rows * d;
        var zp = _zp.AsSpan(0, 2 * n); var zc = _zc.AsSpan(0, n); var g = _g.AsSpan(0, n);
        var dg = Workspace<T>.Get(0, n).AsSpan(0, n);
        var dzp = Workspace<T>.Get(1, 2L * n).AsSpan(0, 2 * n);
        ReadOnlySpan<T> dy = dOutput;
        long t0 = StepProfiler.Start();
        if (BranchWeights is not null)
        {
            // out = bw0·y + bw1·u:  dbw0 += Σ dout·y,  dbw1 += Σ dout·u,  dy = bw0·dout,  du += bw1·dout
            var bw = _store.Value(BranchWeights);
            var dbw = _store.Grad(BranchWeights);
            var dyScaled = Workspace<T>.Get(3, n).AsSpan(0, n);
            var (s0, s1) = Elementwise.BranchBackward(dOutput[..n], _y.AsSpan(0, n), u[..n], bw[0], residual ? bw[1] + T.One : bw[1],
                dyScaled, du[..n], accumulateDu: !residual);
            dbw[0] += s0;
            dbw[1] += s1;
            dy = dyScaled;
        }
        StepProfiler.Stop("baseconv.bwd.branch", t0); t0 = StepProfiler.Start();
        // y = out_proj(g)
        OutProj.Backward(g, dy, dg, rows, accumulateDx: false);
        StepProfiler.Stop("baseconv.bwd.out_proj", t0); t0 = StepProfiler.Start();
        // zc = Conv(z), g = zc·p: [dz | dp] with dz = Conv'(dg·p) and dp = dg·zc
        Conv.Backward(zp, dg, zp[d..], zc, dzp[d..], dzp, batch, length, inStride: 2 * d, accumulateDx: false);
        StepProfiler.Stop("baseconv.bwd.conv", t0); t0 = StepProfiler.Start();
        // [z | p] = u [W_in; W_p]ᵀ + b:  d[W_in; W_p] = [dz | dp]ᵀ u,  db = Σ rows,  du += [dz | dp] [W_in; W_p]
        Gemm.TN<T>(dzp, u, _dwCat, 2 * d, d, rows, accumulate: false);
        Elementwise.ColumnSums<T>(dzp, rows, 2 * d, _dbCat, accumulate: false);
        System.Numerics.Tensors.TensorPrimitives.Add(_store.Grad(InProj.Weight), _dwCat.AsSpan(0, d * d), _store.Grad(InProj.Weight));
        System.Numerics.Tensors.TensorPrimitives.Add(_store.Grad(Projection.Weight), _dwCat.AsSpan(d * d), _store.Grad(Projection.Weight));
        System.Numerics.Tensors.TensorPrimitives.Add(_store.Grad(InProj.Bias!), _dbCat.AsSpan(0, d), _store.Grad(InProj.Bias!));
        System.Numerics.Tensors.TensorPrimitives.Add(_store.Grad(Projection.Bias!), _dbCat.AsSpan(d), _store.Grad(Projection.Bias!));
        Gemm.NN<T>(dzp, _wCat, du, rows, d, 2 * d, accumulate: true);
        StepProfiler.Stop("baseconv.bwd.in_proj+projection", t0);
    }

    /// <summary>
    /// Forward-mode tangent at Forward's point (no block residual; the block adds du):
    /// <code>
    /// [dz | dp] = du [W_in; W_p]ᵀ + u [dW_in; dW_p]ᵀ + [db_in; db_p]
    /// dzc = Conv'(z; dz, v)                      (the convolution's tangent, "+ dz" inside when resid)
    /// dg  = dzc·p + zc·dp
    /// dy  = out_proj'(g; dg, v)
    /// dout = bw0·dy + bw1·du + dbw0·y + dbw1·u   (resid; otherwise dout = dy)
    /// </code>
    /// v is a parameter direction in the store's layout (frozen entries ignored); du may be empty. Overwrites dOutput.
    /// </summary>
    public void ForwardTangent(ReadOnlySpan<T> u, ReadOnlySpan<T> du, ReadOnlySpan<T> v, Span<T> dOutput, int batch, int length)
    {
        int rows = batch * length, d = _d, n = rows * d;
        if (_zc.Length < n) throw new InvalidOperationException($"BaseConv tangent over {rows} rows, but the last forward kept fewer");
        var dzp = Buffers.Ensure(ref _tZp, 2L * n).AsSpan(0, 2 * n);
        var dzc = Buffers.Ensure(ref _tZc, n).AsSpan(0, n);
        var dg = Buffers.Ensure(ref _tG, n).AsSpan(0, n);
        var zp = _zp.AsSpan(0, 2 * n); var zc = _zc.AsSpan(0, n); var g = _g.AsSpan(0, n);
        long t0 = StepProfiler.Start();
        // [z | p] = u [W_in; W_p]ᵀ + [b_in; b_p]:  [dz | dp] = du [W_in; W_p]ᵀ + u [dW_in; dW_p]ᵀ + [db_in; db_p]
        bool dW = InProj.Weight.Trainable || Projection.Weight.Trainable;
        FillTransposedDirection(v, InProj.Weight, 0); FillTransposedDirection(v, Projection.Weight, d);
        FillDirection(v, InProj.Bias!, _tBCat.AsSpan(0, d)); FillDirection(v, Projection.Bias!, _tBCat.AsSpan(d, d));
        if (!du.IsEmpty)
        {
            Gemm.NN<T>(du, _wCatT, _tBCat, dzp, rows, 2 * d, d);
            if (dW) Gemm.NN<T>(u, _tWCatT, dzp, rows, 2 * d, d, accumulate: true);
        }
        else Gemm.NN<T>(u, _tWCatT, _tBCat, dzp, rows, 2 * d, d);
        StepProfiler.Stop("baseconv.tangent.in_proj+projection", t0); t0 = StepProfiler.Start();
        // zc = Conv(z) (+ z):  dzc = Conv'(z; dz, v)
        Conv.ForwardTangent(zp, dzp, v, dzc, batch, length, inStride: 2 * d);
        // g = zc·p:  dg = dzc·p + zc·dp
        for (int r = 0; r < rows; r++)
        {
            var dgr = dg.Slice(r * d, d);
            System.Numerics.Tensors.TensorPrimitives.Multiply(dzc.Slice(r * d, d), zp.Slice(r * 2 * d + d, d), dgr);
            System.Numerics.Tensors.TensorPrimitives.FusedMultiplyAdd(zc.Slice(r * d, d), dzp.Slice(r * 2 * d + d, d), dgr, dgr);
        }
        StepProfiler.Stop("baseconv.tangent.conv", t0); t0 = StepProfiler.Start();
        // y = out_proj(g)
        if (BranchWeights is null) { OutProj.ForwardTangent(g, dg, v, dOutput, rows); return; }
        var dy = Buffers.Ensure(ref _tY, n).AsSpan(0, n);
        OutProj.ForwardTangent(g, dg, v, dy, rows);
        // out = bw0·y + bw1·u:  dout = bw0·dy + bw1·du + dbw0·y + dbw1·u
        var bw = _store.Value(BranchWeights);
        var o = dOutput[..n];
        if (du.IsEmpty) System.Numerics.Tensors.TensorPrimitives.Multiply(dy, bw[0], o);
        else Elementwise.LinearCombination(bw[0], dy, bw[1], du[..n], o);
        if (BranchWeights.Trainable)
        {
            var dbw = v.Slice(BranchWeights.Offset, 2);
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(_y.AsSpan(0, n), dbw[0], o, o);
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(u[..n], dbw[1], o, o);
        }
        StepProfiler.Stop("baseconv.tangent.out_proj+branch", t0);
    }

    // _tWCatT[i, col0 + o] = v[w][o, i] (zero when w is frozen): the direction of one half of the stack, transposed.
    private void FillTransposedDirection(ReadOnlySpan<T> v, Parameter w, int col0)
    {
        int d = _d;
        if (!w.Trainable) { for (int i = 0; i < d; i++) _tWCatT.AsSpan(i * 2 * d + col0, d).Clear(); return; }
        var dw = v.Slice(w.Offset, w.Length);
        for (int o = 0; o < d; o++)
            for (int i = 0; i < d; i++) _tWCatT[i * 2 * d + col0 + o] = dw[o * d + i];
    }

    private static void FillDirection(ReadOnlySpan<T> v, Parameter p, Span<T> dst)
    {
        if (p.Trainable) v.Slice(p.Offset, p.Length).CopyTo(dst);
        else dst.Clear();
    }

    public long ForwardMultiplyAdds(int batch, int length)
    {
        long rows = (long)batch * length;
        long ma = InProj.MultiplyAdds(rows) + Projection.MultiplyAdds(rows) + OutProj.MultiplyAdds(rows);
        return ma + Conv.ForwardMultiplyAdds(batch, length) + 2 * rows * _d;   // + gate and branch products
    }
}

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
/// </summary>
public sealed class BaseConv<T> : ISequenceMixer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ParameterStore<T> _store;
    private readonly Workspace<T> _workspace;
    private readonly int _d;
    // Forward caches, [batch·length, d] each.
    private T[] _z = [], _p = [], _zc = [], _g = [], _y = [];

    public BaseConv(ParameterStore<T> store, Workspace<T> workspace, string name, int d, int lMax, bool causal, bool resid)
    {
        _store = store; _workspace = workspace; _d = d; Resid = resid;
        Projection = new Linear<T>(store, name + ".projection", d, d);
        InProj = new Linear<T>(store, name + ".in_proj", d, d);
        OutProj = new Linear<T>(store, name + ".out_proj", d, d);
        BranchWeights = resid ? store.Add(name + ".branch_weights", [2]) : null;
        Conv = new ShortConvolution<T>(store, name + ".conv.conv", d, lMax, causal, resid);
    }

    public bool Resid { get; }
    public Linear<T> Projection { get; }
    public Linear<T> InProj { get; }
    public Linear<T> OutProj { get; }
    public Parameter? BranchWeights { get; }
    public ShortConvolution<T> Conv { get; }

    public void Forward(ReadOnlySpan<T> u, Span<T> output, int batch, int length)
    {
        int rows = batch * length;
        long n = (long)rows * _d;
        Buffers.Ensure(ref _z, n); Buffers.Ensure(ref _p, n); Buffers.Ensure(ref _zc, n); Buffers.Ensure(ref _g, n);
        var z = _z.AsSpan(0, (int)n); var p = _p.AsSpan(0, (int)n); var zc = _zc.AsSpan(0, (int)n); var g = _g.AsSpan(0, (int)n);
        long t0 = StepProfiler.Start();
        InProj.Forward(u, z, rows);
        Projection.Forward(u, p, rows);
        StepProfiler.Stop("baseconv.fwd.in_proj+projection", t0); t0 = StepProfiler.Start();
        Conv.Forward(z, zc, p, g, batch, length);           // zc = Conv(z) (+ z), g = zc · p
        StepProfiler.Stop("baseconv.fwd.conv", t0); t0 = StepProfiler.Start();
        if (BranchWeights is null) { OutProj.Forward(g, output, rows); return; }
        Buffers.Ensure(ref _y, n);
        var y = _y.AsSpan(0, (int)n);
        OutProj.Forward(g, y, rows);
        StepProfiler.Stop("baseconv.fwd.out_proj", t0); t0 = StepProfiler.Start();
        var bw = _store.Value(BranchWeights);
        Elementwise.LinearCombination(bw[0], y, bw[1], u[..(int)n], output);   // out = bw0·y + bw1·u
        StepProfiler.Stop("baseconv.fwd.branch", t0);
    }

    public void Backward(ReadOnlySpan<T> u, ReadOnlySpan<T> dOutput, Span<T> du, int batch, int length)
    {
        int rows = batch * length;
        int n = rows * _d;
        var z = _z.AsSpan(0, n); var p = _p.AsSpan(0, n); var zc = _zc.AsSpan(0, n); var g = _g.AsSpan(0, n);
        var dg = _workspace.Get(0, n).AsSpan(0, n);
        var dz = _workspace.Get(1, n).AsSpan(0, n);
        var dp = _workspace.Get(2, n).AsSpan(0, n);
        ReadOnlySpan<T> dy = dOutput;
        long t0 = StepProfiler.Start();
        if (BranchWeights is not null)
        {
            // out = bw0·y + bw1·u:  dbw0 += Σ dout·y,  dbw1 += Σ dout·u,  dy = bw0·dout,  du += bw1·dout
            var bw = _store.Value(BranchWeights);
            var dbw = _store.Grad(BranchWeights);
            var dyScaled = _workspace.Get(3, n).AsSpan(0, n);
            var (s0, s1) = Elementwise.BranchBackward(dOutput[..n], _y.AsSpan(0, n), u[..n], bw[0], bw[1], dyScaled, du[..n]);
            dbw[0] += s0;
            dbw[1] += s1;
            dy = dyScaled;
        }
        StepProfiler.Stop("baseconv.bwd.branch", t0); t0 = StepProfiler.Start();
        // y = out_proj(g)
        dg.Clear();
        OutProj.Backward(g, dy, dg, rows);
        StepProfiler.Stop("baseconv.bwd.out_proj", t0); t0 = StepProfiler.Start();
        // zc = Conv(z), g = zc·p: dz += Conv'(dg·p), dp = dg·zc
        dz.Clear();
        Conv.Backward(z, dg, p, zc, dp, dz, batch, length);
        StepProfiler.Stop("baseconv.bwd.conv", t0); t0 = StepProfiler.Start();
        InProj.Backward(u, dz, du, rows);
        Projection.Backward(u, dp, du, rows);
        StepProfiler.Stop("baseconv.bwd.in_proj+projection", t0);
    }

    public long ForwardMultiplyAdds(int batch, int length)
    {
        long rows = (long)batch * length;
        long ma = InProj.MultiplyAdds(rows) + Projection.MultiplyAdds(rows) + OutProj.MultiplyAdds(rows);
        return ma + Conv.ForwardMultiplyAdds(batch, length) + 2 * rows * _d;   // + gate and branch products
    }
}

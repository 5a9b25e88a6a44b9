using System.Numerics;
using System.Numerics.Tensors;
using PrecisionLS.Numerics;

namespace PrecisionLS.Nn;

/// <summary>
/// The M2 dimension mixer (REFERENCE §2 M2; m2's BertGatedLinearUnitMLP with use_monarch_mlp), `mlp_type: m2_glu`:
/// <code>
/// a   = gated_layers(x)                 block-diagonal d → 2I, nblocks blocks, no bias       x [rows, d], a [rows, 2I]
/// g   = gelu(a[:, :I]) · a[:, I:]       gelu exact (erf)                                     g [rows, I]
/// o   = wo(g)                           block-diagonal I → d, with bias
/// y   = LayerNorm(o + x)                post-LayerNorm over its own residual (eps 1e-5)
/// </code>
/// I = mlp_upfactor·d. The residual is inside, so the block adds none around it (h ← M2Glu(LN2(h))). Parameters
/// "{name}.gated_layers.weight" [nblocks, 2I/nblocks, d/nblocks], "{name}.wo.bias", "{name}.wo.weight",
/// "{name}.layernorm.weight", "{name}.layernorm.bias".
/// </summary>
public sealed class M2Glu<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly int _d, _i;
    // Forward caches: a [rows, 2I], a1 = a[:, :I] contiguous, gelu(a1) and Φ(a1), g, s = o + x [rows, d]
    private T[] _a = [], _a1 = [], _ga = [], _cdf = [], _g = [], _s = [];

    public M2Glu(ParameterStore<T> store, string name, int d, int upfactor, int nblocks = 4)
    {
        if (upfactor < 1) throw new ArgumentOutOfRangeException(nameof(upfactor), upfactor, $"M2 GLU '{name}': model.mlp_upfactor = {upfactor} must be a positive integer");
        _d = d; _i = upfactor * d;
        GatedLayers = new BlockdiagLinear<T>(store, name + ".gated_layers", d, 2 * _i, nblocks, bias: false);
        Wo = new BlockdiagLinear<T>(store, name + ".wo", _i, d, nblocks);
        Norm = new LayerNorm<T>(store, name + ".layernorm", d);
    }

    /// <summary>Intermediate width I.</summary>
    public int Intermediate => _i;
    public BlockdiagLinear<T> GatedLayers { get; }
    public BlockdiagLinear<T> Wo { get; }
    public LayerNorm<T> Norm { get; }

    /// <summary>y = LayerNorm(wo(gelu(a1)·a2) + x); overwrites y (must not alias x).</summary>
    public void Forward(ReadOnlySpan<T> x, Span<T> y, int rows)
    {
        int d = _d, I = _i, nI = rows * I, n = rows * d;
        Buffers.Ensure(ref _a, 2L * nI); Buffers.Ensure(ref _a1, nI); Buffers.Ensure(ref _ga, nI); Buffers.Ensure(ref _cdf, nI);
        Buffers.Ensure(ref _g, nI); Buffers.Ensure(ref _s, n);
        var a = _a.AsSpan(0, 2 * nI); var a1 = _a1.AsSpan(0, nI); var ga = _ga.AsSpan(0, nI); var g = _g.AsSpan(0, nI); var s = _s.AsSpan(0, n);
        GatedLayers.Forward(x, a, rows);
        for (int r = 0; r < rows; r++) a.Slice(r * 2 * I, I).CopyTo(a1.Slice(r * I, I));
        Activations.GeluForward<T>(a1, ga, _cdf.AsSpan(0, nI));                                   // gelu(a1)
        for (int r = 0; r < rows; r++) TensorPrimitives.Multiply(ga.Slice(r * I, I), a.Slice(r * 2 * I + I, I), g.Slice(r * I, I));   // g = gelu(a1)·a2
        Wo.Forward(g, s, rows);
        TensorPrimitives.Add(s, x[..n], s);                                                        // s = o + x
        Norm.Forward(s, y, rows);
    }

    /// <summary>Backward of <see cref="Forward"/> on the same x: adds parameter gradients; dx (+)= dL/dx.</summary>
    public void Backward(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dx, int rows, bool accumulateDx)
    {
        int d = _d, I = _i, nI = rows * I, n = rows * d;
        var a = _a.AsSpan(0, 2 * nI); var a1 = _a1.AsSpan(0, nI); var ga = _ga.AsSpan(0, nI); var g = _g.AsSpan(0, nI); var s = _s.AsSpan(0, n);
        var ds = Workspace<T>.Get(4, n).AsSpan(0, n);
        var dg = Workspace<T>.Get(5, nI).AsSpan(0, nI);
        var da = Workspace<T>.Get(6, 2L * nI).AsSpan(0, 2 * nI);
        Norm.Backward(s, dy, ds, rows, accumulateDx: false);                                       // y = LN(s)
        // s = wo(g) + x:  dx (+)= ds, dg = ds Woᵀ
        Wo.Backward(g, ds, dg, rows, accumulateDx: false);
        // g = gelu(a1)·a2:  da2 = dg·gelu(a1), da1 = (dg·a2)·gelu'(a1)
        var t = Workspace<T>.Get(7, nI).AsSpan(0, nI);
        for (int r = 0; r < rows; r++)
        {
            TensorPrimitives.Multiply(dg.Slice(r * I, I), ga.Slice(r * I, I), da.Slice(r * 2 * I + I, I));
            TensorPrimitives.Multiply(dg.Slice(r * I, I), a.Slice(r * 2 * I + I, I), t.Slice(r * I, I));
        }
        Activations.GeluBackward<T>(a1, _cdf.AsSpan(0, nI), t, t);
        for (int r = 0; r < rows; r++) t.Slice(r * I, I).CopyTo(da.Slice(r * 2 * I, I));
        if (accumulateDx) TensorPrimitives.Add(dx[..n], ds, dx[..n]); else ds.CopyTo(dx);
        GatedLayers.Backward(x, da, dx, rows, accumulateDx: true);
    }

    /// <summary>Multiply-adds of one forward (the two block-diagonal products, the gate, the LayerNorm).</summary>
    public long ForwardMultiplyAdds(long rows) => GatedLayers.MultiplyAdds(rows) + Wo.MultiplyAdds(rows) + rows * _i + Norm.ForwardMultiplyAdds(rows);
}

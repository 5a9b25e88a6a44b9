using System.Numerics;
using PrecisionLS.Bench;
using PrecisionLS.Monarch;
using PrecisionLS.Numerics;

namespace PrecisionLS.Nn;

/// <summary>
/// A Linear whose weight is block-diagonal (REFERENCE §3; the fly code's <c>BlockdiagLinear</c>, shuffle off):
/// <code>
/// in_blksz = ceil(in / nblocks), out_blksz = ceil(out / nblocks)
/// x̃ = x zero-padded to nblocks·in_blksz                                  x [rows, in]
/// ỹ[b, g·out_blksz + o] = Σ_i weight[g, o, i]·x̃[b, g·in_blksz + i]        weight (nblocks, out_blksz, in_blksz)
/// y = ỹ[:, :out] + bias                                                    y [rows, out]
/// </code>
/// Parameters register in the fly module's state-dict order and names: "{name}.bias", then "{name}.weight".
/// </summary>
/// <remarks>
/// Forward keeps the padded input when in is not a multiple of nblocks; Backward uses <see cref="Workspace{T}"/>
/// slots 17 and 18. The block products run through <see cref="BlockDiagonalMultiply"/>.
/// </remarks>
public sealed class BlockdiagLinear<T> : ILinearLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private const int SlotDy = 17, SlotDx = 18;

    private readonly ParameterStore<T> _store;
    private T[] _xp = [];     // x zero-padded to InExtended (only when In < InExtended)
    private T[] _yp = [];     // the full-width output before the cut (only when Out < OutExtended)
    private T[] _tXp = [], _tAcc = [], _tTmp = [];   // tangent scratch: padded dx, the full-width tangent and one term

    /// <summary>
    /// A block-diagonal Linear from <paramref name="inFeatures"/> to <paramref name="outFeatures"/> with
    /// <paramref name="nblocks"/> blocks; registers "{name}.bias" (when <paramref name="bias"/>) and "{name}.weight".
    /// </summary>
    public BlockdiagLinear(ParameterStore<T> store, string name, int inFeatures, int outFeatures, int nblocks = 4, bool bias = true, bool trainable = true)
    {
        if (inFeatures < 1 || outFeatures < 1) throw new ArgumentOutOfRangeException(nameof(inFeatures), $"BlockdiagLinear '{name}': features ({inFeatures} -> {outFeatures}) must be positive");
        if (nblocks < 1) throw new ArgumentOutOfRangeException(nameof(nblocks), nblocks, $"BlockdiagLinear '{name}': nblocks = {nblocks} must be a positive integer");
        _store = store;
        In = inFeatures; Out = outFeatures; Nblocks = nblocks;
        InBlock = (inFeatures + nblocks - 1) / nblocks; OutBlock = (outFeatures + nblocks - 1) / nblocks;
        Bias = bias ? store.Add(name + ".bias", [outFeatures], trainable) : null;
        Weight = store.Add(name + ".weight", [nblocks, OutBlock, InBlock], trainable);
    }

    /// <inheritdoc/>
    public int In { get; }
    /// <inheritdoc/>
    public int Out { get; }
    /// <summary>Blocks (nblocks).</summary>
    public int Nblocks { get; }
    /// <summary>Input features per block, ceil(in/nblocks).</summary>
    public int InBlock { get; }
    /// <summary>Output features per block, ceil(out/nblocks).</summary>
    public int OutBlock { get; }
    /// <summary>Input width after padding: nblocks·in_blksz.</summary>
    public int InExtended => Nblocks * InBlock;
    /// <summary>Output width before the cut: nblocks·out_blksz.</summary>
    public int OutExtended => Nblocks * OutBlock;
    /// <summary>The blocks (nblocks, out_blksz, in_blksz).</summary>
    public Parameter Weight { get; }
    /// <inheritdoc/>
    public Parameter? Bias { get; }

    /// <summary>y = blockdiag(weight) pad(x), cut to out, + b; overwrites y.</summary>
    public void Forward(ReadOnlySpan<T> x, Span<T> y, int rows)
    {
        long t0 = StepProfiler.Start();
        CheckLength(x.Length, (long)rows * In, "x"); CheckLength(y.Length, (long)rows * Out, "y");
        var xp = PaddedColumns.Widen(x, rows, In, InExtended, ref _xp);   // kept for Backward and ForwardTangent
        ReadOnlySpan<T> b = Bias is null ? default : _store.Value(Bias);
        if (OutExtended > Out)
        {
            var yp = Buffers.Ensure(ref _yp, (long)rows * OutExtended).AsSpan(0, rows * OutExtended);
            BlockDiagonalMultiply.Forward<T>(xp, _store.Value(Weight), yp, Nblocks, OutBlock, InBlock, rows);
            PaddedColumns.Cut<T>(yp, OutExtended, y, Out, rows, b, accumulate: false);
        }
        else
        {
            BlockDiagonalMultiply.Forward<T>(xp, _store.Value(Weight), y, Nblocks, OutBlock, InBlock, rows);
            if (!b.IsEmpty) PaddedColumns.AddBias(y, rows, Out, b);
        }
        StepProfiler.Stop("blockdiag_linear.fwd", t0);
    }

    /// <summary>
    /// Backward of <see cref="Forward"/> on the same x: d weight and db are added (unless frozen), and dx (+)= dy W
    /// when dx is not empty.
    /// </summary>
    public void Backward(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dx, int rows, bool accumulateDx)
    {
        long t0 = StepProfiler.Start();
        CheckLength(x.Length, (long)rows * In, "x"); CheckLength(dy.Length, (long)rows * Out, "dy");
        if (!dx.IsEmpty) CheckLength(dx.Length, (long)rows * In, "dx");
        if (InExtended > In && _xp.Length < (long)rows * InExtended) throw new InvalidOperationException($"BlockdiagLinear backward over {rows} rows, but the last forward kept fewer");
        if (Bias is not null && Bias.Trainable) Elementwise.ColumnSums<T>(dy, rows, Out, _store.Grad(Bias), accumulate: true);
        ReadOnlySpan<T> xp = InExtended > In ? _xp.AsSpan(0, rows * InExtended) : x[..(rows * In)];
        ReadOnlySpan<T> dyp = dy[..(rows * Out)];
        if (OutExtended > Out)
        {
            var buf = Workspace<T>.Get(SlotDy, (long)rows * OutExtended).AsSpan(0, rows * OutExtended);
            PaddedColumns.Pad<T>(dy, rows, Out, buf, OutExtended);
            dyp = buf;
        }
        Span<T> dw = Weight.Trainable ? _store.Grad(Weight) : default;
        if (dx.IsEmpty || InExtended == In)
            BlockDiagonalMultiply.Backward<T>(xp, _store.Value(Weight), dyp, dx.IsEmpty ? default : dx[..(rows * In)], dw, Nblocks, OutBlock, InBlock, rows, accumulateDx);
        else
        {
            var dxp = Workspace<T>.Get(SlotDx, (long)rows * InExtended).AsSpan(0, rows * InExtended);
            BlockDiagonalMultiply.Backward<T>(xp, _store.Value(Weight), dyp, dxp, dw, Nblocks, OutBlock, InBlock, rows, accumulateDx: false);
            PaddedColumns.Cut<T>(dxp, InExtended, dx, In, rows, default, accumulateDx);
        }
        StepProfiler.Stop("blockdiag_linear.bwd", t0);
    }

    /// <summary>
    /// Forward-mode tangent on Forward's x: dy = blockdiag(w) dx + blockdiag(dw) x + db, cut to out (dw, db this
    /// layer's slices of <paramref name="v"/>, zero when frozen; dx may be empty). Overwrites dy.
    /// </summary>
    public void ForwardTangent(ReadOnlySpan<T> x, ReadOnlySpan<T> dx, ReadOnlySpan<T> v, Span<T> dy, int rows)
    {
        long t0 = StepProfiler.Start();
        CheckLength(x.Length, (long)rows * In, "x"); CheckLength(dy.Length, (long)rows * Out, "dy");
        int nOut = rows * OutExtended;
        var acc = Buffers.Ensure(ref _tAcc, nOut).AsSpan(0, nOut);
        var tmp = Buffers.Ensure(ref _tTmp, nOut).AsSpan(0, nOut);
        bool any = false;
        if (!dx.IsEmpty)
        {
            var dxp = PaddedColumns.Widen(dx, rows, In, InExtended, ref _tXp);
            BlockDiagonalMultiply.Forward<T>(dxp, _store.Value(Weight), acc, Nblocks, OutBlock, InBlock, rows);
            any = true;
        }
        if (Weight.Trainable)
        {
            ReadOnlySpan<T> xp = InExtended > In ? _xp.AsSpan(0, rows * InExtended) : x[..(rows * In)];   // as Forward kept it
            BlockDiagonalMultiply.Forward<T>(xp, v.Slice(Weight.Offset, Weight.Length), any ? tmp : acc, Nblocks, OutBlock, InBlock, rows);
            if (any) System.Numerics.Tensors.TensorPrimitives.Add(acc, tmp, acc);
            any = true;
        }
        if (!any) acc.Clear();
        ReadOnlySpan<T> db = Bias is not null && Bias.Trainable ? v.Slice(Bias.Offset, Bias.Length) : default;
        PaddedColumns.Cut<T>(acc, OutExtended, dy, Out, rows, db, accumulate: false);
        StepProfiler.Stop("blockdiag_linear.tangent", t0);
    }

    /// <summary>Multiply-adds of one forward: rows·nblocks·out_blksz·in_blksz.</summary>
    public long MultiplyAdds(long rows) => rows * Nblocks * OutBlock * InBlock;

    /// <summary>The effective weight W [out, in]: the blocks on the diagonal, zeros elsewhere, padding dropped.</summary>
    public void ToDense(Span<T> weight)
    {
        CheckLength(weight.Length, (long)Out * In, "weight");
        weight[..(Out * In)].Clear();
        var w = _store.Value(Weight);
        for (int o = 0; o < Out; o++)
        {
            int g = o / OutBlock, oo = o % OutBlock;
            for (int ii = 0; ii < InBlock; ii++)
            {
                int i = g * InBlock + ii;
                if (i < In) weight[o * In + i] = w[(g * OutBlock + oo) * InBlock + ii];
            }
        }
    }

    /// <summary>
    /// The fly code's initialisation: a dense (out_ext × in_ext) kaiming_uniform(a=√5) draw scaled by √nblocks is
    /// uniform(±1/√in_blksz), drawn here block by block (the same distribution); then the bias uniform(±1/√b) with
    /// b = bias.shape[-1] = out_features (StructuredLinear.reset_parameters_bias).
    /// </summary>
    public void ResetParameters(Rng rng)
    {
        MonarchLinear<T>.UniformFanIn(rng, _store.Value(Weight), InBlock, 1.0);
        if (Bias is not null) MonarchLinear<T>.UniformFanIn(rng, _store.Value(Bias), Out, 1.0);
    }

    private static void CheckLength(int have, long need, string name)
    {
        if (have < need) throw new ArgumentException($"{name} holds {have} values, the BlockdiagLinear needs {need}", name);
    }
}

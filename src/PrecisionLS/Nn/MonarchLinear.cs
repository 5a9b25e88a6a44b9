using System.Numerics;
using PrecisionLS.Bench;
using PrecisionLS.Monarch;
using PrecisionLS.Numerics;

namespace PrecisionLS.Nn;

/// <summary>
/// A Linear whose weight is a Monarch matrix (REFERENCE §3; the fly code's <c>MonarchLinear</c>, the Monarch
/// paper's drop-in for nn.Linear):
/// <code>
/// in_blksz = ceil(in / nblocks), out_blksz = ceil(out / nblocks)
/// x̃ = x zero-padded to nblocks·in_blksz                       x [rows, in]
/// ỹ = blockdiag_butterfly_multiply(x̃, blkdiag1, blkdiag2)     (<see cref="MonarchMultiply"/>)
/// y = ỹ[:, :out] + bias                                         y [rows, out]
/// in_blksz ≤ out_blksz: blkdiag1 (nblocks, in_blksz, in_blksz),  blkdiag2 (nblocks, out_blksz, in_blksz)
/// otherwise:            blkdiag1 (nblocks, out_blksz, in_blksz), blkdiag2 (nblocks, out_blksz, out_blksz)
/// </code>
/// Parameters register in the fly module's state-dict order and names: "{name}.bias" (StructuredLinear's
/// constructor creates it first), "{name}.blkdiag1", "{name}.blkdiag2".
/// </summary>
/// <remarks>
/// fly tests <c>in_features_extended &lt; out_features_extended</c>; with both extended widths multiples of nblocks that
/// is in_blksz &lt; out_blksz, and at equality both branches give the same shapes, so this is the same rule.
/// Forward keeps the intermediate values (and the padded input when in is not a multiple of nblocks) for Backward,
/// in buffers that grow to the largest row count seen; Backward uses <see cref="Workspace{T}"/> slots 17 and 18.
/// </remarks>
public sealed class MonarchLinear<T> : ILinearLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private const int SlotDy = 17, SlotDx = 18;

    private readonly ParameterStore<T> _store;
    private T[] _xp = [];     // x zero-padded to InExtended, [rows, InExtended] (only when In < InExtended)
    private T[] _h = [];      // the intermediate values between the factors, [rows, Shape.Hidden]
    private T[] _yp = [];     // the full-width output before the cut, [rows, OutExtended] (only when Out < OutExtended)
    private T[] _tXp = [], _tAcc = [], _tTmp = [];   // tangent scratch: padded dx, the full-width tangent and one term

    /// <summary>
    /// A Monarch Linear from <paramref name="inFeatures"/> to <paramref name="outFeatures"/> with
    /// <paramref name="nblocks"/> blocks per factor; registers "{name}.bias" (when <paramref name="bias"/>),
    /// "{name}.blkdiag1" and "{name}.blkdiag2".
    /// </summary>
    public MonarchLinear(ParameterStore<T> store, string name, int inFeatures, int outFeatures, int nblocks = 4, bool bias = true, bool trainable = true)
    {
        if (inFeatures < 1 || outFeatures < 1) throw new ArgumentOutOfRangeException(nameof(inFeatures), $"MonarchLinear '{name}': features ({inFeatures} -> {outFeatures}) must be positive");
        if (nblocks < 1) throw new ArgumentOutOfRangeException(nameof(nblocks), nblocks, $"MonarchLinear '{name}': nblocks = {nblocks} must be a positive integer");
        _store = store;
        In = inFeatures; Out = outFeatures; Nblocks = nblocks;
        Layout = MonarchLayout.ForLinear(inFeatures, outFeatures, nblocks);   // the fly layout: padding, truncation
        Shape = Layout.Shape;
        Bias = bias ? store.Add(name + ".bias", [outFeatures], trainable) : null;
        Blkdiag1 = store.Add(name + ".blkdiag1", Layout.W1Shape, trainable);
        Blkdiag2 = store.Add(name + ".blkdiag2", Layout.W2Shape, trainable);
    }

    /// <inheritdoc/>
    public int In { get; }
    /// <inheritdoc/>
    public int Out { get; }
    /// <summary>Blocks per factor (nblocks).</summary>
    public int Nblocks { get; }
    /// <summary>The factor shapes: w1 = blkdiag1, w2 = blkdiag2, n = InExtended, m = OutExtended.</summary>
    public MonarchShape Shape { get; }
    /// <summary>The factor layout with the observed sizes (what <see cref="MonarchProjection"/> projects onto).</summary>
    public MonarchLayout Layout { get; }
    /// <summary>Input width after padding: nblocks·ceil(in/nblocks).</summary>
    public int InExtended => Shape.N;
    /// <summary>Output width before the cut: nblocks·ceil(out/nblocks).</summary>
    public int OutExtended => Shape.M;
    /// <summary>First factor (nblocks, q, in_blksz), applied to the padded input.</summary>
    public Parameter Blkdiag1 { get; }
    /// <summary>Second factor (nblocks, out_blksz, q).</summary>
    public Parameter Blkdiag2 { get; }
    /// <inheritdoc/>
    public Parameter? Bias { get; }

    /// <summary>y = Monarch(pad(x))[:, :out] + b; overwrites y.</summary>
    public void Forward(ReadOnlySpan<T> x, Span<T> y, int rows)
    {
        long t0 = StepProfiler.Start();
        CheckLength(x.Length, (long)rows * In, "x"); CheckLength(y.Length, (long)rows * Out, "y");
        var xp = PaddedColumns.Widen(x, rows, In, InExtended, ref _xp);   // kept for Backward and ForwardTangent
        var h = Buffers.Ensure(ref _h, (long)rows * Shape.Hidden).AsSpan(0, rows * Shape.Hidden);
        ReadOnlySpan<T> b = Bias is null ? default : _store.Value(Bias);
        if (OutExtended > Out)
        {
            var yp = Buffers.Ensure(ref _yp, (long)rows * OutExtended).AsSpan(0, rows * OutExtended);
            MonarchMultiply.Forward<T>(xp, _store.Value(Blkdiag1), _store.Value(Blkdiag2), yp, Shape, rows, h);
            PaddedColumns.Cut<T>(yp, OutExtended, y, Out, rows, b, accumulate: false);
        }
        else
        {
            MonarchMultiply.Forward<T>(xp, _store.Value(Blkdiag1), _store.Value(Blkdiag2), y, Shape, rows, h);
            if (!b.IsEmpty) PaddedColumns.AddBias(y, rows, Out, b);
        }
        StepProfiler.Stop("monarch_linear.fwd", t0);
    }

    /// <summary>
    /// Backward of <see cref="Forward"/> on the same x (its caches must still hold): d blkdiag1, d blkdiag2 and db
    /// are added (unless frozen), and dx (+)= dy W when dx is not empty.
    /// </summary>
    public void Backward(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dx, int rows, bool accumulateDx)
    {
        long t0 = StepProfiler.Start();
        CheckLength(x.Length, (long)rows * In, "x"); CheckLength(dy.Length, (long)rows * Out, "dy");
        if (!dx.IsEmpty) CheckLength(dx.Length, (long)rows * In, "dx");
        if (_h.Length < (long)rows * Shape.Hidden) throw new InvalidOperationException($"MonarchLinear backward over {rows} rows, but the last forward kept fewer");
        bool trainable = Blkdiag1.Trainable;
        if (Bias is not null && Bias.Trainable) Elementwise.ColumnSums<T>(dy, rows, Out, _store.Grad(Bias), accumulate: true);
        ReadOnlySpan<T> xp = InExtended > In ? _xp.AsSpan(0, rows * InExtended) : x[..(rows * In)];
        ReadOnlySpan<T> dyp = dy[..(rows * Out)];
        if (OutExtended > Out)
        {
            var buf = Workspace<T>.Get(SlotDy, (long)rows * OutExtended).AsSpan(0, rows * OutExtended);
            PaddedColumns.Pad<T>(dy, rows, Out, buf, OutExtended);
            dyp = buf;
        }
        Span<T> dw1 = trainable ? _store.Grad(Blkdiag1) : default, dw2 = trainable ? _store.Grad(Blkdiag2) : default;
        var h = _h.AsSpan(0, rows * Shape.Hidden);
        if (dx.IsEmpty || InExtended == In)
            MonarchMultiply.Backward<T>(xp, h, _store.Value(Blkdiag1), _store.Value(Blkdiag2), dyp, dx.IsEmpty ? default : dx[..(rows * In)],
                dw1, dw2, Shape, rows, accumulateDx);
        else
        {
            var dxp = Workspace<T>.Get(SlotDx, (long)rows * InExtended).AsSpan(0, rows * InExtended);
            MonarchMultiply.Backward<T>(xp, h, _store.Value(Blkdiag1), _store.Value(Blkdiag2), dyp, dxp, dw1, dw2, Shape, rows, accumulateDx: false);
            PaddedColumns.Cut<T>(dxp, InExtended, dx, In, rows, default, accumulateDx);
        }
        StepProfiler.Stop("monarch_linear.bwd", t0);
    }

    /// <summary>
    /// Forward-mode tangent on Forward's x: the Monarch product is bilinear in (w1, w2) and linear in x, so
    /// dy = M(w1, w2) dx + M(dw1, w2) x + M(w1, dw2) x + db, cut to out (dw1, dw2, db this layer's slices of
    /// <paramref name="v"/>, zero when frozen; dx may be empty). Three Monarch products; overwrites dy.
    /// </summary>
    public void ForwardTangent(ReadOnlySpan<T> x, ReadOnlySpan<T> dx, ReadOnlySpan<T> v, Span<T> dy, int rows)
    {
        long t0 = StepProfiler.Start();
        CheckLength(x.Length, (long)rows * In, "x"); CheckLength(dy.Length, (long)rows * Out, "dy");
        int nOut = rows * OutExtended;
        var acc = Buffers.Ensure(ref _tAcc, nOut).AsSpan(0, nOut);
        var tmp = Buffers.Ensure(ref _tTmp, nOut).AsSpan(0, nOut);
        ReadOnlySpan<T> xp = InExtended > In ? _xp.AsSpan(0, rows * InExtended) : x[..(rows * In)];   // as Forward kept it
        ReadOnlySpan<T> w1 = _store.Value(Blkdiag1), w2 = _store.Value(Blkdiag2);
        bool any = false;
        if (!dx.IsEmpty)
        {
            var dxp = PaddedColumns.Widen(dx, rows, In, InExtended, ref _tXp);
            MonarchMultiply.Forward<T>(dxp, w1, w2, acc, Shape, rows);
            any = true;
        }
        if (Blkdiag1.Trainable)
        {
            MonarchMultiply.Forward<T>(xp, v.Slice(Blkdiag1.Offset, Blkdiag1.Length), w2, any ? tmp : acc, Shape, rows);
            if (any) System.Numerics.Tensors.TensorPrimitives.Add(acc, tmp, acc);
            any = true;
        }
        if (Blkdiag2.Trainable)
        {
            MonarchMultiply.Forward<T>(xp, w1, v.Slice(Blkdiag2.Offset, Blkdiag2.Length), any ? tmp : acc, Shape, rows);
            if (any) System.Numerics.Tensors.TensorPrimitives.Add(acc, tmp, acc);
            any = true;
        }
        if (!any) acc.Clear();
        ReadOnlySpan<T> db = Bias is not null && Bias.Trainable ? v.Slice(Bias.Offset, Bias.Length) : default;
        PaddedColumns.Cut<T>(acc, OutExtended, dy, Out, rows, db, accumulate: false);
        StepProfiler.Stop("monarch_linear.tangent", t0);
    }

    /// <summary>Multiply-adds of one forward: rows·(k·q·p + l·s·r) on the padded widths.</summary>
    public long MultiplyAdds(long rows) => rows * Shape.MultiplyAddsPerRow;

    /// <summary>The effective weight W [out, in]: the Monarch matrix's leading out × in block (padding drops the rest).</summary>
    public void ToDense(Span<T> weight)
    {
        CheckLength(weight.Length, (long)Out * In, "weight");
        var full = new T[(long)OutExtended * InExtended];
        MonarchMultiply.ToDense<T>(_store.Value(Blkdiag1), _store.Value(Blkdiag2), Shape, full);
        for (int o = 0; o < Out; o++) full.AsSpan(o * InExtended, In).CopyTo(weight.Slice(o * In, In));
    }

    /// <summary>
    /// The fly code's reset_parameters: each factor uniform(±1/√fan_in) with fan_in its last dimension (its
    /// "kaiming_uniform(a=√5)" written out: gain √(1/3), bound √3·gain/√fan_in), then the bias uniform(±1/√b) with
    /// b = bias.shape[-1] = out_features (StructuredLinear.reset_parameters_bias; nn.Linear would use in_features,
    /// fly uses the bias's own length and so does this). Draws blkdiag1, blkdiag2, then bias.
    /// </summary>
    public void ResetParameters(Rng rng)
    {
        UniformFanIn(rng, _store.Value(Blkdiag1), Shape.P, 1.0);
        UniformFanIn(rng, _store.Value(Blkdiag2), Shape.R, 1.0);
        if (Bias is not null) UniformFanIn(rng, _store.Value(Bias), Out, 1.0);
    }

    /// <summary>v ~ scale·uniform(±1/√fanIn), element by element in order.</summary>
    internal static void UniformFanIn(Rng rng, Span<T> v, int fanIn, double scale)
    {
        double bound = scale / Math.Sqrt(fanIn);
        for (int i = 0; i < v.Length; i++) v[i] = T.CreateChecked(rng.NextUniform(-bound, bound));
    }

    private static void CheckLength(int have, long need, string name)
    {
        if (have < need) throw new ArgumentException($"{name} holds {have} values, the MonarchLinear needs {need}", name);
    }
}

using System.Numerics;
using PrecisionLS.Config;
using PrecisionLS.Bench;
using PrecisionLS.Numerics;

namespace PrecisionLS.Nn;

/// <summary>
/// The authors' TransformerModel (REFERENCE §2): yhat = read_out(Backbone(read_in(x) + wpe)), the backbone a
/// stack of <see cref="Block{T}"/>. Parameter names follow the authors' state dict
/// ("_read_in.weight", "_backbone.transformer.wpe.weight", "_backbone.transformer.h.0.seq_mixer.base_conv...").
/// </summary>
/// <remarks>
/// Forward reads out only the requested token positions (a task reads one or a few): the read-out and its
/// backward then cost nothing at the other positions, and the math is unchanged.
/// Buffers are sized for the largest (batch, length) seen; a steady-state step allocates nothing.
/// </remarks>
public sealed class SequenceModel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Block<T>[] _blocks;
    private T[] _x = [];          // copy of the input tokens, [B·L, in]
    private T[][] _h;             // residual stream before each block and after the last, [B·L, d]
    private T[] _hr = [];         // stream gathered at the read positions (after ln_f), [B·R, d]
    private T[] _hrRaw = [];      // the same before ln_f (when it exists)
    private int[] _reads = [];
    private T[] _tA = [], _tB = [];                 // tangent of the residual stream, [B·L, d] (ForwardTangent)
    private T[] _tHr = [], _tHrRaw = [];            // its gathered rows after and before ln_f, [B·R, d]
    private int _batch, _length, _readCount;

    public SequenceModel(ModelConfig config)
    {
        ModelValidation.Validate(config);
        Config = config;
        D = config.NEmbd; InDims = config.ResolvedInDims; OutDims = config.ResolvedOutDims;
        Store = new ParameterStore<T>();
        ReadIn = new Linear<T>(Store, "_read_in", InDims, D, trainable: config.TrainProj);
        Wpe = new PositionEmbedding<T>(Store, "_backbone.transformer.wpe", config.NPositions, D, trainable: config.TrainPos);
        _blocks = new Block<T>[config.NLayer];
        for (int i = 0; i < config.NLayer; i++)
        {
            string prefix = $"_backbone.transformer.h.{i}";
            _blocks[i] = new Block<T>(config, Store, prefix, i);
        }
        if (config.UseFinalLn) LnF = new LayerNorm<T>(Store, "_backbone.transformer.ln_f", D);
        ReadOut = new Linear<T>(Store, "_read_out", D, OutDims, trainable: config.TrainProj);
        Store.Allocate();
        _h = new T[config.NLayer + 1][];
        for (int i = 0; i <= config.NLayer; i++) _h[i] = [];
    }

    public ModelConfig Config { get; }
    public ParameterStore<T> Store { get; }
    public int D { get; }
    public int InDims { get; }
    public int OutDims { get; }
    public Linear<T> ReadIn { get; }
    public PositionEmbedding<T> Wpe { get; }
    public Linear<T> ReadOut { get; }
    /// <summary>The final LayerNorm (use_final_ln), applied only at the read positions: it is per token.</summary>
    public LayerNorm<T>? LnF { get; }
    public IReadOnlyList<Block<T>> Blocks => _blocks;

    /// <summary>Authors' initialisation, drawn in parameter order from <paramref name="rng"/>.</summary>
    public void Initialize(Rng rng) => ModelInitializer.Initialize(this, rng);

    /// <summary>
    /// x [batch, length, InDims] → output [batch, readPositions.Length, OutDims] at the given token positions.
    /// Keeps what <see cref="Backward"/> needs.
    /// </summary>
    public void Forward(ReadOnlySpan<T> x, int batch, int length, ReadOnlySpan<int> readPositions, Span<T> output)
    {
        if (length < 1 || length > Config.NPositions)
            throw new ArgumentException($"sequence length {length} must be in [1, n_positions = {Config.NPositions}]");
        if (x.Length < (long)batch * length * InDims)
            throw new ArgumentException($"input holds {x.Length} values; batch {batch} x length {length} x in_dims {InDims} needs {(long)batch * length * InDims}");
        int rCount = readPositions.Length;
        if (output.Length < (long)batch * rCount * OutDims)
            throw new ArgumentException($"output holds {output.Length} values; needs batch x reads x out_dims = {(long)batch * rCount * OutDims}");
        foreach (int r in readPositions)
            if (r < 0 || r >= length) throw new ArgumentException($"read position {r} outside [0, {length})");
        _batch = batch; _length = length; _readCount = rCount;
        if (_reads.Length != rCount) _reads = new int[rCount];
        readPositions.CopyTo(_reads);

        int rows = batch * length;
        long n = (long)rows * D;
        Buffers.Ensure(ref _x, (long)rows * InDims);
        x[..(rows * InDims)].CopyTo(_x);
        for (int i = 0; i < _h.Length; i++) Buffers.Ensure(ref _h[i], n);

        long t0 = StepProfiler.Start();
        ReadIn.Forward(_x, _h[0], rows);
        Wpe.Forward(_h[0], batch, length);
        StepProfiler.Stop("model.fwd.read_in+wpe", t0);
        for (int i = 0; i < _blocks.Length; i++) _blocks[i].Forward(_h[i], _h[i + 1], batch, length);

        Buffers.Ensure(ref _hr, (long)batch * rCount * D);
        var gathered = LnF is null ? _hr : Buffers.Ensure(ref _hrRaw, (long)batch * rCount * D);
        var last = _h[^1].AsSpan();
        for (int b = 0; b < batch; b++)
            for (int r = 0; r < rCount; r++)
                last.Slice((b * length + _reads[r]) * D, D).CopyTo(gathered.AsSpan((b * rCount + r) * D, D));
        LnF?.Forward(gathered, _hr, batch * rCount);
        ReadOut.Forward(_hr, output, batch * rCount);
    }

    /// <summary>
    /// Given dL/doutput [batch, reads, OutDims] for the last <see cref="Forward"/>, accumulates every parameter
    /// gradient (the caller zeroes gradients once per step). When <paramref name="dx"/> is given
    /// ([batch, length, InDims]) the input gradient is added into it too.
    /// </summary>
    public void Backward(ReadOnlySpan<T> dOutput, Span<T> dx = default)
    {
        int batch = _batch, length = _length, rCount = _readCount, rows = batch * length;
        int n = rows * D;
        var dhr = Workspace<T>.Get(10, (long)batch * rCount * D).AsSpan(0, batch * rCount * D);
        dhr.Clear();
        ReadOut.Backward(_hr, dOutput, dhr, batch * rCount);
        if (LnF is not null)
        {
            var dRaw = Workspace<T>.Get(16, (long)batch * rCount * D).AsSpan(0, batch * rCount * D);
            LnF.Backward(_hrRaw, dhr, dRaw, batch * rCount, accumulateDx: false);
            dRaw.CopyTo(dhr);
        }

        var dh = Workspace<T>.Get(11, n).AsSpan(0, n);
        var dhPrev = Workspace<T>.Get(12, n).AsSpan(0, n);
        dh.Clear();
        for (int b = 0; b < batch; b++)
            for (int r = 0; r < rCount; r++)
            {
                var dst = dh.Slice((b * length + _reads[r]) * D, D);
                System.Numerics.Tensors.TensorPrimitives.Add(dst, dhr.Slice((b * rCount + r) * D, D), dst);
            }
        for (int i = _blocks.Length - 1; i >= 0; i--)
        {
            _blocks[i].Backward(_h[i], dh, dhPrev, batch, length);
            var t = dh; dh = dhPrev; dhPrev = t;
        }
        long t0 = StepProfiler.Start();
        Wpe.Backward(dh, batch, length);
        ReadIn.Backward(_x, dh, dx, rows);
        StepProfiler.Stop("model.bwd.read_in+wpe", t0);
    }

    /// <summary>
    /// Forward-mode tangent (Jacobian-vector product) of the last <see cref="Forward"/>: writes
    /// J v = d output / d θ · v at the read positions into <paramref name="outputTangent"/> [batch, reads, OutDims],
    /// exactly (analytic, no finite differences) and at about the cost of one more forward.
    /// <paramref name="v"/> is a parameter direction laid out as <see cref="ParameterStore{T}.Values"/>
    /// (<see cref="ParameterStore{T}.Size"/> values); entries of frozen parameters are ignored (treated as 0).
    /// Leaves what <see cref="Backward"/> needs untouched, so Jᵀ(J v) is: zero <see cref="ParameterStore{T}.Grads"/>,
    /// then <c>Backward(outputTangent)</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException">No Forward has run.</exception>
    /// <exception cref="ArgumentException">v or outputTangent has the wrong length.</exception>
    public void ForwardTangent(ReadOnlySpan<T> v, Span<T> outputTangent)
    {
        int batch = _batch, length = _length, rCount = _readCount, rows = batch * length;
        if (batch == 0) throw new InvalidOperationException("ForwardTangent needs a Forward first");
        if (v.Length != Store.Size) throw new ArgumentException($"the direction holds {v.Length} values, the model has {Store.Size} parameters", nameof(v));
        if (outputTangent.Length < (long)batch * rCount * OutDims)
            throw new ArgumentException($"outputTangent holds {outputTangent.Length} values; needs batch x reads x out_dims = {(long)batch * rCount * OutDims}", nameof(outputTangent));
        int n = rows * D, nr = batch * rCount * D;
        var dh = Buffers.Ensure(ref _tA, n).AsSpan(0, n);
        var dhNext = Buffers.Ensure(ref _tB, n).AsSpan(0, n);
        long t0 = StepProfiler.Start();
        // h0 = read_in(x) + wpe:  dh0 = x dW_inᵀ + db_in + dwpe (the input is data: no dx)
        ReadIn.ForwardTangent(_x, default, v, dh, rows);
        Wpe.ForwardTangent(v, dh, batch, length);
        StepProfiler.Stop("model.tangent.read_in+wpe", t0);
        for (int i = 0; i < _blocks.Length; i++)
        {
            _blocks[i].ForwardTangent(_h[i], dh, v, dhNext, batch, length);
            var t = dh; dh = dhNext; dhNext = t;
        }
        var gathered = Buffers.Ensure(ref _tHrRaw, nr).AsSpan(0, nr);
        for (int b = 0; b < batch; b++)
            for (int r = 0; r < rCount; r++)
                dh.Slice((b * length + _reads[r]) * D, D).CopyTo(gathered.Slice((b * rCount + r) * D, D));
        ReadOnlySpan<T> dhr = gathered;
        if (LnF is not null)
        {
            var after = Buffers.Ensure(ref _tHr, nr).AsSpan(0, nr);
            LnF.ForwardTangent(_hrRaw.AsSpan(0, nr), gathered, v, after, batch * rCount);
            dhr = after;
        }
        ReadOut.ForwardTangent(_hr.AsSpan(0, nr), dhr, v, outputTangent, batch * rCount);
    }

    /// <summary>
    /// Convenience forward for callers holding tensors: x [batch, length, InDims] → [batch, reads, OutDims]
    /// (all positions when <paramref name="readPositions"/> is null). Allocates the result.
    /// </summary>
    public Tensor<T> Predict(Tensor<T> x, int[]? readPositions = null)
    {
        if (x.Rank != 3 || x.Shape[2] != InDims)
            throw new ArgumentException($"input must be [batch, length, in_dims = {InDims}], got [{string.Join(", ", x.Shape)}]", nameof(x));
        int batch = x.Shape[0], length = x.Shape[1];
        readPositions ??= Enumerable.Range(0, length).ToArray();
        var y = new Tensor<T>(batch, readPositions.Length, OutDims);
        Forward(x.Data, batch, length, readPositions, y.Data);
        return y;
    }

    /// <summary>Multiply-adds of one forward pass reading <paramref name="reads"/> positions.</summary>
    public long ForwardMultiplyAdds(int batch, int length, int reads)
    {
        long rows = (long)batch * length;
        long ma = ReadIn.MultiplyAdds(rows) + ReadOut.MultiplyAdds((long)batch * reads);
        if (LnF is not null) ma += LnF.ForwardMultiplyAdds((long)batch * reads);
        foreach (var b in _blocks) ma += b.ForwardMultiplyAdds(batch, length);
        return ma;
    }

    /// <summary>
    /// Floating-point operations of one training step (forward + backward), counted from the shapes:
    /// 2 flops per multiply-add, backward twice the forward (input and weight gradients).
    /// </summary>
    public long TrainingStepFlops(int batch, int length, int reads) => 2 * 3 * ForwardMultiplyAdds(batch, length, reads);
}

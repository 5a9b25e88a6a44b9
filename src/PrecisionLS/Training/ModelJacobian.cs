using System.Numerics;
using System.Numerics.Tensors;
using PrecisionLS.Nn;
using PrecisionLS.Numerics;

namespace PrecisionLS.Training;

/// <summary>
/// Products with the Jacobian J = ∂y/∂θ of a model's read outputs y (for a fixed batch of prompts) with respect to
/// all its parameters θ (<see cref="ParameterStore{T}.Values"/>; frozen parameters are constants: their columns of
/// J are zero), for second-order training (issue 9: Gauss-Newton / Levenberg-Marquardt solved by CG):
/// <list type="bullet">
/// <item><see cref="Outputs"/>: y.</item>
/// <item><see cref="JacobianVector"/>: J v (forward-mode tangent, <see cref="SequenceModel{T}.ForwardTangent"/>).</item>
/// <item><see cref="JacobianTransposeVector"/>: Jᵀ u (the gradient path, <see cref="SequenceModel{T}.Backward"/>).</item>
/// <item><see cref="GaussNewton"/>: Jᵀ J v, one forward, one tangent and one backward per example, exact (no finite
/// differences).</item>
/// </list>
/// Output-space vectors (y, J v, u) are laid out as the model's output: [batch, reads, OutDims]; parameter-space
/// vectors (v, Jᵀ u, Jᵀ J v) as <see cref="ParameterStore{T}.Values"/>. Each call uses the master model's current
/// parameter values. No loss is involved: for a mean-squared loss (1/N)·Σ (y − t)², the gradient is
/// (2/N)·Jᵀ (y − t) and the Gauss-Newton matrix (2/N)·Jᵀ J; scaling and damping are the caller's.
/// </summary>
/// <remarks>
/// Like <see cref="BatchGroups{T}"/>: the batch is split into a fixed number of groups (a function of the model size
/// and batch only, never of the thread count), spread over <see cref="WorkerPool.Shared"/>; each thread takes a model
/// replica and runs its groups as slices of <see cref="BatchGroups{T}.SliceExamples"/> examples, each slice through
/// forward (tangent) (backward) while its activations are in cache. Parameter-space results accumulate per group and
/// are added in group order, so every result is bit-identical whatever the number of threads. The batch is copied
/// by <see cref="SetBatch"/>; the steady state allocates nothing.
/// Measured on the explicit-gradient preset (batch 1024, 2 shared cores, load 6-10, so approximate): outputs
/// 45-64 ms, J v 142-145 ms, Jᵀ u 129-140 ms, Jᵀ J v 239-260 ms, against 143-146 ms for a training step's
/// forward+backward through <see cref="BatchGroups{T}"/>. The tangent costs about two forwards: every product in
/// these models is bilinear, and its tangent has two terms (dx·W + x·dW).
/// Not thread-safe: one call at a time.
/// </remarks>
public sealed class ModelJacobian<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private enum Mode { Outputs, JacobianVector, JacobianTransposeVector, GaussNewton, Rows }

    private readonly SequenceModel<T> _master;
    private readonly SequenceModel<T>?[] _replicas = new SequenceModel<T>?[BatchGroups<T>.MaxGroups];
    private readonly int[] _replicaBusy = new int[BatchGroups<T>.MaxGroups];
    private readonly T[]?[] _groupSums = new T[]?[BatchGroups<T>.MaxGroups];
    private readonly Action<int, int> _body;
    private T[] _input = [];
    private int[] _reads = [];
    private int _batch, _length, _groupCount, _inputStride, _outputStride;
    private Mode _mode;
    // Per call: the direction v [P] and the output-space arrays [batch·reads·OutDims] (y, J v, u).
    private readonly T[] _v;
    private T[] _y = [], _jv = [], _u = [];
    private T[] _rows = [];                                   // JacobianRows' destination during the call
    private readonly T[]?[] _oneHot = new T[]?[BatchGroups<T>.MaxGroups];

    /// <summary>Products with the Jacobian of <paramref name="master"/> (its parameters are read at every call).</summary>
    public ModelJacobian(SequenceModel<T> master)
    {
        _master = master;
        Groups = BatchGroups<T>.GroupsFor(master);
        _v = new T[master.Store.Size];
        _body = RunGroups;
    }

    /// <summary>Groups a full batch is split into (the same rule as <see cref="BatchGroups{T}.Groups"/>).</summary>
    public int Groups { get; }
    /// <summary>Length of a parameter-space vector: <see cref="ParameterStore{T}.Size"/> (frozen entries included).</summary>
    public int ParameterCount => _master.Store.Size;
    /// <summary>Length of an output-space vector for the current batch: batch·reads·OutDims (0 before <see cref="SetBatch"/>).</summary>
    public int OutputCount => _batch * _outputStride;

    /// <summary>
    /// Fixes the batch of prompts: <paramref name="input"/> [batch, length, InDims] (copied) and the token positions
    /// read out. Every later product is taken at this batch until the next call.
    /// </summary>
    public void SetBatch(ReadOnlySpan<T> input, int batch, int length, ReadOnlySpan<int> readPositions)
    {
        if (batch < 1) throw new ArgumentOutOfRangeException(nameof(batch), batch, "the batch must hold at least one example");
        if (length < 1 || length > _master.Config.NPositions)
            throw new ArgumentOutOfRangeException(nameof(length), length, $"sequence length must be in [1, n_positions = {_master.Config.NPositions}]");
        if (readPositions.IsEmpty) throw new ArgumentException("at least one read position is needed", nameof(readPositions));
        foreach (int r in readPositions)
            if (r < 0 || r >= length) throw new ArgumentException($"read position {r} outside [0, {length})", nameof(readPositions));
        long need = (long)batch * length * _master.InDims;
        if (input.Length != need) throw new ArgumentException($"input holds {input.Length} values; batch {batch} x length {length} x in_dims {_master.InDims} needs {need}", nameof(input));
        Buffers.Ensure(ref _input, need);
        input.CopyTo(_input);
        _batch = batch; _length = length; _groupCount = Math.Min(Groups, batch);
        if (_reads.Length != readPositions.Length) _reads = new int[readPositions.Length];
        readPositions.CopyTo(_reads);
        _inputStride = length * _master.InDims;
        _outputStride = readPositions.Length * _master.OutDims;
        int nOut = batch * _outputStride;
        Buffers.Ensure(ref _y, nOut); Buffers.Ensure(ref _jv, nOut); Buffers.Ensure(ref _u, nOut);
    }

    /// <summary>(a) The read outputs y [batch, reads, OutDims]; overwrites <paramref name="output"/>.</summary>
    public void Outputs(Span<T> output)
    {
        CheckOutput(output.Length, nameof(output));
        Run(Mode.Outputs);
        _y.AsSpan(0, OutputCount).CopyTo(output);
    }

    /// <summary>
    /// (b) J v [batch, reads, OutDims] for a parameter direction <paramref name="v"/> (store layout; frozen entries
    /// ignored); overwrites <paramref name="jv"/>. When <paramref name="output"/> is not empty, y is written there too.
    /// </summary>
    public void JacobianVector(ReadOnlySpan<T> v, Span<T> jv, Span<T> output = default)
    {
        CheckParameters(v.Length, nameof(v)); CheckOutput(jv.Length, nameof(jv));
        if (!output.IsEmpty) CheckOutput(output.Length, nameof(output));
        v.CopyTo(_v);
        Run(Mode.JacobianVector);
        _jv.AsSpan(0, OutputCount).CopyTo(jv);
        if (!output.IsEmpty) _y.AsSpan(0, OutputCount).CopyTo(output);
    }

    /// <summary>
    /// (c) Jᵀ u (store layout; zero at frozen parameters) for an output-space vector <paramref name="u"/>
    /// [batch, reads, OutDims]: the gradient of Σ u·y. Overwrites <paramref name="jtu"/>; the master's gradients are
    /// not touched. When <paramref name="output"/> is not empty, y is written there too.
    /// </summary>
    public void JacobianTransposeVector(ReadOnlySpan<T> u, Span<T> jtu, Span<T> output = default)
    {
        CheckOutput(u.Length, nameof(u)); CheckParameters(jtu.Length, nameof(jtu));
        if (!output.IsEmpty) CheckOutput(output.Length, nameof(output));
        u.CopyTo(_u);
        Run(Mode.JacobianTransposeVector);
        SumGroups(jtu);
        if (!output.IsEmpty) _y.AsSpan(0, OutputCount).CopyTo(output);
    }

    /// <summary>
    /// (d) The Gauss-Newton product Jᵀ J v (store layout; zero at frozen parameters) for a parameter direction
    /// <paramref name="v"/> (frozen entries ignored), summed over the batch in a fixed order; overwrites
    /// <paramref name="jtjv"/>. Costs one forward, one tangent and one backward per example. When
    /// <paramref name="jv"/> is not empty, J v is written there (‖J v‖² is vᵀ Jᵀ J v, e.g. for CG's step length).
    /// </summary>
    public void GaussNewton(ReadOnlySpan<T> v, Span<T> jtjv, Span<T> jv = default)
    {
        CheckParameters(v.Length, nameof(v)); CheckParameters(jtjv.Length, nameof(jtjv));
        if (!jv.IsEmpty) CheckOutput(jv.Length, nameof(jv));
        v.CopyTo(_v);
        Run(Mode.GaussNewton);
        SumGroups(jtjv);
        if (!jv.IsEmpty) _jv.AsSpan(0, OutputCount).CopyTo(jv);
    }

    /// <summary>
    /// (e) The whole Jacobian, one row per output: rows[i·P + j] = ∂y_i/∂θ_j for the OutputCount outputs (layout of y)
    /// and P = <see cref="ParameterCount"/> parameters (zero at frozen ones). Row i is the gradient of y_i, so each
    /// example costs one forward and one backward pass per read output (batch 1, on the thread's replica); rows of
    /// different examples are written by different threads. For direct (dense) Gauss-Newton solves. When
    /// <paramref name="output"/> is not empty, y is written there too.
    /// </summary>
    public void JacobianRows(T[] rows, Span<T> output = default)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (_batch == 0) throw new InvalidOperationException("call SetBatch first");
        long need = (long)OutputCount * ParameterCount;
        if (need > Array.MaxLength)
            throw new ArgumentException($"the Jacobian has {OutputCount} x {ParameterCount} = {need} entries, more than one array holds ({Array.MaxLength}); use a smaller batch", nameof(rows));
        if (rows.LongLength < need)
            throw new ArgumentException($"rows holds {rows.LongLength} values; outputs x parameters = {OutputCount} x {ParameterCount} = {need}", nameof(rows));
        if (!output.IsEmpty) CheckOutput(output.Length, nameof(output));
        _rows = rows;
        try { Run(Mode.Rows); }
        finally { _rows = []; }
        if (!output.IsEmpty) _y.AsSpan(0, OutputCount).CopyTo(output);
    }

    // Rows of the examples of group g: per example a batch-1 forward, then one backward per read output.
    private void RowsOfGroup(SequenceModel<T> model, int g)
    {
        int p = ParameterCount;
        var grads = _groupSums[g] ??= new T[p];
        var oneHot = _oneHot[g] ??= new T[_outputStride];
        if (oneHot.Length != _outputStride) oneHot = _oneHot[g] = new T[_outputStride];
        model.Store.BindGradients(grads);
        var (start, count) = Slice(g);
        for (int e = start; e < start + count; e++)
        {
            model.Forward(_input.AsSpan(e * _inputStride, _inputStride), 1, _length, _reads, _y.AsSpan(e * _outputStride, _outputStride));
            for (int j = 0; j < _outputStride; j++)
            {
                model.Store.ZeroGrads();
                Array.Clear(oneHot);
                oneHot[j] = T.One;
                model.Backward(oneHot);
                var row = _rows.AsSpan((int)(((long)e * _outputStride + j) * p), p);
                grads.AsSpan().CopyTo(row);           // zero at frozen parameters: Backward leaves them alone
            }
        }
    }

    private void CheckOutput(int have, string name)
    {
        if (_batch == 0) throw new InvalidOperationException("call SetBatch first");
        if (have != OutputCount) throw new ArgumentException($"{name} holds {have} values; batch x reads x out_dims = {OutputCount}", name);
    }

    private void CheckParameters(int have, string name)
    {
        if (_batch == 0) throw new InvalidOperationException("call SetBatch first");
        if (have != ParameterCount) throw new ArgumentException($"{name} holds {have} values; the model has {ParameterCount} parameters", name);
    }

    private void Run(Mode mode)
    {
        _mode = mode;
        WorkerPool.Shared.For(_groupCount, 1, _body);
    }

    // dst = Σ_g group sums, in group order.
    private void SumGroups(Span<T> dst)
    {
        _groupSums[0]!.AsSpan().CopyTo(dst);
        for (int g = 1; g < _groupCount; g++) TensorPrimitives.Add(dst, _groupSums[g], dst);
    }

    private (int Start, int Count) Slice(int g) =>
        ((int)((long)_batch * g / _groupCount), (int)((long)_batch * (g + 1) / _groupCount) - (int)((long)_batch * g / _groupCount));

    private static (int Start, int Count) SubSlice(int start, int count, int k, int slices) =>
        (start + (int)((long)count * k / slices), (int)((long)count * (k + 1) / slices) - (int)((long)count * k / slices));

    private void RunGroups(int g0, int g1)
    {
        int r = AcquireReplica();
        try
        {
            var model = _replicas[r]!;
            if (_mode == Mode.Rows) { for (int g = g0; g < g1; g++) RowsOfGroup(model, g); return; }
            bool backward = _mode is Mode.JacobianTransposeVector or Mode.GaussNewton;
            for (int g = g0; g < g1; g++)
            {
                if (backward)
                {
                    var sums = _groupSums[g] ??= new T[ParameterCount];
                    model.Store.BindGradients(sums);
                    model.Store.ZeroGrads();
                }
                var (start, count) = Slice(g);
                int slices = (count + BatchGroups<T>.SliceExamples - 1) / BatchGroups<T>.SliceExamples;
                for (int k = 0; k < slices; k++)
                {
                    var (s0, n) = SubSlice(start, count, k, slices);
                    var outs = new Range(s0 * _outputStride, (s0 + n) * _outputStride);
                    model.Forward(_input.AsSpan(s0 * _inputStride, n * _inputStride), n, _length, _reads, _y.AsSpan(outs));
                    switch (_mode)
                    {
                        case Mode.JacobianVector:
                            model.ForwardTangent(_v, _jv.AsSpan(outs));
                            break;
                        case Mode.JacobianTransposeVector:
                            model.Backward(_u.AsSpan(outs));
                            break;
                        case Mode.GaussNewton:
                            model.ForwardTangent(_v, _jv.AsSpan(outs));
                            model.Backward(_jv.AsSpan(outs));     // Jᵀ (J v), accumulated over the group's slices
                            break;
                    }
                }
            }
        }
        finally { Volatile.Write(ref _replicaBusy[r], 0); }
    }

    // A free replica holding the master's current parameters (a thread keeps it for all its groups).
    private int AcquireReplica()
    {
        for (int r = 0; ; r++)
        {
            if (r == _replicas.Length) throw new InvalidOperationException("more concurrent workers than batch groups");
            if (Interlocked.CompareExchange(ref _replicaBusy[r], 1, 0) != 0) continue;
            var model = _replicas[r] ??= new SequenceModel<T>(_master.Config);
            _master.Store.Values.AsSpan().CopyTo(model.Store.Values);
            return r;
        }
    }
}

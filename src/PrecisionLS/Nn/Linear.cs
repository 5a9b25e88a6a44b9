using System.Numerics;
using PrecisionLS.Bench;
using PrecisionLS.Numerics;

namespace PrecisionLS.Nn;

/// <summary>
/// nn.Linear: y = x Wᵀ + b with W [out, in] (PyTorch layout). Rows of x are tokens: x [rows, in], y [rows, out].
/// </summary>
public sealed class Linear<T> : ILinearLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ParameterStore<T> _store;

    public Linear(ParameterStore<T> store, string name, int inFeatures, int outFeatures, bool bias = true, bool trainable = true)
    {
        _store = store;
        In = inFeatures; Out = outFeatures;
        Weight = store.Add(name + ".weight", [outFeatures, inFeatures], trainable);
        Bias = bias ? store.Add(name + ".bias", [outFeatures], trainable) : null;
    }

    public int In { get; }
    public int Out { get; }
    public Parameter Weight { get; }
    public Parameter? Bias { get; }

    /// <summary>y[r, o] = Σ_i x[r, i]·W[o, i] + b[o]; overwrites y.</summary>
    public void Forward(ReadOnlySpan<T> x, Span<T> y, int rows)
    {
        long t0 = StepProfiler.Start();
        Gemm.NT<T>(x, _store.Value(Weight), Bias is null ? default : _store.Value(Bias), y, rows, Out, In, accumulate: false);
        StepProfiler.Stop("linear.fwd", t0);
    }

    /// <summary>
    /// Backward of <see cref="Forward"/>: dW += dyᵀ x, db += Σ_rows dy, and dx += dy W when dx is not empty.
    /// Frozen parameters get no gradient.
    /// </summary>
    public void Backward(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dx, int rows) => Backward(x, dy, dx, rows, accumulateDx: true);

    /// <summary>As <see cref="Backward(ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, int)"/>; with accumulateDx false, dx is overwritten (no clearing pass needed).</summary>
    public void Backward(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dx, int rows, bool accumulateDx)
    {
        long t0 = StepProfiler.Start();
        if (Weight.Trainable) Gemm.TN<T>(dy, x, _store.Grad(Weight), Out, In, rows, accumulate: true);
        StepProfiler.Stop("linear.bwd.dW", t0); t0 = StepProfiler.Start();
        if (Bias is not null && Bias.Trainable) Elementwise.ColumnSums<T>(dy, rows, Out, _store.Grad(Bias), accumulate: true);
        StepProfiler.Stop("linear.bwd.db", t0); t0 = StepProfiler.Start();
        if (!dx.IsEmpty) Gemm.NN<T>(dy, _store.Value(Weight), dx, rows, In, Out, accumulate: accumulateDx);
        StepProfiler.Stop("linear.bwd.dx", t0);
    }

    /// <summary>
    /// Forward-mode tangent: dy = dx Wᵀ + x dWᵀ + db with (dW, db) this layer's slices of <paramref name="v"/>
    /// (zero when frozen); dx may be empty (zero). Two GEMMs (one without dx); overwrites dy.
    /// </summary>
    public void ForwardTangent(ReadOnlySpan<T> x, ReadOnlySpan<T> dx, ReadOnlySpan<T> v, Span<T> dy, int rows)
    {
        long t0 = StepProfiler.Start();
        ReadOnlySpan<T> dW = Weight.Trainable ? v.Slice(Weight.Offset, Weight.Length) : default;
        ReadOnlySpan<T> db = Bias is not null && Bias.Trainable ? v.Slice(Bias.Offset, Bias.Length) : default;
        var y = dy[..(rows * Out)];
        // y = x Wᵀ + b:  dy = dx Wᵀ + db  (+ x dWᵀ)
        if (!dx.IsEmpty)
        {
            Gemm.NT<T>(dx, _store.Value(Weight), db, y, rows, Out, In, accumulate: false);
            if (!dW.IsEmpty) Gemm.NT<T>(x, dW, y, rows, Out, In, accumulate: true);
        }
        else if (!dW.IsEmpty) Gemm.NT<T>(x, dW, db, y, rows, Out, In, accumulate: false);
        else if (db.IsEmpty) y.Clear();
        else for (int r = 0; r < rows; r++) db.CopyTo(y.Slice(r * Out, Out));
        StepProfiler.Stop("linear.tangent", t0);
    }

    /// <summary>Multiply-adds of one forward over <paramref name="rows"/> rows (backward is 2x: dx and dW).</summary>
    public long MultiplyAdds(long rows) => rows * In * Out;

    /// <summary>Copies W [out, in] into <paramref name="weight"/>.</summary>
    public void ToDense(Span<T> weight) => _store.Value(Weight).CopyTo(weight);
}

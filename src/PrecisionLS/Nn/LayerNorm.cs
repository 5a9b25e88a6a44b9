using System.Numerics;
using System.Numerics.Tensors;
using PrecisionLS.Bench;

namespace PrecisionLS.Nn;

/// <summary>
/// The authors' LayerNorm over the last dimension (REFERENCE §2, fixture layernorm; F.layer_norm with eps 1e-5):
/// <code>
/// y[r, :] = (x[r, :] − μ_r) · rstd_r · weight + bias,   μ_r = mean_i x[r, i],
/// rstd_r = 1 / sqrt(σ²_r + eps),                      σ²_r = mean_i (x[r, i] − μ_r)²   (biased variance)
/// </code>
/// Parameters "{name}.weight" and "{name}.bias" [d] (bias optional, as the authors' bias flag).
/// Forward keeps only μ and rstd per row and Backward recomputes x̂ = (x − μ)·rstd from x (the llm.c trade).
/// The identity used when a use_*_ln flag is off is not this class: the model simply does not create it.
/// </summary>
public sealed class LayerNorm<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ParameterStore<T> _store;
    private readonly int _d;
    private readonly T _eps;
    // Forward caches, [rows] each.
    private T[] _mean = [], _rstd = [];
    // Backward row scratch, [d] each.
    private readonly T[] _xhat, _dxhat;

    /// <summary>LayerNorm over rows of width <paramref name="d"/> (weight 1 and bias 0 until initialised or loaded).</summary>
    public LayerNorm(ParameterStore<T> store, string name, int d, bool bias = true, double eps = 1e-5)
    {
        if (d < 1) throw new ArgumentOutOfRangeException(nameof(d), d, $"LayerNorm '{name}': width {d} (model.n_embd) must be a positive integer");
        if (!(eps > 0)) throw new ArgumentOutOfRangeException(nameof(eps), eps, $"LayerNorm '{name}': eps {eps} must be positive");
        _store = store; _d = d; Eps = eps; _eps = T.CreateChecked(eps);
        Weight = store.Add(name + ".weight", [d]);
        Bias = bias ? store.Add(name + ".bias", [d]) : null;
        _xhat = new T[d]; _dxhat = new T[d];
    }

    /// <summary>Normalised width d.</summary>
    public int D => _d;
    /// <summary>Added to the variance (1e-5, the authors' value).</summary>
    public double Eps { get; }
    public Parameter Weight { get; }
    public Parameter? Bias { get; }

    /// <summary>Per-row mean of the last forward (valid for its rows).</summary>
    public ReadOnlySpan<T> Mean => _mean;
    /// <summary>Per-row 1/sqrt(var + eps) of the last forward.</summary>
    public ReadOnlySpan<T> ReciprocalStd => _rstd;

    /// <summary>y = LayerNorm(x) row by row; x, y [rows, d]; overwrites y (y may alias x). Keeps μ and rstd per row.</summary>
    public void Forward(ReadOnlySpan<T> x, Span<T> y, int rows)
    {
        int d = _d;
        long n = (long)rows * d;
        CheckLength(x.Length, n, "x"); CheckLength(y.Length, n, "y");
        long t0 = StepProfiler.Start();
        Buffers.Ensure(ref _mean, rows); Buffers.Ensure(ref _rstd, rows);
        var w = _store.Value(Weight);
        var b = Bias is null ? default : _store.Value(Bias);
        T invD = T.One / T.CreateChecked(d);
        for (int r = 0; r < rows; r++)
        {
            var xr = x.Slice(r * d, d);
            var yr = y.Slice(r * d, d);
            // REFERENCE §2 LayerNorm: two passes (mean, then the centred sum of squares) as PyTorch's float64 path.
            T mean = TensorPrimitives.Sum(xr) * invD;
            TensorPrimitives.Subtract(xr, mean, yr);                      // y = x − μ
            T variance = TensorPrimitives.SumOfSquares<T>(yr) * invD;
            T rstd = T.One / T.Sqrt(variance + _eps);
            _mean[r] = mean; _rstd[r] = rstd;
            TensorPrimitives.Multiply(yr, rstd, yr);                      // y = x̂
            if (b.IsEmpty) TensorPrimitives.Multiply(yr, w, yr);
            else TensorPrimitives.FusedMultiplyAdd(yr, w, b, yr);         // y = x̂·weight + bias
        }
        StepProfiler.Stop("layernorm.fwd", t0);
    }

    /// <summary>
    /// Backward of <see cref="Forward"/> on the same x (its μ and rstd must still be cached):
    /// dweight += Σ_r dy·x̂, dbias += Σ_r dy, and dx += rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) with ĝ = dy·weight.
    /// </summary>
    public void Backward(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dx, int rows) => Backward(x, dy, dx, rows, accumulateDx: true);

    /// <summary>As <see cref="Backward(ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, int)"/>; with accumulateDx false, dx is overwritten (dx may then alias dy).</summary>
    public void Backward(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dx, int rows, bool accumulateDx)
    {
        int d = _d;
        long n = (long)rows * d;
        CheckLength(x.Length, n, "x"); CheckLength(dy.Length, n, "dy"); CheckLength(dx.Length, n, "dx");
        if (_mean.Length < rows) throw new InvalidOperationException($"LayerNorm backward over {rows} rows, but the last forward kept {_mean.Length}");
        long t0 = StepProfiler.Start();
        var w = _store.Value(Weight);
        var dw = Weight.Trainable ? _store.Grad(Weight) : default;
        var db = Bias is not null && Bias.Trainable ? _store.Grad(Bias) : default;
        var xhat = _xhat.AsSpan(); var g = _dxhat.AsSpan();
        T invD = T.One / T.CreateChecked(d);
        for (int r = 0; r < rows; r++)
        {
            var xr = x.Slice(r * d, d);
            var dyr = dy.Slice(r * d, d);
            var dxr = dx.Slice(r * d, d);
            T rstd = _rstd[r];
            TensorPrimitives.Subtract(xr, _mean[r], xhat);
            TensorPrimitives.Multiply(xhat, rstd, xhat);                  // x̂ = (x − μ)·rstd, recomputed
            // y = x̂·weight + bias:  dweight += dy·x̂,  dbias += dy,  ĝ = dy·weight
            if (!dw.IsEmpty) TensorPrimitives.FusedMultiplyAdd(dyr, xhat, dw, dw);
            if (!db.IsEmpty) TensorPrimitives.Add(db, dyr, db);
            TensorPrimitives.Multiply(dyr, w, g);
            // x̂ = (x − μ)·rstd:  dx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂))
            T meanG = TensorPrimitives.Sum<T>(g) * invD;
            T meanGx = TensorPrimitives.Dot<T>(g, xhat) * invD;
            TensorPrimitives.MultiplyAdd(xhat, -meanGx, g, g);              // ĝ − x̂·mean(ĝ·x̂)
            TensorPrimitives.Subtract(g, meanG, g);
            if (accumulateDx) TensorPrimitives.MultiplyAdd(g, rstd, dxr, dxr);
            else TensorPrimitives.Multiply(g, rstd, dxr);
        }
        StepProfiler.Stop("layernorm.bwd", t0);
    }

    /// <summary>
    /// Forward-mode tangent on Forward's x (μ and rstd still cached): with c = x − μ, dc = dx − mean(dx),
    /// dx̂ = rstd·(dc − x̂·mean(x̂·dc)) (from d rstd = −rstd³·mean(c·dc)), and dy = dx̂·weight + x̂·dweight + dbias,
    /// (dweight, dbias) this layer's slices of <paramref name="v"/> (zero when frozen). dx may be empty (zero).
    /// Overwrites dy.
    /// </summary>
    public void ForwardTangent(ReadOnlySpan<T> x, ReadOnlySpan<T> dx, ReadOnlySpan<T> v, Span<T> dy, int rows)
    {
        int d = _d;
        long n = (long)rows * d;
        CheckLength(x.Length, n, "x"); CheckLength(dy.Length, n, "dy");
        if (!dx.IsEmpty) CheckLength(dx.Length, n, "dx");
        if (_mean.Length < rows) throw new InvalidOperationException($"LayerNorm tangent over {rows} rows, but the last forward kept {_mean.Length}");
        long t0 = StepProfiler.Start();
        var w = _store.Value(Weight);
        ReadOnlySpan<T> dw = Weight.Trainable ? v.Slice(Weight.Offset, Weight.Length) : default;
        ReadOnlySpan<T> db = Bias is not null && Bias.Trainable ? v.Slice(Bias.Offset, Bias.Length) : default;
        var xhat = _xhat.AsSpan(); var dc = _dxhat.AsSpan();
        T invD = T.One / T.CreateChecked(d);
        for (int r = 0; r < rows; r++)
        {
            var xr = x.Slice(r * d, d);
            var dyr = dy.Slice(r * d, d);
            T rstd = _rstd[r];
            TensorPrimitives.Subtract(xr, _mean[r], xhat);
            TensorPrimitives.Multiply(xhat, rstd, xhat);                  // x̂ = (x − μ)·rstd, recomputed
            if (!dx.IsEmpty)
            {
                var dxr = dx.Slice(r * d, d);
                // x̂ = (x − μ)·rstd:  dx̂ = rstd·(dc − x̂·mean(x̂·dc)),  dc = dx − mean(dx)
                TensorPrimitives.Subtract(dxr, TensorPrimitives.Sum(dxr) * invD, dc);
                T m = TensorPrimitives.Dot<T>(xhat, dc) * invD;
                TensorPrimitives.MultiplyAdd(xhat, -m, dc, dc);
                TensorPrimitives.Multiply(dc, rstd, dc);
                // y = x̂·weight + bias:  dy = dx̂·weight (+ x̂·dweight + dbias)
                TensorPrimitives.Multiply(dc, w, dyr);
            }
            else dyr.Clear();
            if (!dw.IsEmpty) TensorPrimitives.FusedMultiplyAdd(xhat, dw, dyr, dyr);
            if (!db.IsEmpty) TensorPrimitives.Add(dyr, db, dyr);
        }
        StepProfiler.Stop("layernorm.tangent", t0);
    }

    /// <summary>
    /// Multiply-adds of one forward over <paramref name="rows"/> rows: 3 per element (the centred sum of squares,
    /// the scaling by rstd and the affine weight/bias); backward is about twice that.
    /// </summary>
    public long ForwardMultiplyAdds(long rows) => 3 * rows * _d;

    private static void CheckLength(int have, long need, string name)
    {
        if (have < need) throw new ArgumentException($"{name} holds {have} values, LayerNorm needs rows*d = {need}", name);
    }
}

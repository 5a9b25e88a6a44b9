using System.Numerics;

namespace PrecisionLS.Nn;

/// <summary>
/// A layer y = x Wᵀ + b over rows, whatever the structure of W: dense (<see cref="Linear{T}"/>), Monarch
/// (<see cref="MonarchLinear{T}"/>) or block-diagonal (<see cref="BlockdiagLinear{T}"/>). What an MLP's c_fc and
/// c_proj are (model.mlp_type picks which). x [rows, In], y [rows, Out].
/// </summary>
public interface ILinearLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Input features.</summary>
    int In { get; }
    /// <summary>Output features.</summary>
    int Out { get; }
    /// <summary>The bias [Out], or null without one.</summary>
    Parameter? Bias { get; }

    /// <summary>y = x Wᵀ + b; overwrites y. Keeps what <see cref="Backward"/> needs.</summary>
    void Forward(ReadOnlySpan<T> x, Span<T> y, int rows);

    /// <summary>
    /// Backward of <see cref="Forward"/> on the same x: adds the parameter gradients (frozen ones excepted) and, when
    /// dx is not empty, dx (+)= dy W (overwritten unless <paramref name="accumulateDx"/>).
    /// </summary>
    void Backward(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dx, int rows, bool accumulateDx);

    /// <summary>
    /// Forward-mode tangent on Forward's x: dy = dx Wᵀ + x dWᵀ + db, where dW, db are this layer's slices of the
    /// parameter direction <paramref name="v"/> (laid out as the store's values; zero when frozen) and dx may be
    /// empty (zero). Overwrites dy; leaves Backward's caches untouched.
    /// </summary>
    void ForwardTangent(ReadOnlySpan<T> x, ReadOnlySpan<T> dx, ReadOnlySpan<T> v, Span<T> dy, int rows);

    /// <summary>Multiply-adds of one forward over <paramref name="rows"/> rows (backward is about 2x).</summary>
    long MultiplyAdds(long rows);

    /// <summary>The effective weight W [Out, In] (y = x Wᵀ + b); overwrites <paramref name="weight"/>.</summary>
    void ToDense(Span<T> weight);
}

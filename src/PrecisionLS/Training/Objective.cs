using System.Numerics;
using System.Numerics.Tensors;

namespace PrecisionLS.Training;

/// <summary>
/// A smooth objective f(x) over a flat parameter vector, as the second-order optimizers see it (<see cref="Lbfgs{T}"/>,
/// <see cref="LevenbergMarquardt{T}"/>). In training it is the task loss on one fixed batch.
/// </summary>
public interface IObjective<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Length of x.</summary>
    int Dimension { get; }
    /// <summary>f(x); writes ∇f(x) to <paramref name="gradient"/>.</summary>
    double Evaluate(ReadOnlySpan<T> x, Span<T> gradient);
}

/// <summary>
/// A least-squares objective f(x) = ½‖r(x)‖² with its Gauss-Newton curvature JᵀJ (J = ∂r/∂x), for
/// <see cref="LevenbergMarquardt{T}"/>. Products are matrix-free: JᵀJ v costs one tangent (forward-mode) pass and
/// one backward pass, and JᵀJ is never formed.
/// </summary>
public interface ILeastSquaresObjective<T> : IObjective<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>f(x) only (no gradient).</summary>
    double Value(ReadOnlySpan<T> x);
    /// <summary>f(x) and ∇f(x) = Jᵀr; x becomes the point at which <see cref="GaussNewtonProduct"/> linearises.</summary>
    double Linearize(ReadOnlySpan<T> x, Span<T> gradient);
    /// <summary>result = Jᵀ(J v) at the last linearisation point.</summary>
    void GaussNewtonProduct(ReadOnlySpan<T> v, Span<T> result);
    /// <summary>Length of r.</summary>
    int ResidualCount { get; }
    /// <summary>result = Jᵀu at the last linearisation point, for a residual-space vector u (one backward pass).</summary>
    void JacobianTransposeProduct(ReadOnlySpan<T> u, Span<T> result);
    /// <summary>r at the last linearisation point (∇f = Jᵀr), <see cref="ResidualCount"/> values.</summary>
    void LinearizedResiduals(Span<T> residuals);
    /// <summary>J at the last linearisation point, row-major [<see cref="ResidualCount"/>, <see cref="IObjective{T}.Dimension"/>]
    /// (for direct Gauss-Newton solves).</summary>
    void LinearizedJacobian(T[] rows);
}

/// <summary>Flat vector helpers of the optimizers (sums in double, one fixed order).</summary>
internal static class Vec
{
    public static double Dot<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y) where T : unmanaged, IFloatingPointIeee754<T> =>
        double.CreateChecked(TensorPrimitives.Dot(x, y));

    public static double Norm<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T> => Math.Sqrt(Dot(x, x));

    /// <summary>dst = a·x + y (dst may alias y).</summary>
    public static void Axpy<T>(double a, ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> dst) where T : unmanaged, IFloatingPointIeee754<T> =>
        TensorPrimitives.MultiplyAdd(x, T.CreateChecked(a), y, dst);

    /// <summary>dst = a·x (dst may alias x).</summary>
    public static void Scale<T>(double a, ReadOnlySpan<T> x, Span<T> dst) where T : unmanaged, IFloatingPointIeee754<T> =>
        TensorPrimitives.Multiply(x, T.CreateChecked(a), dst);
}

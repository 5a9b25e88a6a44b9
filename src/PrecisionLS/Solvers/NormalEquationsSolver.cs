using MathNet.Numerics.LinearAlgebra;

namespace PrecisionLS.Solvers;

/// <summary>
/// Least squares by the normal equations: AᵀA x = Aᵀb, solved with a Cholesky factorisation of AᵀA. Cheaper than QR
/// but it squares the condition number (cond(AᵀA) = cond(A)²), so its error is larger on ill-conditioned A.
/// </summary>
/// <remarks>LAPACK equivalent: dsyrk + dposv. Allocates MathNet matrices per problem.</remarks>
public sealed class NormalEquationsSolver : ILeastSquaresSolver
{
    /// <inheritdoc/>
    public string Name => "normal";
    /// <inheritdoc/>
    public bool IsDirect => true;

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">AᵀA is not positive definite (A is rank-deficient), as MathNet reports it.</exception>
    public int Solve(ReadOnlySpan<double> a, ReadOnlySpan<double> b, ReadOnlySpan<double> xInit, int points, int dims, Span<double> x)
    {
        SolverChecks.Problem(a, b, xInit, points, dims, x, needsInit: false);
        var m = Matrix<double>.Build.DenseOfRowMajor(points, dims, a[..(points * dims)].ToArray());
        var rhs = m.TransposeThisAndMultiply(Vector<double>.Build.Dense(b[..points].ToArray()));   // Aᵀb
        var solution = m.TransposeThisAndMultiply(m).Cholesky().Solve(rhs);                      // (AᵀA)⁻¹ Aᵀb
        for (int j = 0; j < dims; j++) x[j] = solution[j];
        return 1;
    }
}

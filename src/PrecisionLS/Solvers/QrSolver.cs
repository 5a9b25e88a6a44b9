using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;

namespace PrecisionLS.Solvers;

/// <summary>
/// Least squares by a thin Householder QR factorisation, A = Q R, x = R⁻¹ Qᵀ b (MathNet.Numerics): backward stable,
/// its error grows with cond(A), not cond(A)², so it is the reference the other baselines are measured against.
/// </summary>
/// <remarks>LAPACK equivalent: dgels. Allocates MathNet matrices per problem (a baseline, not a hot path).</remarks>
public sealed class QrSolver : ILeastSquaresSolver
{
    /// <inheritdoc/>
    public string Name => "qr";
    /// <inheritdoc/>
    public bool IsDirect => true;

    /// <inheritdoc/>
    public int Solve(ReadOnlySpan<double> a, ReadOnlySpan<double> b, ReadOnlySpan<double> xInit, int points, int dims, Span<double> x)
    {
        SolverChecks.Problem(a, b, xInit, points, dims, x, needsInit: false);
        var m = Matrix<double>.Build.DenseOfRowMajor(points, dims, a[..(points * dims)].ToArray());
        var solution = m.QR(QRMethod.Thin).Solve(Vector<double>.Build.Dense(b[..points].ToArray()));
        for (int j = 0; j < dims; j++) x[j] = solution[j];
        return 1;
    }
}

using MathNet.Numerics.LinearAlgebra;

namespace PrecisionLS.Solvers;

/// <summary>
/// Exact gradient descent on f(x) = (1/2L)|A x - b|² with the optimal fixed step of each problem:
/// x ← x - η* (1/L) Aᵀ(A x - b) for K iterations from x_init, η* = 2 / (λ_min + λ_max) of H = (1/L) AᵀA.
/// </summary>
/// <remarks>
/// <para>The same iteration the learned gradient models are iterated with (REFERENCE §5), with the best fixed step:
/// the error e = x - x* obeys e ← (I - η* H) e, whose spectral radius is ρ = (κ - 1)/(κ + 1), κ = λ_max/λ_min =
/// cond(A)². On H = diag(λ_i) each error component shrinks by exactly (1 - η* λ_i) per iteration.</para>
/// <para>The step costs a symmetric eigendecomposition of H per problem (MathNet); the iterations allocate nothing.
/// Not thread-safe.</para>
/// </remarks>
/// <param name="iterations">K, the number of gradient steps (0 returns x_init).</param>
public sealed class GradientDescentSolver(int iterations) : ILeastSquaresSolver
{
    private double[] _g = [], _r = [];

    /// <summary>K, gradient steps per problem.</summary>
    public int Iterations { get; } = iterations >= 0 ? iterations
        : throw new ArgumentOutOfRangeException(nameof(iterations), iterations, "iterations must be >= 0");

    /// <summary>The contraction factor ρ = (κ-1)/(κ+1) of the last problem solved (NaN before the first).</summary>
    public double LastRate { get; private set; } = double.NaN;

    /// <inheritdoc/>
    public string Name => "gd";
    /// <inheritdoc/>
    public bool IsDirect => false;

    /// <summary>
    /// The extreme eigenvalues (λ_min, λ_max) of H = (1/L) AᵀA for A [points, dims] row-major.
    /// </summary>
    public static (double Min, double Max) HessianExtremes(ReadOnlySpan<double> a, int points, int dims)
    {
        var m = Matrix<double>.Build.DenseOfRowMajor(points, dims, a[..(points * dims)].ToArray());
        var h = m.TransposeThisAndMultiply(m) / points;
        var eig = h.Evd(Symmetricity.Symmetric).EigenValues;
        double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
        foreach (var e in eig) { lo = Math.Min(lo, e.Real); hi = Math.Max(hi, e.Real); }
        return (lo, hi);
    }

    /// <summary>η* = 2 / (λ_min + λ_max) of H = (1/L) AᵀA, the fixed step that minimises max_i |1 - η λ_i|.</summary>
    public static double OptimalStep(ReadOnlySpan<double> a, int points, int dims)
    {
        var (lo, hi) = HessianExtremes(a, points, dims);
        return 2.0 / (lo + hi);
    }

    /// <inheritdoc/>
    /// <returns>K.</returns>
    public int Solve(ReadOnlySpan<double> a, ReadOnlySpan<double> b, ReadOnlySpan<double> xInit, int points, int dims, Span<double> x)
    {
        SolverChecks.Problem(a, b, xInit, points, dims, x, needsInit: true);
        var (lo, hi) = HessianExtremes(a, points, dims);
        double eta = 2.0 / (lo + hi);
        LastRate = (hi - lo) / (hi + lo);                          // (κ - 1)/(κ + 1) with κ = hi/lo
        Iterate(a, b, xInit, points, dims, eta, Iterations, x);
        return Iterations;
    }

    /// <summary>
    /// K steps x ← x - η (1/L) Aᵀ(A x - b) from xInit with a given step; writes x [dims]. Allocates nothing after the
    /// first call at this size.
    /// </summary>
    public void Iterate(ReadOnlySpan<double> a, ReadOnlySpan<double> b, ReadOnlySpan<double> xInit, int points, int dims, double eta, int k, Span<double> x)
    {
        SolverChecks.Problem(a, b, xInit, points, dims, x, needsInit: true);
        if (_g.Length < dims) _g = new double[dims];
        if (_r.Length < points) _r = new double[points];
        Span<double> g = _g.AsSpan(0, dims), r = _r.AsSpan(0, points);
        int l = points, d = dims;
        xInit[..d].CopyTo(x);
        for (int it = 0; it < k; it++)
        {
            for (int i = 0; i < l; i++)                            // r = A x - b
            {
                double acc = -b[i];
                for (int j = 0; j < d; j++) acc += a[i * d + j] * x[j];
                r[i] = acc;
            }
            g.Clear();
            for (int i = 0; i < l; i++)                            // g = Aᵀ r
                for (int j = 0; j < d; j++) g[j] += a[i * d + j] * r[i];
            for (int j = 0; j < d; j++) x[j] -= eta * (g[j] / l);  // as ProblemSet.Gradient: (1/L) Aᵀ(A x - b)
        }
    }
}

namespace PrecisionLS.Solvers;

/// <summary>
/// Conjugate gradient on the normal equations AᵀA x = Aᵀb in the CGLS form (Björck, "Numerical Methods for Least
/// Squares Problems", §7.4), which never forms AᵀA: in exact arithmetic it terminates in at most D iterations.
/// </summary>
/// <remarks>
/// <para>From x₀ = x_init: r = b - A x, s = Aᵀr, p = s, γ = |s|²; each iteration q = A p, α = γ/|q|², x += α p,
/// r -= α q, s = Aᵀr, γ' = |s|², p = s + (γ'/γ) p. It stops when |Aᵀr| &lt;= <see cref="Tolerance"/>·|Aᵀr₀| (the
/// normal-equations residual relative to the start), when it is exactly zero, or after <see cref="MaxIterations"/>.</para>
/// <para>Allocates its work vectors once per instance (resized for a larger D); not thread-safe.</para>
/// </remarks>
/// <param name="tolerance">Relative residual |Aᵀr| / |Aᵀr₀| at which to stop (default 1e-14, below which float64
/// rounding of Aᵀr dominates on well-conditioned problems).</param>
/// <param name="maxIterations">Iteration cap (at least 1).</param>
public sealed class ConjugateGradientSolver(double tolerance = ConjugateGradientSolver.DefaultTolerance, int maxIterations = 1000) : ILeastSquaresSolver
{
    /// <summary>Default relative residual at which iteration stops.</summary>
    public const double DefaultTolerance = 1e-14;

    private double[] _r = [], _s = [], _p = [], _q = [];

    /// <summary>Relative normal-equations residual at which iteration stops.</summary>
    public double Tolerance { get; } = tolerance >= 0 && double.IsFinite(tolerance) ? tolerance
        : throw new ArgumentOutOfRangeException(nameof(tolerance), tolerance, "the tolerance must be finite and >= 0");
    /// <summary>Most iterations per problem.</summary>
    public int MaxIterations { get; } = maxIterations >= 1 ? maxIterations
        : throw new ArgumentOutOfRangeException(nameof(maxIterations), maxIterations, "at least 1 iteration");

    /// <inheritdoc/>
    public string Name => "cg";
    /// <inheritdoc/>
    public bool IsDirect => false;

    /// <inheritdoc/>
    /// <returns>Iterations taken (0 when x_init already solves the normal equations).</returns>
    public int Solve(ReadOnlySpan<double> a, ReadOnlySpan<double> b, ReadOnlySpan<double> xInit, int points, int dims, Span<double> x)
    {
        SolverChecks.Problem(a, b, xInit, points, dims, x, needsInit: true);
        if (_r.Length < points) _r = new double[points];
        if (_q.Length < points) _q = new double[points];
        if (_s.Length < dims) { _s = new double[dims]; _p = new double[dims]; }
        Span<double> r = _r.AsSpan(0, points), q = _q.AsSpan(0, points), s = _s.AsSpan(0, dims), p = _p.AsSpan(0, dims);
        int l = points, d = dims;

        xInit[..d].CopyTo(x);
        for (int i = 0; i < l; i++) r[i] = b[i] - Dot(a.Slice(i * d, d), x[..d]);     // r = b - A x
        TransposeTimes(a, r, l, d, s);                                                    // s = Aᵀr
        s.CopyTo(p);
        double gamma = Dot(s, s);
        double stop = Tolerance * Math.Sqrt(gamma);
        int k = 0;
        while (k < MaxIterations && gamma > 0 && Math.Sqrt(gamma) > stop)
        {
            for (int i = 0; i < l; i++) q[i] = Dot(a.Slice(i * d, d), p);                // q = A p
            double qq = Dot(q, q);
            if (!(qq > 0)) break;                                                         // p in the null space of A: nothing left to gain
            double alpha = gamma / qq;
            for (int j = 0; j < d; j++) x[j] += alpha * p[j];
            for (int i = 0; i < l; i++) r[i] -= alpha * q[i];
            TransposeTimes(a, r, l, d, s);
            double next = Dot(s, s);
            double beta = next / gamma;
            for (int j = 0; j < d; j++) p[j] = s[j] + beta * p[j];
            gamma = next;
            k++;
        }
        return k;
    }

    private static double Dot(ReadOnlySpan<double> u, ReadOnlySpan<double> v)
    {
        double acc = 0;
        for (int i = 0; i < u.Length; i++) acc += u[i] * v[i];
        return acc;
    }

    // dst = Aᵀ v, A [l, d] row-major, v [l]; overwrites dst.
    private static void TransposeTimes(ReadOnlySpan<double> a, ReadOnlySpan<double> v, int l, int d, Span<double> dst)
    {
        dst.Clear();
        for (int i = 0; i < l; i++)
        {
            double vi = v[i];
            for (int j = 0; j < d; j++) dst[j] += a[i * d + j] * vi;
        }
    }
}

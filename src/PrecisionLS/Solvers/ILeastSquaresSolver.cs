namespace PrecisionLS.Solvers;

/// <summary>
/// A classical least-squares solver used as a float64 baseline (<c>solve</c>): finds x minimising |A x - b|² for one
/// problem, A [L, D] row-major, b [L], starting (when iterative) from x_init [D].
/// </summary>
public interface ILeastSquaresSolver
{
    /// <summary>Name as on the command line (qr, normal, cg, gd).</summary>
    string Name { get; }

    /// <summary>True for direct factorisations (no iterations to count).</summary>
    bool IsDirect { get; }

    /// <summary>
    /// Solves one problem: a [points, dims] row-major, b [points], xInit [dims] (ignored by direct methods);
    /// writes the solution into x [dims] and returns the iterations taken (1 for a direct method).
    /// </summary>
    /// <exception cref="ArgumentException">A span is too short, or the problem has fewer equations than unknowns.</exception>
    int Solve(ReadOnlySpan<double> a, ReadOnlySpan<double> b, ReadOnlySpan<double> xInit, int points, int dims, Span<double> x);
}

/// <summary>Shared argument checks of the solvers.</summary>
internal static class SolverChecks
{
    /// <summary>Throws unless the spans hold a [points, dims] problem and x has room, and points &gt;= dims.</summary>
    public static void Problem(ReadOnlySpan<double> a, ReadOnlySpan<double> b, ReadOnlySpan<double> xInit, int points, int dims, Span<double> x, bool needsInit)
    {
        if (points < 1 || dims < 1) throw new ArgumentException($"problem size {points}x{dims}: both must be at least 1");
        // x* is the unique minimiser only with full column rank, which needs at least as many equations as unknowns.
        if (points < dims)
            throw new ArgumentException($"problem size {points}x{dims}: least squares needs n_points >= n_dims for a unique solution");
        if (a.Length < points * dims) throw new ArgumentException($"a has {a.Length} values, needs {points}·{dims} = {points * dims}", nameof(a));
        if (b.Length < points) throw new ArgumentException($"b has {b.Length} values, needs {points}", nameof(b));
        if (needsInit && xInit.Length < dims) throw new ArgumentException($"xInit has {xInit.Length} values, needs {dims}", nameof(xInit));
        if (x.Length < dims) throw new ArgumentException($"x has {x.Length} values, needs {dims}", nameof(x));
    }
}

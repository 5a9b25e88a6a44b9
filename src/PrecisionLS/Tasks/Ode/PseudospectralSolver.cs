using System.Numerics.Tensors;

namespace PrecisionLS.Tasks;

/// <summary>
/// Chebyshev collocation solve of u'(x) = a1 c(x) + a2 c(x) u(x) + a3 u(x) + a4 on [-1, 1] with "initial
/// condition" u0 at the middle node (REFERENCE §1 ODE task; fixture ode_solve; the authors'
/// pseudospectral_solve_batch with c1 = c2 = c):
/// M = D - a3 I + a3 e eᵀ - a2 diag(c),  rhs = a1 c + a4 1 + a3 u0 e,  u = M⁻¹ rhs,
/// with D the Chebyshev differentiation matrix and e the unit vector at node N/2.
/// </summary>
/// <remarks>
/// <para>No row of M is replaced by the initial condition: u0 enters only through a3 u0 at the middle node, whose
/// equation reads u'(x_{N/2}) = a1 c + a2 c u + a4 + a3 u0 (u replaced by u0 in the a3 term). So u(0) = u0 holds
/// only approximately (|u(x_{N/2}) - u0| ~ 1e-7 in the fixture; up to ~1e-2 at operator_scale 0.1, where |a3| can
/// be tiny), and not at all when a3 = 0 (then u0 is ignored). This is the authors' system, kept as is.</para>
/// <para>cond(M) is about 1e5 in the fixture, up to ~1e6 at operator_scale 1 and ~5e7 at 0.1: small a3 leaves M
/// close to D - a2 diag(c), and D annihilates constants. Two backward-stable solvers agree to about cond(M)·eps.</para>
/// <para>The system is solved by LU with partial pivoting (getrf/getrs, written out: 41 × 41 is small).
/// When a2 = 0 (eqn_class 1) M depends on a3 alone, so a solve with the same a3 as the previous one reuses its
/// factorization; the result is identical to a fresh factorization.</para>
/// <para>Allocates nothing after construction. Not thread-safe: one solver per thread.</para>
/// </remarks>
public sealed class PseudospectralSolver
{
    private readonly double[] _lu;           // [n, n] row-major: M, then its LU factors in place
    private readonly int[] _pivot;           // [n]: row swapped with row k at step k
    private readonly double[] _column;       // [n] scratch of the factorization
    private bool _factored;
    private double _factoredA2 = double.NaN, _factoredA3 = double.NaN;

    /// <summary>Creates a solver on <paramref name="grid"/> (default: N = 40).</summary>
    /// <param name="grid">Chebyshev grid; N must be even so that the middle node N/2 exists.</param>
    /// <exception cref="ArgumentException">N is odd.</exception>
    public PseudospectralSolver(ChebyshevGrid? grid = null)
    {
        Grid = grid ?? ChebyshevGrid.Default;
        if (Grid.N % 2 != 0)
            throw new ArgumentException($"n_cheb = {Grid.N}: the initial condition sits at node N/2, so N must be even", nameof(grid));
        int n = Grid.Size;
        _lu = new double[n * n];
        _pivot = new int[n];
        _column = new double[n];
    }

    /// <summary>The collocation grid.</summary>
    public ChebyshevGrid Grid { get; }
    /// <summary>Index N/2 of the node carrying the initial condition (x = cos(π/2) = 6.1e-17).</summary>
    public int Middle => Grid.N / 2;

    /// <summary>
    /// M = D - a3 I + a3 e eᵀ - a2 diag(c) and rhs = a1 c + a4 1 + a3 u0 e for one equation; overwrites
    /// m [(N+1)²] (row-major) and rhs [N+1]. Evaluated in the authors' order, term by term.
    /// </summary>
    /// <param name="grid">Collocation grid (N even).</param>
    /// <param name="a1">Forcing coefficient.</param>
    /// <param name="a2">Coefficient of c u.</param>
    /// <param name="a3">Coefficient of u.</param>
    /// <param name="a4">Constant term.</param>
    /// <param name="u0">Value imposed (through a3) at the middle node.</param>
    /// <param name="c">Forcing c at the nodes [N+1].</param>
    /// <param name="m">Destination for M [(N+1)²].</param>
    /// <param name="rhs">Destination for rhs [N+1].</param>
    /// <exception cref="ArgumentException">A span has the wrong length or N is odd.</exception>
    public static void BuildSystem(ChebyshevGrid grid, double a1, double a2, double a3, double a4, double u0,
        ReadOnlySpan<double> c, Span<double> m, Span<double> rhs)
    {
        ArgumentNullException.ThrowIfNull(grid);
        if (grid.N % 2 != 0) throw new ArgumentException($"n_cheb = {grid.N}: N must be even", nameof(grid));
        int n = grid.Size;
        CheckLength(c.Length, n, nameof(c));
        CheckLength(m.Length, n * n, nameof(m));
        CheckLength(rhs.Length, n, nameof(rhs));
        FillMatrix(grid, a2, a3, c, m);
        FillRhs(grid.N / 2, a1, a3, a4, u0, c, rhs);
    }

    /// <summary>Solves M u = rhs for one equation (see the class summary); overwrites u [N+1].</summary>
    /// <param name="a1">Forcing coefficient.</param>
    /// <param name="a2">Coefficient of c u.</param>
    /// <param name="a3">Coefficient of u.</param>
    /// <param name="a4">Constant term.</param>
    /// <param name="u0">Value imposed (through a3) at the middle node.</param>
    /// <param name="c">Forcing c at the nodes [N+1].</param>
    /// <param name="u">Solution at the nodes [N+1].</param>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    /// <exception cref="InvalidOperationException">M is exactly singular (a zero pivot).</exception>
    public void Solve(double a1, double a2, double a3, double a4, double u0, ReadOnlySpan<double> c, Span<double> u)
    {
        int n = Grid.Size;
        CheckLength(c.Length, n, nameof(c));
        CheckLength(u.Length, n, nameof(u));
        bool reuse = _factored && a2 == 0.0 && _factoredA2 == 0.0 && a3.Equals(_factoredA3);
        if (!reuse)
        {
            FillMatrix(Grid, a2, a3, c, _lu);
            _factored = false;
            Factor(_lu, _pivot, _column, n);
            _factored = true; _factoredA2 = a2; _factoredA3 = a3;
        }
        FillRhs(Middle, a1, a3, a4, u0, c, u);
        SolveFactored(_lu, _pivot, n, u);
    }

    // REFERENCE §1: M = D - a3 I + a3 diag(e_mid) - a2 diag(c), as ((D - a3 I) + a3 e eᵀ) - a2 diag(c).
    private static void FillMatrix(ChebyshevGrid grid, double a2, double a3, ReadOnlySpan<double> c, Span<double> m)
    {
        int n = grid.Size, mid = grid.N / 2;
        grid.DifferentiationMatrix.CopyTo(m);
        for (int i = 0; i < n; i++)
        {
            double v = m[i * n + i] - a3;
            if (i == mid) v += a3;
            m[i * n + i] = v - a2 * c[i];
        }
    }

    // REFERENCE §1: rhs = a1 c + a4 1 + a3 u0 e_mid.
    private static void FillRhs(int mid, double a1, double a3, double a4, double u0, ReadOnlySpan<double> c, Span<double> rhs)
    {
        for (int i = 0; i < c.Length; i++) rhs[i] = a1 * c[i] + a4;
        rhs[mid] += a3 * u0;
    }

    /// <summary>In-place LU with partial pivoting of a [n, n] row-major: P a = L U, unit-lower L below the
    /// diagonal, U on and above; pivot[k] = the row swapped with row k at step k (getrf's output).</summary>
    /// <remarks>Left-looking (Crout/JAMA order): column j is finished with one dot product per entry,
    /// a_ij -= Σ_{k &lt; min(i, j)} l_ik u_kj, subtracted once (the substitutions likewise). Each entry takes one
    /// rounding for its whole update: the normwise backward error is ~5e-17, as MathNet's LU, against ~2e-16 with
    /// right-looking rank-1 updates. col [n] is scratch for column j.</remarks>
    private static void Factor(Span<double> a, Span<int> pivot, Span<double> col, int n)
    {
        for (int j = 0; j < n; j++)
        {
            for (int i = 0; i < n; i++) col[i] = a[i * n + j];
            for (int i = 0; i < n; i++)
            {
                int kmax = Math.Min(i, j);
                col[i] -= TensorPrimitives.Dot(a.Slice(i * n, kmax), col[..kmax]);
                a[i * n + j] = col[i];
            }
            int p = j; double best = Math.Abs(col[j]);
            for (int i = j + 1; i < n; i++)
            {
                double v = Math.Abs(col[i]);
                if (v > best) { best = v; p = i; }
            }
            if (best == 0.0) throw new InvalidOperationException($"the ODE system matrix is singular (zero pivot in column {j})");
            pivot[j] = p;
            if (p != j)
                for (int k = 0; k < n; k++) (a[j * n + k], a[p * n + k]) = (a[p * n + k], a[j * n + k]);
            double inv = 1.0 / a[j * n + j];
            for (int i = j + 1; i < n; i++) a[i * n + j] *= inv;
        }
    }

    /// <summary>Solves (P⁻¹ L U) x = b in place in b, given <see cref="Factor"/>'s output (getrs).</summary>
    private static void SolveFactored(ReadOnlySpan<double> lu, ReadOnlySpan<int> pivot, int n, Span<double> b)
    {
        for (int k = 0; k < n; k++)
            if (pivot[k] != k) (b[k], b[pivot[k]]) = (b[pivot[k]], b[k]);
        for (int i = 1; i < n; i++)                  // L y = P b (unit diagonal)
            b[i] -= TensorPrimitives.Dot(lu.Slice(i * n, i), b[..i]);
        for (int i = n - 1; i >= 0; i--)             // U x = y
            b[i] = (b[i] - TensorPrimitives.Dot(lu.Slice(i * n + i + 1, n - i - 1), b.Slice(i + 1, n - i - 1))) / lu[i * n + i];
    }

    private static void CheckLength(int length, int needed, string name)
    {
        if (length != needed) throw new ArgumentException($"{name} has {length} entries, needs {needed}", name);
    }
}

namespace PrecisionLS.Tasks;

/// <summary>
/// The Chebyshev points of the second kind on [-1, 1] and their spectral differentiation matrix
/// (REFERENCE §1 ODE task; fixture ode_solve): x_j = cos(π j / N), j = 0..N, so x_0 = 1 and x_N = -1.
/// </summary>
/// <remarks>
/// <para>Differentiation matrix D [(N+1), (N+1)], row-major (Trefethen, Spectral Methods in MATLAB, ch. 6, as
/// the authors build it): off-diagonal D_ij = (c_i / c_j) (-1)^(i+j) / (x_i - x_j) with c_0 = c_N = 2, else 1;
/// D_00 = (2N² + 1)/6 = -D_NN; interior diagonal D_ii = -Σ_{j≠i} D_ij (the "negative sum trick": it makes D
/// differentiate constants to exactly zero and is more accurate than the closed form).</para>
/// <para>Nodes are computed as cos(π · (j · (1/N))), the authors' cos(π · numpy.linspace(0, 1, N+1)) (within an
/// ulp of cos(π j / N)): x_{N/2} = cos(π/2) = 6.1e-17, not 0, as in the authors' code and the fixture. Entries
/// next to the corners, 2/(x_0 - x_1) ≈ -649, lose about 8 bits to cancellation, so independent float64 builds of
/// D agree to about 1e-13 relative (2e-11 absolute), not to the last bit.</para>
/// <para>Worked example (N = 2): x = [1, 6.1e-17, -1], D = [[1.5, -2, 0.5], [0.5, 0, -0.5], [-0.5, 2, -1.5]]
/// (up to rounding in the middle row).</para>
/// <para>Immutable; one instance can be shared by all threads (<see cref="Default"/>).</para>
/// </remarks>
public sealed class ChebyshevGrid
{
    /// <summary>N of the authors' ODE sampler (41 nodes).</summary>
    public const int DefaultDegree = 40;

    /// <summary>The grid with N = 40 the ODE tasks use.</summary>
    public static ChebyshevGrid Default { get; } = new(DefaultDegree);

    private readonly double[] _nodes;            // [N+1]
    private readonly double[] _d;                // [N+1, N+1] row-major
    private readonly double[] _weights;          // [N+1] barycentric weights

    /// <summary>Builds the N + 1 nodes, the differentiation matrix and the barycentric weights.</summary>
    /// <param name="n">Degree N (the grid has N + 1 nodes); must be >= 1.</param>
    /// <exception cref="ArgumentException">N is less than 1.</exception>
    public ChebyshevGrid(int n = DefaultDegree)
    {
        if (n < 1) throw new ArgumentException($"n_cheb = {n}: a Chebyshev grid needs N >= 1 (N + 1 nodes)", nameof(n));
        N = n;
        _nodes = new double[n + 1];
        for (int j = 0; j <= n; j++) _nodes[j] = Node(j, n);
        _d = new double[(n + 1) * (n + 1)];
        FillDifferentiationMatrix(_nodes, _d);
        _weights = new double[n + 1];
        BarycentricInterpolation.ChebyshevWeights(_weights);
    }

    /// <summary>Degree N; the grid has N + 1 nodes.</summary>
    public int N { get; }
    /// <summary>Number of nodes, N + 1.</summary>
    public int Size => N + 1;
    /// <summary>x_j = cos(π j / N), j = 0..N (descending from 1 to -1; see the remarks for the rounding).</summary>
    public ReadOnlySpan<double> Nodes => _nodes;
    /// <summary>The differentiation matrix D [(N+1), (N+1)], row-major: (D u)_i ≈ u'(x_i).</summary>
    public ReadOnlySpan<double> DifferentiationMatrix => _d;
    /// <summary>Barycentric weights 1/2, -1, 1, ..., ±1/2 (<see cref="BarycentricInterpolation.ChebyshevWeights"/>).</summary>
    public ReadOnlySpan<double> BarycentricWeights => _weights;

    /// <summary>Node j of the degree-N grid: cos(π · (j · (1/N))), as numpy's linspace(0, 1, N+1) spaces it.</summary>
    public static double Node(int j, int n) => Math.Cos(Math.PI * (j == n ? 1.0 : j * (1.0 / n)));   // linspace ends exactly at 1

    /// <summary>Value at <paramref name="t"/> of the polynomial through (x_j, values[j])
    /// (<see cref="BarycentricInterpolation.Evaluate"/>).</summary>
    /// <exception cref="ArgumentException">values does not hold N + 1 entries.</exception>
    public double Interpolate(ReadOnlySpan<double> values, double t)
    {
        if (values.Length != Size)
            throw new ArgumentException($"values has {values.Length} entries, the grid has N + 1 = {Size} nodes", nameof(values));
        return BarycentricInterpolation.Evaluate(_nodes, _weights, values, t);
    }

    /// <summary>D from the nodes (see the class remarks); overwrites d [(N+1)²].</summary>
    private static void FillDifferentiationMatrix(ReadOnlySpan<double> x, Span<double> d)
    {
        int n = x.Length - 1, size = n + 1;
        for (int i = 0; i <= n; i++)
        {
            double ci = i == 0 || i == n ? 2.0 : 1.0;
            for (int j = 0; j <= n; j++)
            {
                if (i == j) { d[i * size + j] = 0.0; continue; }
                double cj = j == 0 || j == n ? 2.0 : 1.0;
                double sign = ((i + j) & 1) == 0 ? 1.0 : -1.0;
                d[i * size + j] = ci / cj * sign / (x[i] - x[j]);   // evaluated left to right, as the authors write it
            }
        }
        d[0] = (2.0 * n * n + 1.0) / 6.0;
        d[n * size + n] = -(2.0 * n * n + 1.0) / 6.0;
        for (int i = 1; i < n; i++)
        {
            double sum = 0;                                          // the diagonal is still 0 here
            for (int j = 0; j <= n; j++) sum += d[i * size + j];
            d[i * size + i] = -sum;
        }
    }
}

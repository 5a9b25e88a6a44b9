namespace PrecisionLS.Tasks;

/// <summary>
/// Barycentric interpolation (second, "true" form; Berrut and Trefethen 2004) on Chebyshev points of the second
/// kind: p(t) = Σ_j w_j f_j / (t - x_j) / Σ_j w_j / (t - x_j) (REFERENCE §1 ODE task; fixture ode_solve, u_interp).
/// </summary>
/// <remarks>
/// With the weights w = (1/2, -1, 1, ..., ±1/2) the formula is the unique polynomial of degree N through the
/// N + 1 values, evaluated stably. A point within <see cref="NodeSnap"/> of a node takes that node's value (the
/// formula would divide by zero there), as in the authors' interpolate_cheb.
/// </remarks>
public static class BarycentricInterpolation
{
    /// <summary>Distance below which a point counts as the node itself.</summary>
    public const double NodeSnap = 1e-14;

    /// <summary>w_j = (-1)^j, halved at both ends: 1/2, -1, 1, ..., ±1/2; overwrites w [N+1].</summary>
    /// <exception cref="ArgumentException">w has fewer than 2 entries.</exception>
    public static void ChebyshevWeights(Span<double> w)
    {
        if (w.Length < 2) throw new ArgumentException($"w has {w.Length} entries; a Chebyshev grid has at least 2 nodes", nameof(w));
        for (int j = 0; j < w.Length; j++) w[j] = (j & 1) == 0 ? 1.0 : -1.0;
        w[0] *= 0.5;
        w[^1] *= 0.5;
    }

    /// <summary>p(t) = Σ_j w_j f_j / (t - x_j) / Σ_j w_j / (t - x_j), or f_j when |t - x_j| &lt; 1e-14.</summary>
    /// <param name="nodes">x [N+1].</param>
    /// <param name="weights">w [N+1].</param>
    /// <param name="values">f [N+1], the values at the nodes.</param>
    /// <param name="t">Evaluation point (normally in [-1, 1]).</param>
    /// <exception cref="ArgumentException">The three spans differ in length or are empty.</exception>
    public static double Evaluate(ReadOnlySpan<double> nodes, ReadOnlySpan<double> weights, ReadOnlySpan<double> values, double t)
    {
        if (nodes.Length == 0 || weights.Length != nodes.Length || values.Length != nodes.Length)
            throw new ArgumentException(
                $"nodes, weights and values must have one equal, positive length; got {nodes.Length}, {weights.Length}, {values.Length}", nameof(values));
        // Nodes are far more than 1e-14 apart, so at most one can be hit: the authors take the nearest one.
        for (int j = 0; j < nodes.Length; j++)
            if (Math.Abs(t - nodes[j]) < NodeSnap) return values[j];
        double num = 0, den = 0;
        for (int j = 0; j < nodes.Length; j++)
        {
            double q = weights[j] / (t - nodes[j]);
            num += q * values[j];
            den += q;
        }
        return num / den;
    }
}

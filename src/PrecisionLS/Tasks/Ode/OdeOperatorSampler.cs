using PrecisionLS.Numerics;

namespace PrecisionLS.Tasks;

/// <summary>
/// Options of the ODE operator sampler (REFERENCE §1 ODE task), under the authors' data_kwargs names
/// (ODEOperatorSampler). Defaults are the authors' defaults.
/// </summary>
/// <param name="c_sampling">
/// Where the forcing c is shown to the model (the n_dims evaluation points of each token):
/// "equispaced" (default) = linspace(-1, 1, n_dims); "cheb" = cos(π linspace(0, 1, n_dims)) (Chebyshev points,
/// descending from 1); "randt" = n_dims points ~ U(-1, 1), drawn afresh for every example (the authors draw them
/// once per batch; here a batch row is the unit, so results do not depend on how a batch is split).
/// </param>
/// <param name="eqn_class">
/// 0 (default): all terms of u' = a1 c + a2 c u + a3 u + a4; 1: a2 = 0 (linear in c and u0, the authors'
/// least-squares comparison); 2: a1 = 0.
/// </param>
/// <param name="operator_scale">
/// s: a1, a2 ~ U(1 - s/2, 1 + s/2) and a3, a4 ~ U(-s, s), once per batch row (shared by the row's points).
/// Finite and >= 0; default 1 (the authors' configs use 0.1 for ode_icl and 1 for ode_icl_final).
/// </param>
/// <param name="gp_length">Kernel parameter of the GP forcing: k(t, t') = exp(-(t - t')² / (2 gp_length));
/// finite and > 0, default 1.</param>
/// <param name="u0_scale">u0 ~ U(-u0_scale, u0_scale) per point; finite and >= 0, default 1.</param>
public sealed record OdeOperatorOptions(
    string c_sampling = "equispaced",
    int eqn_class = 0,
    double operator_scale = 1.0,
    double gp_length = 1.0,
    double u0_scale = 1.0)
{
    /// <summary>Accepted values of c_sampling.</summary>
    public static readonly IReadOnlyList<string> CSamplings = ["equispaced", "cheb", "randt"];

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad key and the values it accepts.</summary>
    public void Validate()
    {
        if (!CSamplings.Contains(c_sampling))
            throw new ArgumentException($"c_sampling = '{c_sampling}': accepted values are {string.Join(", ", CSamplings.Select(s => $"'{s}'"))}", nameof(c_sampling));
        if (eqn_class is < 0 or > 2)
            throw new ArgumentException($"eqn_class = {eqn_class}: accepted values are 0 (all terms), 1 (no a2 term), 2 (no a1 term)", nameof(eqn_class));
        if (!(double.IsFinite(operator_scale) && operator_scale >= 0))
            throw new ArgumentException($"operator_scale = {operator_scale}: accepted values are finite numbers >= 0 (default 1)", nameof(operator_scale));
        if (!(double.IsFinite(gp_length) && gp_length > 0))
            throw new ArgumentException($"gp_length = {gp_length}: accepted values are finite numbers > 0 (default 1)", nameof(gp_length));
        if (!(double.IsFinite(u0_scale) && u0_scale >= 0))
            throw new ArgumentException($"u0_scale = {u0_scale}: accepted values are finite numbers >= 0 (default 1)", nameof(u0_scale));
    }
}

/// <summary>
/// Draws in-context ODE problems (REFERENCE §1 ODE task; the authors' ODEOperatorSampler plus the query point
/// of their ODE tasks). One example = one batch row: an operator u' = a1 c + a2 c u + a3 u + a4 shared by the
/// row's L points, and per point a forcing c (a GP draw) and an initial value u0; each point's u is solved on
/// the Chebyshev grid (<see cref="PseudospectralSolver"/>) and evaluated at one query point t* per row.
/// </summary>
/// <remarks>
/// <para>Per example, in this draw order (a seed reproduces it): with c_sampling "randt", the n_dims evaluation
/// points ~ U(-1, 1); a1 (unless eqn_class 2), a2 (unless eqn_class 1), a3, a4 with
/// <see cref="OdeOperatorOptions.operator_scale"/>; for each point i in turn, one GP draw at the 41 nodes and the
/// n_dims evaluation points together (one process, so c_cheb and c_eval are the same function) followed by
/// u0_i ~ U(-u0_scale, u0_scale); last the query point t* ~ U(-1, 1). Then u_i = M_i⁻¹ rhs_i on the grid and
/// u_eval_i = u_i(t*) by barycentric interpolation.</para>
/// <para>The authors draw the query point in the task with a second generator, once per batch row; one stream
/// here. n_dims is the authors' n_dims_truncated: the number of evaluation points of c (21 in their configs).</para>
/// <para>All in double. Reuses its buffers, so sampling allocates nothing after the first example, except with
/// c_sampling "randt" (a new GP factorisation per example). Not thread-safe: one sampler per thread.</para>
/// </remarks>
public sealed class OdeOperatorSampler
{
    private readonly double[] _evalPoints;      // [Dn]
    private readonly double[] _gpPoints;        // [41 + Dn]: Chebyshev nodes, then the evaluation points
    private GaussianProcessSampler _gp;
    private readonly double[] _draw;            // [41 + Dn] one GP draw
    private readonly double[] _cCheb, _cEval, _u0, _uCheb, _uEval;
    private int _points;

    /// <summary>Creates a sampler for rows of up to <paramref name="nPoints"/> equations whose forcing is shown at
    /// <paramref name="nDims"/> points.</summary>
    /// <param name="nDims">Dn, evaluation points of c per token (n_dims_truncated in the authors' code).</param>
    /// <param name="nPoints">L, the largest number of equations per row.</param>
    /// <param name="options">Sampler options (defaults when null).</param>
    /// <exception cref="ArgumentException">A size is not positive or an option is out of range.</exception>
    public OdeOperatorSampler(int nDims, int nPoints, OdeOperatorOptions? options = null)
    {
        if (nDims < 1)
            throw new ArgumentException($"n_dims = {nDims}: the ODE tasks show c at n_dims points per token; must be >= 1", nameof(nDims));
        if (nPoints < 1) throw new ArgumentException($"n_points = {nPoints}: must be >= 1", nameof(nPoints));
        Options = options ?? new OdeOperatorOptions();
        Options.Validate();
        NDims = nDims;
        NPoints = nPoints;
        Solver = new PseudospectralSolver(ChebyshevGrid.Default);
        int nc = Grid.Size;
        _evalPoints = new double[nDims];
        _gpPoints = new double[nc + nDims];
        Grid.Nodes.CopyTo(_gpPoints);
        if (Options.c_sampling == "equispaced") Linspace(-1.0, 1.0, _evalPoints);
        else if (Options.c_sampling == "cheb")
            for (int j = 0; j < nDims; j++) _evalPoints[j] = nDims == 1 ? 1.0 : ChebyshevGrid.Node(j, nDims - 1);
        else Linspace(-1.0, 1.0, _evalPoints);      // randt: placeholder until the first example draws its own
        _evalPoints.CopyTo(_gpPoints, nc);
        _gp = new GaussianProcessSampler(_gpPoints, Options.gp_length);
        _draw = new double[nc + nDims];
        _cCheb = new double[nPoints * nc];
        _cEval = new double[nPoints * nDims];
        _u0 = new double[nPoints];
        _uCheb = new double[nPoints * nc];
        _uEval = new double[nPoints];
        _points = nPoints;
    }

    /// <summary>Dn, evaluation points of c per token.</summary>
    public int NDims { get; }
    /// <summary>L, the largest number of equations per row.</summary>
    public int NPoints { get; }
    /// <summary>The validated options.</summary>
    public OdeOperatorOptions Options { get; }
    /// <summary>The solver (and through it the N = 40 grid).</summary>
    public PseudospectralSolver Solver { get; }
    /// <summary>The Chebyshev grid of the solve.</summary>
    public ChebyshevGrid Grid => Solver.Grid;

    /// <summary>Equations in the example drawn last.</summary>
    public int Points => _points;
    /// <summary>Where c_eval is evaluated [Dn] (of the example drawn last, for "randt").</summary>
    public ReadOnlySpan<double> EvaluationPoints => _evalPoints;
    /// <summary>c at the Chebyshev nodes [L, N+1] of the example drawn last.</summary>
    public ReadOnlySpan<double> CCheb => _cCheb.AsSpan(0, _points * Grid.Size);
    /// <summary>c at the evaluation points [L, Dn] of the example drawn last.</summary>
    public ReadOnlySpan<double> CEval => _cEval.AsSpan(0, _points * NDims);
    /// <summary>u0 per equation [L] of the example drawn last.</summary>
    public ReadOnlySpan<double> U0 => _u0.AsSpan(0, _points);
    /// <summary>Solutions at the Chebyshev nodes [L, N+1] of the example drawn last.</summary>
    public ReadOnlySpan<double> UCheb => _uCheb.AsSpan(0, _points * Grid.Size);
    /// <summary>u_i(t*) per equation [L] of the example drawn last.</summary>
    public ReadOnlySpan<double> UEval => _uEval.AsSpan(0, _points);
    /// <summary>Operator parameters of the example drawn last.</summary>
    public double A1 { get; private set; }
    /// <inheritdoc cref="A1"/>
    public double A2 { get; private set; }
    /// <inheritdoc cref="A1"/>
    public double A3 { get; private set; }
    /// <inheritdoc cref="A1"/>
    public double A4 { get; private set; }
    /// <summary>t* ~ U(-1, 1) of the example drawn last.</summary>
    public double QueryPoint { get; private set; }

    /// <summary>Draws one example (a batch row) with <paramref name="points"/> equations (default: all) into the
    /// buffers <see cref="CEval"/>, <see cref="U0"/>, <see cref="UCheb"/>, <see cref="UEval"/> and friends.</summary>
    /// <exception cref="ArgumentException">points is larger than n_points.</exception>
    public void SampleExample(Rng rng, int points = 0)
    {
        ArgumentNullException.ThrowIfNull(rng);
        int l = points > 0 ? points : NPoints, nc = Grid.Size, dn = NDims;
        if (l > NPoints) throw new ArgumentException($"points = {l}: this sampler holds at most n_points = {NPoints}", nameof(points));
        _points = l;
        var o = Options;

        if (o.c_sampling == "randt")
        {
            for (int j = 0; j < dn; j++) _evalPoints[j] = rng.NextUniform(-1.0, 1.0);
            _evalPoints.CopyTo(_gpPoints, nc);
            _gp = new GaussianProcessSampler(_gpPoints, o.gp_length);
        }

        // REFERENCE §1: a1, a2 ~ U(1 ± s/2), a3, a4 ~ U(±s); eqn_class 1 sets a2 = 0, eqn_class 2 sets a1 = 0.
        double s = o.operator_scale;
        A1 = o.eqn_class != 2 ? rng.NextUniform(1.0 - 0.5 * s, 1.0 + 0.5 * s) : 0.0;
        A2 = o.eqn_class != 1 ? rng.NextUniform(1.0 - 0.5 * s, 1.0 + 0.5 * s) : 0.0;
        A3 = rng.NextUniform(-s, s);
        A4 = rng.NextUniform(-s, s);

        for (int i = 0; i < l; i++)
        {
            _gp.Sample(rng, _draw);                          // one GP draw: nodes and evaluation points together
            _draw.AsSpan(0, nc).CopyTo(_cCheb.AsSpan(i * nc, nc));
            _draw.AsSpan(nc, dn).CopyTo(_cEval.AsSpan(i * dn, dn));
            _u0[i] = rng.NextUniform(-o.u0_scale, o.u0_scale);
        }
        QueryPoint = rng.NextUniform(-1.0, 1.0);

        for (int i = 0; i < l; i++)
        {
            Span<double> u = _uCheb.AsSpan(i * nc, nc);
            Solver.Solve(A1, A2, A3, A4, _u0[i], _cCheb.AsSpan(i * nc, nc), u);
            _uEval[i] = Grid.Interpolate(u, QueryPoint);
        }
    }

    /// <summary>numpy.linspace(lo, hi, n): lo + j (hi - lo)/(n - 1), the last value exactly hi; n = 1 gives lo.</summary>
    public static void Linspace(double lo, double hi, Span<double> dst)
    {
        int n = dst.Length;
        if (n == 0) return;
        if (n == 1) { dst[0] = lo; return; }
        double step = (hi - lo) / (n - 1);
        for (int j = 0; j < n; j++) dst[j] = j * step + lo;
        dst[^1] = hi;
    }
}

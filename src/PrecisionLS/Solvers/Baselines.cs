using System.Diagnostics;

namespace PrecisionLS.Solvers;

/// <summary>
/// The classical float64 baselines of <c>solve</c> by name, and how to run one over a <see cref="ProblemSet"/>:
/// every problem from its own x_init (the one the models start from), scored against its exact x*.
/// </summary>
public static class Baselines
{
    /// <summary>Method names, in the order "all" runs them.</summary>
    public static readonly IReadOnlyList<string> Names = ["qr", "normal", "cg", "gd"];

    /// <summary>Default iteration count K (gd's iterations, cg's cap).</summary>
    public const int DefaultIterations = 1000;

    /// <summary>
    /// The solver called <paramref name="name"/>; <paramref name="iterations"/> is gd's K and cg's iteration cap.
    /// </summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the accepted ones.</exception>
    public static ILeastSquaresSolver Create(string name, int iterations = DefaultIterations) => name switch
    {
        "qr" => new QrSolver(),
        "normal" => new NormalEquationsSolver(),
        "cg" => new ConjugateGradientSolver(maxIterations: Math.Max(1, iterations)),
        "gd" => new GradientDescentSolver(iterations),
        _ => throw new ArgumentException($"unknown method '{name}'; accepted: {string.Join(", ", Names)}, all", nameof(name)),
    };

    /// <summary>
    /// Runs the named methods ("all": every one, in <see cref="Names"/> order) on the same problems.
    /// </summary>
    /// <exception cref="Config.ConfigException">An unknown method, or problems with fewer equations than unknowns.</exception>
    public static IReadOnlyList<BaselineResult> Compare(ProblemSet problems, IEnumerable<string> methods, int iterations = DefaultIterations)
    {
        ArgumentNullException.ThrowIfNull(problems);
        var names = methods.SelectMany(m => m == "all" ? Names : [m]).Distinct().ToList();
        foreach (var m in names)
            if (!Names.Contains(m)) throw new Config.ConfigException($"unknown method '{m}'; accepted: {string.Join(", ", Names)}, all");
        if (problems.Points < problems.Dims)
            throw new Config.ConfigException($"n_points = {problems.Points} < n_dims = {problems.Dims}: x* is not the unique least-squares solution, " +
                                             "so the baselines need n_points >= n_dims");
        return names.Select(m => Run(Create(m, iterations), problems)).ToList();
    }

    /// <summary>Solves every problem of <paramref name="problems"/> with <paramref name="solver"/> and scores the result.</summary>
    public static BaselineResult Run(ILeastSquaresSolver solver, ProblemSet problems)
    {
        ArgumentNullException.ThrowIfNull(solver);
        ArgumentNullException.ThrowIfNull(problems);
        int n = problems.Count, l = problems.Points, d = problems.Dims;
        using var serial = Numerics.MathNetThreading.Serial();     // tiny factorisations: MathNet's threads only cost time
        var x = new double[n * d];
        int iters = 0;
        double worstRate = double.NaN;
        // One untimed solve first: the first call pays JIT and MathNet's provider start-up (about 0.4 s for QR),
        // which would otherwise be charged to whichever method runs first.
        solver.Solve(problems.AOf(0), problems.BOf(0), problems.XInitOf(0), l, d, x.AsSpan(0, d));
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < n; i++)
        {
            int k = solver.Solve(problems.AOf(i), problems.BOf(i), problems.XInitOf(i), l, d, x.AsSpan(i * d, d));
            iters = Math.Max(iters, k);
            if (solver is GradientDescentSolver gd) worstRate = double.IsNaN(worstRate) ? gd.LastRate : Math.Max(worstRate, gd.LastRate);
        }
        double ms = clock.Elapsed.TotalMilliseconds;
        double maxAbs = 0;
        for (int i = 0; i < x.Length; i++) maxAbs = Math.Max(maxAbs, Math.Abs(x[i] - problems.XStar[i]));
        return new BaselineResult(solver.Name, n, problems.Mse(x), maxAbs, iters, ms, worstRate);
    }
}

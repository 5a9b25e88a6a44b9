using MathNet.Numerics.LinearAlgebra;
using PrecisionLS.Config;
using PrecisionLS.Solvers;
using Xunit;

namespace PrecisionLS.Tests.Solvers;

/// <summary>The classical baselines on problems with a known x*: each to the precision its method allows, GD against
/// its closed form on a diagonal problem, CG's finite termination.</summary>
public class BaselineSolverTests
{
    // 200 consistent 20x5 Gaussian problems of the explicit-gradient recipe (cond(A) about 2-6).
    private static ProblemSet WellConditioned(int count = 200) =>
        ProblemSet.ForRun(ConfigLoader.FromPreset("explicit-gradient"), count, seed: 11);

    [Fact]
    public void Every_baseline_recovers_x_star_on_well_conditioned_problems()
    {
        var set = WellConditioned();
        var results = Baselines.Compare(set, ["all"]).ToDictionary(r => r.Method);
        Assert.Equal(Baselines.Names, results.Keys);
        // Backward-stable QR: error about eps·cond(A)·|x*|, MSE about 1e-31.
        Assert.True(results["qr"].Mse < 1e-29, $"qr mse {results["qr"].Mse}");
        // Normal equations square the condition number: still tiny here.
        Assert.True(results["normal"].Mse < 1e-28, $"normal mse {results["normal"].Mse}");
        Assert.True(results["cg"].Mse < 1e-28, $"cg mse {results["cg"].Mse}");
        Assert.True(results["gd"].Mse < 1e-28, $"gd mse {results["gd"].Mse}");
        Assert.Equal(1, results["qr"].Iterations);
        Assert.Equal(Baselines.DefaultIterations, results["gd"].Iterations);
        // Finite termination in D = 5 steps, give or take the one more that rounding can ask for.
        Assert.InRange(results["cg"].Iterations, 1, set.Dims + 1);
        Assert.InRange(results["gd"].Rate, 0.1, 0.99);
        Assert.True(double.IsNaN(results["qr"].Rate));
        foreach (var r in results.Values)
        {
            Assert.Equal(200, r.Problems);
            Assert.True(r.MaxAbsError < 1e-12, $"{r.Method}: max error {r.MaxAbsError}");
        }
    }

    [Fact]
    public void QR_agrees_with_an_SVD_solve_and_normal_equations_lose_accuracy_as_cond_squared()
    {
        var set = ProblemSet.ForRun(ConfigLoader.FromPreset("explicit-gradient", ["training.data_kwargs.scale_cond=1000"]), 50, seed: 3);
        var qr = new QrSolver();
        var x = new double[set.Dims];
        for (int i = 0; i < set.Count; i++)
        {
            qr.Solve(set.AOf(i), set.BOf(i), set.XInitOf(i), set.Points, set.Dims, x);
            var a = Matrix<double>.Build.DenseOfRowMajor(set.Points, set.Dims, set.AOf(i).ToArray());
            var svd = a.Svd(computeVectors: true).Solve(Vector<double>.Build.Dense(set.BOf(i).ToArray()));
            for (int j = 0; j < set.Dims; j++) Assert.Equal(svd[j], x[j], 1e-11);
        }
        var results = Baselines.Compare(set, ["qr", "normal"]).ToDictionary(r => r.Method);
        // cond(A) = 1e3: QR's error grows like cond(A) eps, the normal equations' like cond(A)² eps.
        Assert.True(results["qr"].Mse < 1e-24, $"qr mse {results["qr"].Mse}");
        Assert.True(results["normal"].Mse > 100 * results["qr"].Mse, $"normal {results["normal"].Mse} vs qr {results["qr"].Mse}");
    }

    [Fact]
    public void Gradient_descent_error_shrinks_by_exactly_one_minus_eta_lambda_per_step_on_a_diagonal_problem()
    {
        // L = 4, D = 2: A = [[2, 0], [0, 1], [0, 0], [0, 0]] gives (1/L) AᵀA = diag(1, 0.25), so eta* = 2/1.25 = 1.6 and the
        // error components shrink by 1 - 1.6·1 = -0.6 and 1 - 1.6·0.25 = 0.6 per step.
        double[] a = [2, 0, 0, 1, 0, 0, 0, 0];
        double[] xStar = [1, -2];
        double[] b = [2, -2, 0, 0];
        double[] xInit = [0.5, 3];
        Assert.Equal(1.6, GradientDescentSolver.OptimalStep(a, 4, 2), 15);
        foreach (int k in new[] { 0, 1, 2, 7, 20 })
        {
            var gd = new GradientDescentSolver(k);
            var x = new double[2];
            Assert.Equal(k, gd.Solve(a, b, xInit, 4, 2, x));
            Assert.Equal(0.6, gd.LastRate, 14);
            double e1 = (xInit[0] - xStar[0]) * Math.Pow(-0.6, k), e2 = (xInit[1] - xStar[1]) * Math.Pow(0.6, k);
            Assert.Equal(e1, x[0] - xStar[0], 1e-14 * Math.Max(1, Math.Abs(e1)));
            Assert.Equal(e2, x[1] - xStar[1], 1e-14 * Math.Max(1, Math.Abs(e2)));
            double mse = ((x[0] - xStar[0]) * (x[0] - xStar[0]) + (x[1] - xStar[1]) * (x[1] - xStar[1])) / 2;
            double closed = (e1 * e1 + e2 * e2) / 2;
            // Rounding near x* (about 1e-16 absolute) limits the relative agreement once the error is small.
            Assert.True(Math.Abs(mse - closed) <= 1e-9 * closed, $"k = {k}: mse {mse}, closed form {closed}");
        }
    }

    [Fact]
    public void Conjugate_gradient_terminates_in_D_steps_and_not_before()
    {
        var set = WellConditioned(20);
        int d = set.Dims;
        var x = new double[d];
        for (int i = 0; i < set.Count; i++)
        {
            // Tolerance 0: only the iteration cap stops it.
            new ConjugateGradientSolver(tolerance: 0, maxIterations: d).Solve(set.AOf(i), set.BOf(i), set.XInitOf(i), set.Points, d, x);
            double err = MaxError(x, set.XStarOf(i));
            Assert.True(err < 1e-12, $"problem {i}: error {err} after D = {d} steps");
            new ConjugateGradientSolver(tolerance: 0, maxIterations: d - 1).Solve(set.AOf(i), set.BOf(i), set.XInitOf(i), set.Points, d, x);
            Assert.True(MaxError(x, set.XStarOf(i)) > 1e-8, $"problem {i}: already solved after D - 1 steps");
        }
    }

    [Fact]
    public void Conjugate_gradient_needs_only_as_many_steps_as_distinct_eigenvalues()
    {
        // (1/L) AᵀA = diag(1, 1, 0.25, 0.25): two distinct eigenvalues, so CG is exact after 2 steps though D = 4.
        double[] a = [2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
        double[] xStar = [1, -1, 2, 0.5];
        double[] b = [2, -2, 2, 0.5];
        var x = new double[4];
        int k = new ConjugateGradientSolver().Solve(a, b, new double[4], 4, 4, x);
        Assert.Equal(2, k);
        Assert.True(MaxError(x, xStar) < 1e-15);
    }

    [Fact]
    public void Bad_methods_and_underdetermined_problems_are_rejected()
    {
        var set = WellConditioned(2);
        var e = Assert.Throws<ConfigException>(() => Baselines.Compare(set, ["lsqr"]));
        Assert.Equal("unknown method 'lsqr'; accepted: qr, normal, cg, gd, all", e.Message);
        var wide = ProblemSet.Draw(2, points: 3, dims: 5, new PrecisionLS.Tasks.LeastSquaresOptions(), seed: 1);
        e = Assert.Throws<ConfigException>(() => Baselines.Compare(wide, ["qr"]));
        Assert.Contains("n_points = 3 < n_dims = 5", e.Message);
        Assert.Throws<ArgumentException>(() => new QrSolver().Solve(wide.AOf(0), wide.BOf(0), wide.XInitOf(0), 3, 5, new double[5]));
    }

    private static double MaxError(ReadOnlySpan<double> x, ReadOnlySpan<double> xStar)
    {
        double m = 0;
        for (int j = 0; j < xStar.Length; j++) m = Math.Max(m, Math.Abs(x[j] - xStar[j]));
        return m;
    }
}

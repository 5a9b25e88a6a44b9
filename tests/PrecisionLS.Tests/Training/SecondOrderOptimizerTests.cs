using PrecisionLS.Numerics;
using PrecisionLS.Training;
using Xunit;

namespace PrecisionLS.Tests.Training;

/// <summary>L-BFGS and Gauss-Newton (Levenberg-Marquardt) on small zero-residual least-squares problems: both reach
/// f = ½‖r‖² ≤ 1e-28, the float64 floor of such problems.</summary>
public class SecondOrderOptimizerTests
{
    /// <summary>Residuals r(x) with an explicit Jacobian, for testing (JᵀJ v formed from J, no model involved).</summary>
    private abstract class Explicit : ILeastSquaresObjective<double>
    {
        private double[] _lin = [], _linR = [];
        public abstract int Dimension { get; }
        public abstract int Residuals { get; }
        public int Evaluations { get; private set; }
        public int Products { get; private set; }
        /// <summary>r(x) into r and J (row-major [residuals, dimension]) into jac.</summary>
        protected abstract void Residual(ReadOnlySpan<double> x, double[] r, double[] jac);

        private (double[] R, double[] J) At(ReadOnlySpan<double> x)
        {
            var r = new double[Residuals]; var j = new double[Residuals * Dimension];
            Residual(x, r, j);
            return (r, j);
        }

        public double Evaluate(ReadOnlySpan<double> x, Span<double> gradient)
        {
            Evaluations++;
            var (r, j) = At(x);
            gradient.Clear();
            for (int i = 0; i < Residuals; i++)
                for (int k = 0; k < Dimension; k++) gradient[k] += j[i * Dimension + k] * r[i];
            return 0.5 * r.Sum(v => v * v);
        }

        public double Value(ReadOnlySpan<double> x) => 0.5 * At(x).R.Sum(v => v * v);

        public double Linearize(ReadOnlySpan<double> x, Span<double> gradient)
        {
            (_linR, _lin) = At(x);
            return Evaluate(x, gradient);
        }

        public void GaussNewtonProduct(ReadOnlySpan<double> v, Span<double> result)
        {
            Products++;
            var jv = new double[Residuals];
            for (int i = 0; i < Residuals; i++)
                for (int k = 0; k < Dimension; k++) jv[i] += _lin[i * Dimension + k] * v[k];
            result.Clear();
            for (int i = 0; i < Residuals; i++)
                for (int k = 0; k < Dimension; k++) result[k] += _lin[i * Dimension + k] * jv[i];
        }

        public int ResidualCount => Residuals;

        public void LinearizedResiduals(Span<double> residuals) => _linR.CopyTo(residuals);

        public void LinearizedJacobian(double[] rows) => _lin.CopyTo(rows, 0);

        public void JacobianTransposeProduct(ReadOnlySpan<double> u, Span<double> result)
        {
            result.Clear();
            for (int i = 0; i < Residuals; i++)
                for (int k = 0; k < Dimension; k++) result[k] += _lin[i * Dimension + k] * u[i];
        }
    }

    /// <summary>r = A x - b with b = A x*: a consistent linear least-squares problem.</summary>
    private sealed class Linear : Explicit
    {
        private readonly double[,] _a;
        private readonly double[] _b;
        /// <param name="zeroColumns">Columns of A that are zero: parameters the residuals do not depend on.</param>
        public Linear(int m, int n, ulong seed, int[]? zeroColumns = null)
        {
            var rng = new Rng(seed);
            _a = new double[m, n]; _b = new double[m];
            var xs = Enumerable.Range(0, n).Select(_ => rng.NextGaussian()).ToArray();
            for (int i = 0; i < m; i++)
                for (int k = 0; k < n; k++)
                {
                    double a = rng.NextGaussian();
                    _a[i, k] = zeroColumns?.Contains(k) == true ? 0 : a;
                    _b[i] += _a[i, k] * xs[k];
                }
        }
        public override int Dimension => _a.GetLength(1);
        public override int Residuals => _a.GetLength(0);
        public void ResidualOf(ReadOnlySpan<double> x, double[] r, double[] jac) => Residual(x, r, jac);
        protected override void Residual(ReadOnlySpan<double> x, double[] r, double[] jac)
        {
            for (int i = 0; i < Residuals; i++)
            {
                r[i] = -_b[i];
                for (int k = 0; k < Dimension; k++) { r[i] += _a[i, k] * x[k]; jac[i * Dimension + k] = _a[i, k]; }
            }
        }
    }

    /// <summary>A two-layer linear network y = W2 W1 a fitted to targets of a true network: a zero-residual,
    /// non-convex polynomial problem like the sequence models' (x = [W1 (h x d), W2 (o x h)]).</summary>
    private sealed class TwoLayer : Explicit
    {
        private const int D = 4, H = 3, O = 2, N = 30;
        private readonly double[] _a = new double[N * D], _y = new double[N * O];
        public TwoLayer(ulong seed)
        {
            var rng = new Rng(seed);
            for (int i = 0; i < _a.Length; i++) _a[i] = rng.NextGaussian();
            var truth = Enumerable.Range(0, Dimension).Select(_ => rng.NextGaussian()).ToArray();
            var r = new double[Residuals];
            Residual(truth, r, new double[Residuals * Dimension]);
            for (int i = 0; i < _y.Length; i++) _y[i] = r[i];       // r with y = 0 is the network's output
        }
        public override int Dimension => H * D + O * H;
        public override int Residuals => N * O;
        protected override void Residual(ReadOnlySpan<double> x, double[] r, double[] jac)
        {
            Array.Clear(jac);
            var w1 = x[..(H * D)]; var w2 = x[(H * D)..];
            Span<double> h = stackalloc double[H];
            for (int n = 0; n < N; n++)
            {
                for (int j = 0; j < H; j++) { h[j] = 0; for (int k = 0; k < D; k++) h[j] += w1[j * D + k] * _a[n * D + k]; }
                for (int o = 0; o < O; o++)
                {
                    int row = n * O + o;
                    r[row] = -_y[row];
                    for (int j = 0; j < H; j++)
                    {
                        r[row] += w2[o * H + j] * h[j];
                        jac[row * Dimension + H * D + o * H + j] = h[j];
                        for (int k = 0; k < D; k++) jac[row * Dimension + j * D + k] = w2[o * H + j] * _a[n * D + k];
                    }
                }
            }
        }
    }

    /// <summary>Rosenbrock as least squares: r = [10 (x1 - x0²), 1 - x0], minimum 0 at (1, 1).</summary>
    private sealed class Rosenbrock : Explicit
    {
        public override int Dimension => 2;
        public override int Residuals => 2;
        protected override void Residual(ReadOnlySpan<double> x, double[] r, double[] jac)
        {
            r[0] = 10 * (x[1] - x[0] * x[0]); r[1] = 1 - x[0];
            jac[0] = -20 * x[0]; jac[1] = 10; jac[2] = -1; jac[3] = 0;
        }
    }

    private static double[] Start(int n, ulong seed, double scale = 1)
    {
        var rng = new Rng(seed);
        return Enumerable.Range(0, n).Select(_ => scale * rng.NextGaussian()).ToArray();
    }

    private static double RunLbfgs(Explicit problem, double[] x0, int iterations, LbfgsOptions? options = null)
    {
        var opt = new Lbfgs<double>(problem.Dimension, options ?? new LbfgsOptions(History: 10));
        x0.CopyTo(opt.X);
        double f = double.NaN;
        for (int i = 0; i < iterations; i++)
        {
            var it = opt.Iterate(problem);
            f = it.Value;
            if (f <= 1e-30) break;
        }
        return f;
    }

    private static double RunGaussNewton(Explicit problem, double[] x0, int iterations, GaussNewtonOptions? options = null)
    {
        var opt = new LevenbergMarquardt<double>(problem.Dimension, options ?? new GaussNewtonOptions(CgMaxIterations: 100, CgTolerance: 1e-10));
        x0.CopyTo(opt.X);
        double f = double.NaN;
        for (int i = 0; i < iterations; i++)
        {
            f = opt.Iterate(problem).Value;
            if (f <= 1e-30) break;
        }
        return f;
    }

    [Fact]
    public void Lbfgs_solves_a_consistent_linear_least_squares_problem_to_1e_28()
    {
        var p = new Linear(40, 10, 1);
        double f = RunLbfgs(p, Start(10, 2), 200);
        Assert.True(f <= 1e-28, $"f = {f:E3} after L-BFGS");
    }

    [Fact]
    public void Gauss_newton_solves_a_consistent_linear_least_squares_problem_to_1e_28()
    {
        var p = new Linear(40, 10, 1);
        double f = RunGaussNewton(p, Start(10, 2), 20);
        Assert.True(f <= 1e-28, $"f = {f:E3} after Gauss-Newton");
    }

    [Fact]
    public void Lbfgs_fits_a_two_layer_network_to_zero_residual()
    {
        var p = new TwoLayer(3);
        double f = RunLbfgs(p, Start(p.Dimension, 4, 0.5), 2000);
        Assert.True(f <= 1e-28, $"f = {f:E3} after L-BFGS");
    }

    [Fact]
    public void Gauss_newton_fits_a_two_layer_network_to_zero_residual()
    {
        var p = new TwoLayer(3);
        double f = RunGaussNewton(p, Start(p.Dimension, 4, 0.5), 300);
        Assert.True(f <= 1e-28, $"f = {f:E3} after Gauss-Newton");
    }

    [Fact]
    public void Both_minimise_rosenbrock_from_the_classic_start()
    {
        Assert.True(RunLbfgs(new Rosenbrock(), [-1.2, 1], 500) <= 1e-28);
        Assert.True(RunGaussNewton(new Rosenbrock(), [-1.2, 1], 500) <= 1e-28);
    }

    [Fact]
    public void Lbfgs_steps_satisfy_the_strong_wolfe_conditions()
    {
        var p = new Rosenbrock();
        var opt = new Lbfgs<double>(2, new LbfgsOptions(History: 5, C1: 1e-4, C2: 0.9));
        opt.X[0] = -1.2; opt.X[1] = 1;
        var g = new double[2];
        for (int i = 0; i < 10; i++)
        {
            double f0 = p.Evaluate(opt.X, g);
            var x0 = opt.X.ToArray(); var g0 = g.ToArray();
            var it = opt.Iterate(p);
            Assert.True(it.Accepted);
            var d = new[] { (opt.X[0] - x0[0]) / it.StepLength, (opt.X[1] - x0[1]) / it.StepLength };
            double d0 = g0[0] * d[0] + g0[1] * d[1];
            double f1 = p.Evaluate(opt.X, g);
            Assert.True(d0 < 0);
            Assert.True(f1 <= f0 + 1e-4 * it.StepLength * d0 + 1e-15, $"iteration {i}: sufficient decrease");
            Assert.True(Math.Abs(g[0] * d[0] + g[1] * d[1]) <= 0.9 * -d0 * (1 + 1e-9), $"iteration {i}: curvature");
        }
    }

    [Fact]
    public void Gauss_newton_rejects_a_bad_step_and_raises_the_damping()
    {
        var p = new Rosenbrock();
        var opt = new LevenbergMarquardt<double>(2, new GaussNewtonOptions(CgMaxIterations: 10, CgTolerance: 1e-12, InitialDamping: 1e-12));
        opt.X[0] = -1.2; opt.X[1] = 1;
        bool sawReject = false;
        for (int i = 0; i < 50; i++)
        {
            double before = opt.Damping;
            var it = opt.Iterate(p);
            if (it.GradNorm == 0) break;                     // solved exactly
            if (!it.Accepted) { sawReject = true; Assert.True(opt.Damping > before); }
            else Assert.True(opt.Damping <= before * 2 * (1 + 1e-12));
        }
        Assert.True(sawReject, "an undamped Gauss-Newton step from (-1.2, 1) overshoots at least once");
    }

    /// <summary>A consistent linear problem whose columns span 8 orders of magnitude (scales 10^-4 .. 10^4).</summary>
    private sealed class BadlyScaled : Explicit
    {
        private readonly Linear _inner = new(40, 10, 7);
        private readonly double[] _scale = Enumerable.Range(0, 10).Select(k => Math.Pow(10, -4 + 8.0 * k / 9)).ToArray();
        public override int Dimension => 10;
        public override int Residuals => 40;
        protected override void Residual(ReadOnlySpan<double> x, double[] r, double[] jac)
        {
            // r(x) = A (S x) - b: the inner problem in the variables S x
            var sx = new double[10];
            for (int k = 0; k < 10; k++) sx[k] = _scale[k] * x[k];
            _inner.ResidualOf(sx, r, jac);
            for (int i = 0; i < 40; i++)
                for (int k = 0; k < 10; k++) jac[i * 10 + k] *= _scale[k];
        }
    }

    [Fact]
    public void Marquardt_scaling_solves_a_badly_scaled_problem_where_plain_cg_stalls()
    {
        // Plain CG on JᵀJ with condition ~1e16 makes no progress along the small-scale columns in 10 iterations;
        // the Jacobi-preconditioned solve sees a well-conditioned system (diag(JᵀJ) estimated from 64 sign probes).
        var x0 = Start(10, 8);
        double scaled = RunGaussNewton(new BadlyScaled(), x0, 30, new GaussNewtonOptions(CgMaxIterations: 10, CgTolerance: 1e-14, ScalingProbes: 64));
        double plain = RunGaussNewton(new BadlyScaled(), x0, 30, new GaussNewtonOptions(CgMaxIterations: 10, CgTolerance: 1e-14));
        Assert.True(scaled <= 1e-28, $"f = {scaled:E3} with Marquardt scaling");
        Assert.True(plain > 1e6 * scaled, $"plain CG reached {plain:E3}, scaled {scaled:E3}: the problem is meant to need the scaling");
    }

    [Fact]
    public void Marquardt_scaling_fits_a_two_layer_network_to_zero_residual()
    {
        var p = new TwoLayer(3);
        double f = RunGaussNewton(p, Start(p.Dimension, 4, 0.5), 300, new GaussNewtonOptions(CgMaxIterations: 100, CgTolerance: 1e-10, ScalingProbes: 8));
        Assert.True(f <= 1e-28, $"f = {f:E3} after scaled Gauss-Newton");
    }

    [Fact]
    public void The_scaling_estimates_the_diagonal_of_jtj()
    {
        // Hutchinson: E[(Jᵀz)²] = diag(JᵀJ); with 4000 probes each entry is within a few percent.
        var p = new Linear(40, 10, 1);
        var opt = new LevenbergMarquardt<double>(10, new GaussNewtonOptions(CgMaxIterations: 1, ScalingProbes: 4000));
        Start(10, 2).CopyTo(opt.X);
        opt.Iterate(p, probeSeed: 5);
        var e = new double[10]; var col = new double[10];
        for (int k = 0; k < 10; k++)
        {
            Array.Clear(e); e[k] = 1;
            p.GaussNewtonProduct(e, col);                    // column k of JᵀJ at the linearisation point
            double rel = Math.Abs(opt.Scaling[k] - col[k]) / col[k];
            Assert.True(rel < 0.1, $"D[{k}] = {opt.Scaling[k]:G6}, diag(JᵀJ) = {col[k]:G6}");
        }
    }

    private static readonly GaussNewtonOptions Direct = new(Solver: "direct", InitialDamping: 1e-8);

    [Theory]
    [InlineData(40, 10)]
    [InlineData(1300, 30)]     // a Gram matrix of three block rows (512 each), mirrored into its upper triangle
    public void Direct_gauss_newton_solves_a_consistent_linear_least_squares_problem_in_one_step(int m, int n)
    {
        // Exact solve of (JᵀJ + λI)p = -Jᵀr through the Gram matrix: a linear problem needs a single step (λ = 1e-8
        // leaves a relative error of about λ/σ²), and one more gives the float64 floor.
        var p = new Linear(m, n, 1);
        var opt = new LevenbergMarquardt<double>(p.Dimension, Direct);
        Start(n, 2).CopyTo(opt.X);
        double f0 = p.Value(opt.X);
        var first = opt.Iterate(p);
        Assert.True(first.Accepted);
        Assert.True(first.Value <= 1e-12 * f0, $"f = {first.Value:E3} from {f0:E3} after one direct step");
        double f = RunGaussNewton(p, opt.X, 5, Direct);
        Assert.True(f <= 1e-29 * m, $"f = {f:E3}: rms residual above 4.5e-15, the rounding floor of b = A x* (|b| about 5)");
    }

    [Fact]
    public void Direct_gauss_newton_fits_a_two_layer_network_to_zero_residual()
    {
        var p = new TwoLayer(3);
        double f = RunGaussNewton(p, Start(p.Dimension, 4, 0.5), 300, Direct with { InitialDamping = 1e-3 });
        Assert.True(f <= 1e-28, $"f = {f:E3} after direct Gauss-Newton");
    }

    [Fact]
    public void Direct_and_cg_solves_agree_on_the_damped_step()
    {
        // Same λ, same point: CG run to convergence and the Gram-matrix solve give the same first step.
        var p = new TwoLayer(5);
        var x0 = Start(p.Dimension, 6, 0.5);
        var cg = new LevenbergMarquardt<double>(p.Dimension, new GaussNewtonOptions(CgMaxIterations: 500, CgTolerance: 1e-14, InitialDamping: 0.1));
        var direct = new LevenbergMarquardt<double>(p.Dimension, Direct with { InitialDamping = 0.1 });
        x0.CopyTo(cg.X); x0.CopyTo(direct.X);
        var a = cg.Iterate(p); var b = direct.Iterate(p);
        Assert.True(a.Accepted && b.Accepted);
        for (int i = 0; i < p.Dimension; i++) Assert.Equal(cg.X[i], direct.X[i], 1e-10);
        Assert.Equal(a.Ratio, b.Ratio, 1e-8);
    }

    [Fact]
    public void Direct_gauss_newton_leaves_parameters_whose_jacobian_column_is_zero_and_matches_cg()
    {
        // The direct solver drops all-zero Jacobian columns before forming the Gram matrix (idle channels). The step
        // must be the same as CG's, and the dropped parameters must not move at all.
        int[] idle = [0, 5, 6, 11];
        var p = new Linear(60, 12, 3, idle);
        var x0 = Start(12, 4);
        var cg = new LevenbergMarquardt<double>(12, new GaussNewtonOptions(CgMaxIterations: 500, CgTolerance: 1e-14, InitialDamping: 0.1));
        var direct = new LevenbergMarquardt<double>(12, Direct with { InitialDamping = 0.1 });
        x0.CopyTo(cg.X); x0.CopyTo(direct.X);
        Assert.True(cg.Iterate(p).Accepted && direct.Iterate(p).Accepted);
        for (int i = 0; i < 12; i++) Assert.Equal(cg.X[i], direct.X[i], 1e-10);
        foreach (int i in idle) Assert.Equal(x0[i], direct.X[i]);
        Assert.NotEqual(x0[1], direct.X[1]);
        Assert.True(RunGaussNewton(p, direct.X, 4, Direct) <= 1e-28, "the kept columns still solve the problem");
    }

    [Fact]
    public void Direct_gauss_newton_retries_a_rejected_step_with_more_damping()
    {
        // From (-1.2, 1) the undamped Rosenbrock step overshoots; the direct solver raises λ on the same Jacobian
        // until a step is accepted, so every reported step is a decrease.
        var p = new Rosenbrock();
        var opt = new LevenbergMarquardt<double>(2, Direct with { InitialDamping = 1e-12 });
        opt.X[0] = -1.2; opt.X[1] = 1;
        double f = p.Value(opt.X);
        bool sawRetry = false;
        for (int i = 0; i < 100 && f > 1e-30; i++)
        {
            var it = opt.Iterate(p);
            if (it.GradNorm == 0) break;
            Assert.True(it.Accepted, $"iteration {i} rejected after {it.CgIterations} tries");
            Assert.True(it.Value < f);
            sawRetry |= it.CgIterations > 1;
            f = it.Value;
        }
        Assert.True(sawRetry, "at least one step needed a larger λ");
        Assert.True(f <= 1e-28, $"f = {f:E3}");
    }

    [Fact]
    public void Options_name_their_training_keys()
    {
        Exception e = Assert.Throws<PrecisionLS.Config.ConfigException>(() => new LbfgsOptions(History: 0).Validate());
        Assert.Contains("training.lbfgs_history", e.Message);
        e = Assert.Throws<PrecisionLS.Config.ConfigException>(() => new LbfgsOptions(C1: 0.95, C2: 0.9).Validate());
        Assert.Contains("training.line_search_c1", e.Message);
        e = Assert.Throws<PrecisionLS.Config.ConfigException>(() => new GaussNewtonOptions(CgTolerance: 2).Validate());
        Assert.Contains("training.cg_tolerance", e.Message);
        e = Assert.Throws<PrecisionLS.Config.ConfigException>(() => new GaussNewtonOptions(ScalingProbes: -1).Validate());
        Assert.Contains("training.gn_scaling_probes", e.Message);
        e = Assert.Throws<PrecisionLS.Config.ConfigException>(() => new GaussNewtonOptions(Solver: "qr").Validate());
        Assert.Contains("training.gn_solver 'qr'", e.Message);
        Assert.Contains("cg, direct", e.Message);
        e = Assert.Throws<PrecisionLS.Config.ConfigException>(() => new GaussNewtonOptions(Solver: "direct", ScalingProbes: 4).Validate());
        Assert.Contains("training.gn_scaling_probes", e.Message);
    }
}

using MathNet.Numerics.LinearAlgebra;
using PrecisionLS.Numerics;
using PrecisionLS.Tasks;
using PrecisionLS.Tests.Fixtures;
using Xunit;

namespace PrecisionLS.Tests.Tasks;

/// <summary>The numerical pieces of the ODE tasks: Chebyshev grid, pseudospectral solve, barycentric
/// interpolation and the Gaussian-process forcing (fixture ode_solve plus invariants).</summary>
public class OdeSolveTests
{
    private const int Nodes = 41;

    [Fact]
    public void MatchesFixture()
    {
        var fx = FixtureCase.Load("ode_solve");
        int batch = fx.ConfigInt("batch"), points = fx.ConfigInt("n_points");
        Assert.Equal(40, fx.ConfigInt("n_cheb"));
        var grid = ChebyshevGrid.Default;

        Compare.Close(fx.Outputs["cheb_nodes"], grid.Nodes, 1e-12, "cheb_nodes");
        Assert.Equal(fx.Outputs["cheb_nodes"].Data[20], grid.Nodes[20]);     // cos(π/2) = 6.1e-17, not 0
        Assert.Equal(Math.Cos(Math.PI / 2), grid.Nodes[20]);
        Compare.Close(fx.Outputs["D"], grid.DifferentiationMatrix, 1e-12, "D");

        double[] c = fx.Inputs["c"].Data, u0 = fx.Inputs["u0"].Data;
        double[] a1 = fx.Inputs["a1"].Data, a2 = fx.Inputs["a2"].Data, a3 = fx.Inputs["a3"].Data, a4 = fx.Inputs["a4"].Data;
        var m = new double[Nodes * Nodes];
        var rhs = new double[batch * points * Nodes];
        var u = new double[batch * points * Nodes];
        var cond = new double[batch * points];
        var solver = new PseudospectralSolver();
        for (int b = 0; b < batch; b++)
            for (int i = 0; i < points; i++)
            {
                int k = b * points + i;
                var ck = c.AsSpan(k * Nodes, Nodes);
                PseudospectralSolver.BuildSystem(grid, a1[b], a2[b], a3[b], a4[b], u0[k], ck, m, rhs.AsSpan(k * Nodes, Nodes));
                if (k == 0) Compare.Close(fx.Outputs["M_first"], m, 1e-12, "M_first");
                cond[k] = Matrix<double>.Build.DenseOfRowMajor(Nodes, Nodes, m).ConditionNumber();
                solver.Solve(a1[b], a2[b], a3[b], a4[b], u0[k], ck, u.AsSpan(k * Nodes, Nodes));
            }
        Compare.Close(fx.Outputs["rhs"], rhs, 1e-12, "rhs");
        Compare.Close(fx.Outputs["u"], u, 1e-10, "u");
        CloseRelative(fx.Outputs["cond_M"].Data, cond, 1e-6, "cond_M");

        double[] ts = fx.Inputs["interp_t"].Data;
        var interp = new double[batch * points * ts.Length];
        for (int k = 0; k < batch * points; k++)
            for (int j = 0; j < ts.Length; j++)
                interp[k * ts.Length + j] = grid.Interpolate(u.AsSpan(k * Nodes, Nodes), ts[j]);
        Compare.Close(fx.Outputs["u_interp"], interp, 1e-10, "u_interp");
        // The same interpolation of the fixture's own u agrees to rounding.
        for (int k = 0; k < batch * points; k++)
            for (int j = 0; j < ts.Length; j++)
                interp[k * ts.Length + j] = grid.Interpolate(fx.Outputs["u"].Data.AsSpan(k * Nodes, Nodes), ts[j]);
        Compare.Close(fx.Outputs["u_interp"], interp, 1e-13, "u_interp of the fixture's u");

        double gpLength = fx.ConfigDouble("gp_length");
        Compare.Close(fx.Outputs["gp_gram"], GaussianProcessSampler.Gram(fx.Inputs["gp_points"].Data, gpLength), 1e-12, "gp_gram");
    }

    [Fact]
    public void DifferentiationMatrixDifferentiatesPolynomialsAndConstants()
    {
        var grid = ChebyshevGrid.Default;
        var d = Matrix<double>.Build.DenseOfRowMajor(Nodes, Nodes, grid.DifferentiationMatrix.ToArray());
        var x = Vector<double>.Build.DenseOfArray(grid.Nodes.ToArray());
        // Constants: the negative-sum diagonal makes every row sum to zero (D_00 = -D_NN by symmetry).
        var ones = d * Vector<double>.Build.Dense(Nodes, 1.0);
        Assert.True(ones.AbsoluteMaximum() < 1e-10, $"D·1 = {ones.AbsoluteMaximum():E2}");
        Assert.Equal((2.0 * 40 * 40 + 1) / 6, grid.DifferentiationMatrix[0]);
        Assert.Equal(-(2.0 * 40 * 40 + 1) / 6, grid.DifferentiationMatrix[Nodes * Nodes - 1]);
        // Degree-5 polynomial: exact derivative up to rounding of entries ~1e3.
        var p = x.Map(t => 3 * Math.Pow(t, 5) - t * t + 0.5);
        var dp = d * p;
        for (int j = 0; j < Nodes; j++) Assert.Equal(15 * Math.Pow(x[j], 4) - 2 * x[j], dp[j], 1e-10);

        // Worked example in the docs (N = 2).
        var small = new ChebyshevGrid(2);
        double[] expected = [1.5, -2, 0.5, 0.5, 0, -0.5, -0.5, 2, -1.5];
        Compare.Close(expected, small.DifferentiationMatrix, 1e-15, "D (N = 2)");
    }

    // ||M u - rhs|| / ||rhs|| is bounded by about eps·||M||·||u|| / ||rhs||: with eqn_class 2 at scale 0.1 the
    // right-hand side is small (a1 = 0, |a4| <= 0.1) and the ratio reaches a few 1e-12 for any backward-stable
    // solver (here 3e-12; MathNet's LU and QR give 2e-12 and 1.2e-11 on these systems). The normwise backward
    // error ||M u - rhs|| / (||M|| ||u|| + ||rhs||) stays at rounding level (~1e-16) throughout.
    // Two backward-stable solvers agree to about cond(M)·eps: cond(M) reaches 1.4e6 at operator_scale 1 and 5e7 at
    // 0.1 (small a3: M is close to D - a2 diag(c), and D annihilates constants), so LU and QR differ by up to
    // 3e-11 and 8e-10 there; the 1e-10 bound holds at scale 1.
    [Theory]
    [InlineData(0, 1.0, 1e-12)]
    [InlineData(1, 1.0, 1e-12)]
    [InlineData(0, 0.1, 1e-12)]
    [InlineData(2, 0.1, 1e-11)]
    public void SolutionSatisfiesItsSystemAndMatchesAnIndependentSolve(int eqnClass, double scale, double residualTol)
    {
        var sampler = new OdeOperatorSampler(21, 8, new OdeOperatorOptions(eqn_class: eqnClass, operator_scale: scale));
        var grid = sampler.Grid;
        var m = new double[Nodes * Nodes];
        var rhs = new double[Nodes];
        var rng = new Rng(41);
        double worstResidual = 0, worstBackward = 0, worstQr = 0;
        for (int example = 0; example < 5; example++)
        {
            sampler.SampleExample(rng);
            for (int i = 0; i < sampler.Points; i++)
            {
                var c = sampler.CCheb.Slice(i * Nodes, Nodes);
                PseudospectralSolver.BuildSystem(grid, sampler.A1, sampler.A2, sampler.A3, sampler.A4, sampler.U0[i], c, m, rhs);
                var mm = Matrix<double>.Build.DenseOfRowMajor(Nodes, Nodes, m);
                var r = Vector<double>.Build.DenseOfArray(rhs);
                var u = Vector<double>.Build.DenseOfArray(sampler.UCheb.Slice(i * Nodes, Nodes).ToArray());
                worstResidual = Math.Max(worstResidual, (mm * u - r).L2Norm() / r.L2Norm());
                worstBackward = Math.Max(worstBackward, (mm * u - r).L2Norm() / (mm.L2Norm() * u.L2Norm() + r.L2Norm()));
                var uQr = mm.QR().Solve(r);                                  // Householder QR, not LU
                double diff = (u - uQr).L2Norm() / uQr.L2Norm();
                Assert.True(diff <= 4 * mm.ConditionNumber() * 1.1e-16,
                    $"LU vs QR relative difference {diff:E2} above 4 cond(M) eps");
                worstQr = Math.Max(worstQr, diff);
                Assert.Equal(grid.Interpolate(u.ToArray(), sampler.QueryPoint), sampler.UEval[i]);
            }
        }
        Assert.True(worstResidual <= residualTol, $"||M u - rhs|| / ||rhs|| = {worstResidual:E2}");
        Assert.True(worstBackward <= 5e-16, $"backward error {worstBackward:E2}");
        if (scale == 1.0) Assert.True(worstQr <= 1e-10, $"LU vs QR relative difference {worstQr:E2}");
    }

    [Fact]
    public void ReusedFactorizationGivesTheSameSolutionAsAFreshOne()
    {
        // eqn_class 1 (a2 = 0): the solver reuses the LU of the previous point of the row.
        var sampler = new OdeOperatorSampler(5, 4, new OdeOperatorOptions(eqn_class: 1));
        sampler.SampleExample(new Rng(3));
        Assert.Equal(0.0, sampler.A2);
        var u = new double[Nodes];
        for (int i = 0; i < sampler.Points; i++)
        {
            new PseudospectralSolver().Solve(sampler.A1, 0, sampler.A3, sampler.A4, sampler.U0[i], sampler.CCheb.Slice(i * Nodes, Nodes), u);
            Assert.Equal(sampler.UCheb.Slice(i * Nodes, Nodes).ToArray(), u);
        }
    }

    [Fact]
    public void InitialConditionHoldsOnlyApproximatelyAndVanishesWithoutA3()
    {
        // The authors' system keeps every collocation row; u0 enters only through a3 at the middle node.
        var grid = ChebyshevGrid.Default;
        var solver = new PseudospectralSolver();
        var c = new double[Nodes];
        for (int j = 0; j < Nodes; j++) c[j] = Math.Sin(grid.Nodes[j]);
        var u = new double[Nodes]; var v = new double[Nodes];
        solver.Solve(1.0, 0.5, 0.0, 0.2, 0.3, c, u);
        solver.Solve(1.0, 0.5, 0.0, 0.2, -0.7, c, v);
        Assert.Equal(u, v);                                   // a3 = 0: u0 is ignored
        solver.Solve(1.0, 0.5, 0.8, 0.2, 0.3, c, u);
        Assert.True(Math.Abs(u[20] - 0.3) < 1e-3, $"u(0) = {u[20]}, u0 = 0.3");
    }

    [Fact]
    public void BarycentricInterpolationIsExactAtNodesAndForPolynomials()
    {
        var grid = ChebyshevGrid.Default;
        var rng = new Rng(7);
        var f = new double[Nodes];
        rng.FillGaussian(f.AsSpan());
        for (int j = 0; j < Nodes; j++)
        {
            Assert.Equal(f[j], grid.Interpolate(f, grid.Nodes[j]));
            Assert.Equal(f[j], grid.Interpolate(f, grid.Nodes[j] + 5e-15));   // within 1e-14: snaps to the node
        }
        Assert.Equal(f[20], grid.Interpolate(f, 0.0));                           // 0 is 6.1e-17 from x_20

        Assert.Equal([0.5, -1, 1, -1, 0.5], new ChebyshevGrid(4).BarycentricWeights.ToArray());
        static double P(double t) => ((((2 * t - 1) * t + 0.5) * t - 3) * t + 1) * t - 0.25;   // degree 5
        for (int j = 0; j < Nodes; j++) f[j] = P(grid.Nodes[j]);
        for (int k = 0; k < 200; k++)
        {
            double t = rng.NextUniform(-1, 1);
            Assert.Equal(P(t), grid.Interpolate(f, t), 1e-12);
        }
    }

    [Fact]
    public void GaussianProcessCovarianceApproachesTheKernel()
    {
        // Repeated points make the Gram matrix exactly singular: no Cholesky factor, SVD draws still work.
        double[] pts = [-1.0, -0.4, 0.1, 0.1, 0.75, 1.0];
        const double gpLength = 0.3;
        const int draws = 20000;
        var gp = new GaussianProcessSampler(pts, gpLength);
        var rng = new Rng(2024);
        int n = pts.Length;
        var y = new double[n];
        var sum = new double[n * n];
        for (int s = 0; s < draws; s++)
        {
            gp.Sample(rng, y);
            Assert.Equal(y[2], y[3], 1e-6);                   // the same point: the same value
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) sum[i * n + j] += y[i] * y[j];
        }
        double worst = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                worst = Math.Max(worst, Math.Abs(sum[i * n + j] / draws - GaussianProcessSampler.Kernel(pts[i], pts[j], gpLength)));
        // Standard error of an entry is at most sqrt(2/draws) = 0.01.
        Assert.True(worst < 0.04, $"empirical covariance differs from the kernel by {worst:F4}");
    }

    [Fact]
    public void GaussianProcessSamplingIsReproducibleAndAllocationFree()
    {
        var pts = new double[62];
        ChebyshevGrid.Default.Nodes.CopyTo(pts);
        OdeOperatorSampler.Linspace(-1, 1, pts.AsSpan(41));
        var gp = new GaussianProcessSampler(pts, 1.0);
        double[] a = new double[62], b = new double[62];
        var rng = new Rng(5);
        gp.Sample(rng, a);                                  // first call sizes the generator's scratch
        rng.Reseed(5);
        long before = GC.GetAllocatedBytesForCurrentThread();
        gp.Sample(rng, b);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(a, b);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void RejectsBadArguments()
    {
        var e = Assert.Throws<ArgumentException>(() => new GaussianProcessSampler([0.0, 1.0], 0.0));
        Assert.Contains("gp_length = 0", e.Message);
        e = Assert.Throws<ArgumentException>(() => new PseudospectralSolver(new ChebyshevGrid(5)));
        Assert.Contains("n_cheb = 5", e.Message);
        e = Assert.Throws<ArgumentException>(() => new ChebyshevGrid(0));
        Assert.Contains("n_cheb = 0", e.Message);
        e = Assert.Throws<ArgumentException>(() => ChebyshevGrid.Default.Interpolate(new double[40], 0.5));
        Assert.Contains("41", e.Message);
    }

    private static void CloseRelative(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, double tol, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double rel = Math.Abs(actual[i] - expected[i]) / Math.Abs(expected[i]);
            Assert.True(rel <= tol, $"{what}[{i}]: {actual[i]:R} vs {expected[i]:R}, relative {rel:E2} > {tol:E0}");
        }
    }
}

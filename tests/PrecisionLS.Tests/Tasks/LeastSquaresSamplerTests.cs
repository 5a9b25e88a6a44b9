using MathNet.Numerics.LinearAlgebra;
using PrecisionLS.Numerics;
using PrecisionLS.Tasks;
using PrecisionLS.Tests.Fixtures;
using Xunit;

namespace PrecisionLS.Tests.Tasks;

public class LeastSquaresSamplerTests
{
    private sealed record Batch(double[] A, double[] XStar, double[] XInit, double[] B);

    private static Batch Draw(int d, int l, int batch, ulong seed, LeastSquaresOptions? options = null)
    {
        var sampler = new LeastSquaresSampler<double>(d, l, options);
        var r = new Batch(new double[batch * l * d], new double[batch * d], new double[batch * d], new double[batch * l]);
        sampler.Sample(new Rng(seed), batch, r.A, r.XStar, r.XInit, r.B);
        return r;
    }

    private static double[] SingularValues(ReadOnlySpan<double> a, int rows, int cols) =>
        Matrix<double>.Build.DenseOfRowMajor(rows, cols, a.ToArray()).Svd(false).S.ToArray();

    private static double Norm(ReadOnlySpan<double> v)
    {
        double s = 0;
        foreach (double x in v) s += x * x;
        return Math.Sqrt(s);
    }

    [Fact]
    public void ScaleCondMatchesFixture()
    {
        var fx = FixtureCase.Load("task_scale_cond");
        int batch = fx.ConfigInt("batch"), l = fx.ConfigInt("n_points"), d = fx.ConfigInt("n_dims");
        double kappa = fx.ConfigDouble("scale_cond");
        Assert.Equal(1.0, fx.ConfigDouble("l_min"));
        double[] a = fx.Inputs["A"].Data;
        for (int e = 0; e < batch; e++)
        {
            double[] m = a.AsSpan(e * l * d, l * d).ToArray();
            Compare.Close(fx.Outputs["singular_values"].Data.AsSpan(e * d, d), SingularValues(m, l, d), 1e-12, $"singular_values[{e}]");

            LeastSquaresSampler<double>.ScaleConditionNumber(m, l, d, kappa);
            Compare.Close(fx.Outputs["A_scaled"].Data.AsSpan(e * l * d, l * d), m, 1e-12, $"A_scaled[{e}]");
            double[] s = SingularValues(m, l, d);
            Compare.Close(fx.Outputs["singular_values_scaled"].Data.AsSpan(e * d, d), s, 1e-12, $"singular_values_scaled[{e}]");
            Assert.True(Math.Abs(s[0] / s[^1] - kappa) <= 1e-10, $"cond(A_scaled[{e}]) = {s[0] / s[^1]:R}, expected {kappa}");
            Compare.Close(fx.Outputs["cond_scaled"].Data.AsSpan(e, 1), [s[0] / s[^1]], 1e-10, $"cond_scaled[{e}]");
        }
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(5.0)]
    [InlineData(100.0)]
    [InlineData(1e4)]
    public void ScaleCondGivesExactConditionNumberOnRandom20x5(double kappa)
    {
        const int l = 20, d = 5, batch = 8;
        var r = Draw(d, l, batch, 42, new LeastSquaresOptions(scale_cond: kappa));
        for (int e = 0; e < batch; e++)
        {
            ReadOnlySpan<double> a = r.A.AsSpan(e * l * d, l * d);
            double[] s = SingularValues(a, l, d);
            Assert.True(Math.Abs(s[^1] - 1.0) <= 1e-10 * kappa, $"example {e}: smallest singular value {s[^1]:R}, expected 1");
            Assert.True(Math.Abs(s[0] - kappa) <= 1e-10 * kappa, $"example {e}: largest singular value {s[0]:R}, expected {kappa}");
            Assert.True(Math.Abs(s[0] / s[^1] - kappa) <= 1e-10 * kappa, $"example {e}: cond {s[0] / s[^1]:R}, expected {kappa}");
            // b comes from the final (rescaled) A.
            for (int i = 0; i < l; i++)
            {
                double bi = 0;
                for (int j = 0; j < d; j++) bi += a[i * d + j] * r.XStar[e * d + j];
                Assert.Equal(bi, r.B[e * l + i], 1e-12 * Math.Max(1, Math.Abs(bi)));
            }
        }
    }

    [Fact]
    public void ScaleCondKeepsSingularVectors()
    {
        // The affine map changes S only: A' Vᵀ-directions stay those of A, so A'ᵀA' and AᵀA commute.
        const int l = 7, d = 3;
        var a = new double[l * d];
        new Rng(9).FillGaussian(a.AsSpan());
        var a0 = Matrix<double>.Build.DenseOfRowMajor(l, d, a);
        LeastSquaresSampler<double>.ScaleConditionNumber(a, l, d, 3.0);
        var a1 = Matrix<double>.Build.DenseOfRowMajor(l, d, a);
        var g0 = a0.TransposeThisAndMultiply(a0);
        var g1 = a1.TransposeThisAndMultiply(a1);
        double commutator = (g0 * g1 - g1 * g0).FrobeniusNorm() / (g0.FrobeniusNorm() * g1.FrobeniusNorm());
        Assert.True(commutator < 1e-14, $"relative commutator {commutator:E3}");
    }

    [Fact]
    public void BIsAXStar()
    {
        const int l = 9, d = 4, batch = 5;
        var r = Draw(d, l, batch, 7);
        for (int e = 0; e < batch; e++)
        {
            var a = Matrix<double>.Build.DenseOfRowMajor(l, d, r.A.AsSpan(e * l * d, l * d).ToArray());
            var b = a * Vector<double>.Build.DenseOfArray(r.XStar.AsSpan(e * d, d).ToArray());
            Compare.Close(b.ToArray(), r.B.AsSpan(e * l, l), 1e-14, $"b[{e}]");
        }
    }

    [Fact]
    public void PlainDrawsLookStandardNormal()
    {
        const int l = 40, d = 20, batch = 64;
        var r = Draw(d, l, batch, 11);
        foreach (var (name, v) in new[] { ("A", r.A), ("x*", r.XStar), ("x_init", r.XInit) })
        {
            double mean = v.Average(), var = v.Select(x => (x - mean) * (x - mean)).Average();
            double se = 1.0 / Math.Sqrt(v.Length);
            Assert.True(Math.Abs(mean) < 5 * se, $"{name}: mean {mean:F4}");
            Assert.True(Math.Abs(var - 1) < 5 * Math.Sqrt(2) * se, $"{name}: variance {var:F4}");
        }
    }

    [Fact]
    public void NormalizeAGivesUnitRows()
    {
        const int l = 10, d = 6, batch = 4;
        var r = Draw(d, l, batch, 3, new LeastSquaresOptions(normalize_a: true));
        for (int row = 0; row < batch * l; row++)
            Assert.Equal(1.0, Norm(r.A.AsSpan(row * d, d)), 14);
        var plain = Draw(d, l, batch, 3);
        Assert.Equal(plain.XStar, r.XStar);                       // x untouched
        Assert.NotEqual(plain.A, r.A);
    }

    [Fact]
    public void NormalizeXGivesUnitNorms()
    {
        const int l = 10, d = 6, batch = 4;
        var r = Draw(d, l, batch, 3, new LeastSquaresOptions(normalize_x: true));
        for (int e = 0; e < batch; e++)
        {
            Assert.Equal(1.0, Norm(r.XStar.AsSpan(e * d, d)), 14);
            Assert.Equal(1.0, Norm(r.XInit.AsSpan(e * d, d)), 14);
        }
        Assert.Equal(Draw(d, l, batch, 3).A, r.A);                  // A untouched
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ScaleTargetScalesNorms(bool normalizeX)
    {
        const int l = 10, d = 6, batch = 4;
        const double s = 7.5;
        var baseline = Draw(d, l, batch, 5, new LeastSquaresOptions(normalize_x: normalizeX));
        var scaled = Draw(d, l, batch, 5, new LeastSquaresOptions(normalize_x: normalizeX, scale_target: s));
        for (int e = 0; e < batch; e++)
        {
            Assert.Equal(s * Norm(baseline.XStar.AsSpan(e * d, d)), Norm(scaled.XStar.AsSpan(e * d, d)), 12);
            Assert.Equal(s * Norm(baseline.XInit.AsSpan(e * d, d)), Norm(scaled.XInit.AsSpan(e * d, d)), 12);
            if (normalizeX) Assert.Equal(s, Norm(scaled.XStar.AsSpan(e * d, d)), 13);
        }
        for (int i = 0; i < baseline.XStar.Length; i++) Assert.Equal(s * baseline.XStar[i], scaled.XStar[i]);
        for (int i = 0; i < baseline.B.Length; i++)
            Assert.Equal(s * baseline.B[i], scaled.B[i], 1e-13 * Math.Max(1, Math.Abs(scaled.B[i])));
    }

    [Fact]
    public void SameSeedReproducesDifferentSeedDiffers()
    {
        var opts = new LeastSquaresOptions(normalize_a: true, scale_cond: 10);
        var r1 = Draw(5, 20, 6, 123, opts);
        var r2 = Draw(5, 20, 6, 123, opts);
        var r3 = Draw(5, 20, 6, 124, opts);
        Assert.Equal(r1.A, r2.A); Assert.Equal(r1.XStar, r2.XStar); Assert.Equal(r1.XInit, r2.XInit); Assert.Equal(r1.B, r2.B);
        Assert.NotEqual(r1.A, r3.A); Assert.NotEqual(r1.XStar, r3.XStar); Assert.NotEqual(r1.XInit, r3.XInit); Assert.NotEqual(r1.B, r3.B);
    }

    [Fact]
    public void DrawOrderIsAThenXStarThenXInitPerExample()
    {
        // Documented order: per example one FillGaussian over A (row-major), x*, x_init.
        const int l = 3, d = 2, batch = 2;
        var r = Draw(d, l, batch, 77);
        var rng = new Rng(77);
        var expect = new double[l * d + 2 * d];
        for (int e = 0; e < batch; e++)
        {
            rng.FillGaussian(expect.AsSpan());
            Assert.Equal(expect[..(l * d)], r.A.AsSpan(e * l * d, l * d).ToArray());
            Assert.Equal(expect[(l * d)..(l * d + d)], r.XStar.AsSpan(e * d, d).ToArray());
            Assert.Equal(expect[(l * d + d)..], r.XInit.AsSpan(e * d, d).ToArray());
        }
    }

    [Fact]
    public void FloatSamplerIsTheDoubleSamplerRounded()
    {
        const int l = 8, d = 3, batch = 3;
        var r = Draw(d, l, batch, 21, new LeastSquaresOptions(scale_cond: 4));
        var sf = new LeastSquaresSampler<float>(d, l, new LeastSquaresOptions(scale_cond: 4));
        float[] a = new float[batch * l * d], xs = new float[batch * d], xi = new float[batch * d], b = new float[batch * l];
        sf.Sample(new Rng(21), batch, a, xs, xi, b);
        Assert.Equal(r.A.Select(v => (float)v), a);
        Assert.Equal(r.XStar.Select(v => (float)v), xs);
        Assert.Equal(r.XInit.Select(v => (float)v), xi);
        Assert.Equal(r.B.Select(v => (float)v), b);
    }

    [Fact]
    public void SampleAllocatesNothingWithoutScaleCond()
    {
        const int l = 20, d = 5, batch = 16;
        var sampler = new LeastSquaresSampler<double>(d, l, new LeastSquaresOptions(normalize_a: true, normalize_x: true, scale_target: 2));
        double[] a = new double[batch * l * d], xs = new double[batch * d], xi = new double[batch * d], b = new double[batch * l];
        var rng = new Rng(1);
        sampler.Sample(rng, batch, a, xs, xi, b);
        long before = GC.GetAllocatedBytesForCurrentThread();
        sampler.Sample(rng, batch, a, xs, xi, b);
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.0)]
    [InlineData(-3.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void BadScaleCondIsRejectedNamingTheKey(double kappa)
    {
        var ex = Assert.Throws<ArgumentException>(() => new LeastSquaresSampler<double>(5, 20, new LeastSquaresOptions(scale_cond: kappa)));
        Assert.Contains("scale_cond", ex.Message);
        Assert.Contains(">= 1", ex.Message);
        Assert.Throws<ArgumentException>(() => LeastSquaresSampler<double>.ScaleConditionNumber(new double[20], 5, 4, kappa));
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void BadScaleTargetIsRejectedNamingTheKey(double s)
    {
        var ex = Assert.Throws<ArgumentException>(() => new LeastSquaresSampler<double>(5, 20, new LeastSquaresOptions(scale_target: s)));
        Assert.Contains("scale_target", ex.Message);
        Assert.Contains("finite", ex.Message);
    }

    [Fact]
    public void BadSizesAreRejected()
    {
        Assert.Contains("n_dims", Assert.Throws<ArgumentException>(() => new LeastSquaresSampler<double>(0, 20)).Message);
        Assert.Contains("n_points", Assert.Throws<ArgumentException>(() => new LeastSquaresSampler<double>(5, 0)).Message);
        Assert.Contains("scale_cond", Assert.Throws<ArgumentException>(
            () => new LeastSquaresSampler<double>(1, 20, new LeastSquaresOptions(scale_cond: 5))).Message);
        var sampler = new LeastSquaresSampler<double>(2, 3);
        Assert.Throws<ArgumentException>(() => sampler.Sample(new Rng(0), 2, new double[11], new double[4], new double[4], new double[6]));
    }
}

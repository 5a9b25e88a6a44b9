using PrecisionLS.Numerics;
using PrecisionLS.Tasks;
using Xunit;

namespace PrecisionLS.Tests.Tasks;

public class GaussianSamplerTests
{
    private static double Norm(ReadOnlySpan<double> v)
    {
        double s = 0;
        foreach (double x in v) s += x * x;
        return Math.Sqrt(s);
    }

    [Fact]
    public void PlainSamplesAreTheRngStreamExampleByExample()
    {
        const int l = 5, d = 3, batch = 4;                 // L·D odd: one Box-Muller value dropped per example
        var x = new double[batch * l * d];
        new GaussianSampler<double>(d, l).Sample(new Rng(7), batch, x);
        var rng = new Rng(7);
        var expected = new double[l * d];
        for (int e = 0; e < batch; e++)
        {
            rng.FillGaussian(expected.AsSpan());
            Assert.Equal(expected, x.AsSpan(e * l * d, l * d).ToArray());
        }
    }

    [Fact]
    public void NormalizeThenScaleThenTruncate()
    {
        const int l = 6, d = 4, batch = 3, live = 2;
        const double scale = 2.5;
        var plain = new double[batch * l * d];
        var shaped = new double[plain.Length];
        new GaussianSampler<double>(d, l).Sample(new Rng(3), batch, plain);
        new GaussianSampler<double>(d, l, new GaussianOptions(normalize: true, scale: scale)).Sample(new Rng(3), batch, shaped, dims: live);
        for (int row = 0; row < batch * l; row++)
        {
            // Normalised over all D columns before truncation (the authors' order).
            double n = Norm(plain.AsSpan(row * d, d));
            for (int j = 0; j < d; j++)
            {
                double expected = j < live ? plain[row * d + j] / n * scale : 0.0;
                Assert.Equal(expected, shaped[row * d + j], 1e-15);
            }
        }

        var normalized = new double[plain.Length];
        new GaussianSampler<double>(d, l, new GaussianOptions(normalize: true)).Sample(new Rng(3), batch, normalized);
        for (int row = 0; row < batch * l; row++) Assert.Equal(1.0, Norm(normalized.AsSpan(row * d, d)), 1e-14);
    }

    [Fact]
    public void FewerPointsDrawFewerValues()
    {
        const int l = 8, d = 2, points = 3;
        var x = new double[2 * points * d];
        new GaussianSampler<double>(d, l).Sample(new Rng(11), 2, x, points: points);
        var expected = new double[2 * points * d];     // the same stream as a sampler built for 3 points
        new GaussianSampler<double>(d, points).Sample(new Rng(11), 2, expected);
        Assert.Equal(expected, x);
    }

    [Fact]
    public void FloatSamplesRoundTheDoubleSamples()
    {
        var xd = new double[2 * 5 * 4]; var xf = new float[xd.Length];
        new GaussianSampler<double>(4, 5, new GaussianOptions(scale: 3)).Sample(new Rng(2), 2, xd);
        new GaussianSampler<float>(4, 5, new GaussianOptions(scale: 3)).Sample(new Rng(2), 2, xf);
        Assert.Equal(xd.Select(v => (float)v), xf);
    }

    [Fact]
    public void SampleAllocatesNothingAfterTheFirstCall()
    {
        var sampler = new GaussianSampler<double>(20, 40, new GaussianOptions(normalize: true));
        var x = new double[16 * 40 * 20];
        var rng = new Rng(1);
        sampler.Sample(rng, 16, x);
        long before = GC.GetAllocatedBytesForCurrentThread();
        sampler.Sample(rng, 16, x);
        sampler.Sample(rng, 8, x, points: 10, dims: 5);
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    [Fact]
    public void BadArgumentsAreRejectedNamingTheKey()
    {
        var ex = Assert.Throws<ArgumentException>(() => new GaussianSampler<double>(0, 4));
        Assert.Contains("n_dims = 0", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => new GaussianSampler<double>(3, 0));
        Assert.Contains("n_points = 0", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => new GaussianSampler<double>(3, 4, new GaussianOptions(scale: double.PositiveInfinity)));
        Assert.Contains("scale = ", ex.Message);
        Assert.Contains("finite", ex.Message);
        var sampler = new GaussianSampler<double>(3, 4);
        ex = Assert.Throws<ArgumentException>(() => sampler.Sample(new Rng(0), 2, new double[23]));
        Assert.Contains("x has 23", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => sampler.Sample(new Rng(0), 1, new double[100], points: 5));
        Assert.Contains("points = 5", ex.Message);
    }
}

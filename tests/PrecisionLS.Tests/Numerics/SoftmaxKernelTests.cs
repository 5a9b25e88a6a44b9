using PrecisionLS.Numerics;
using Xunit;

namespace PrecisionLS.Tests.Numerics;

/// <summary>The softmax kernels: the exponential against Math.Exp, special values, the same bits at every position;
/// rows and their backward against the plain formulas at every length across the vector widths.</summary>
public class SoftmaxKernelTests
{
    [Fact]
    public void Double_is_within_two_ulp_of_Math_Exp()
    {
        var rng = new Rng(1);
        var x = new double[10_003];
        for (int i = 0; i < x.Length; i++) x[i] = i % 3 == 0 ? -rng.NextDouble() : i % 3 == 1 ? -40 * rng.NextDouble() : -708 * rng.NextDouble();
        var y = (double[])x.Clone();
        SoftmaxKernel.Exp<double>(y, 0.0, 1.0);
        for (int i = 0; i < x.Length; i++)
        {
            double e = Math.Exp(x[i]);
            Assert.True(Math.Abs(y[i] - e) <= 2 * double.Epsilon + 2.3e-16 * e, $"exp({x[i]:R}) = {y[i]:R}, Math.Exp {e:R}");
        }
    }

    [Fact]
    public void Float_is_within_two_ulp_of_MathF_Exp()
    {
        var rng = new Rng(2);
        var x = new float[4099];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(i % 2 == 0 ? -rng.NextDouble() : -87 * rng.NextDouble());
        var y = (float[])x.Clone();
        SoftmaxKernel.Exp<float>(y, 0f, 1f);
        for (int i = 0; i < x.Length; i++)
        {
            double e = Math.Exp(x[i]);
            Assert.True(Math.Abs(y[i] - e) <= 1.3e-7 * e, $"exp({x[i]:R}) = {y[i]:R}, exact {e:R}");
        }
    }

    [Fact]
    public void Shift_special_values_and_position_independence()
    {
        foreach (int n in new[] { 1, 3, 4, 7, 8, 9, 16, 23 })
        {
            var v = new double[n]; Array.Fill(v, 1.25);
            SoftmaxKernel.Exp<double>(v, 2.0, 1.0);   // exp(-0.75) everywhere: vector lanes and scalar tail agree bit for bit
            Assert.All(v, e => Assert.Equal(BitConverter.DoubleToInt64Bits(v[0]), BitConverter.DoubleToInt64Bits(e)));
            Assert.Equal(Math.Exp(-0.75), v[0], 2e-16);
            var u = new double[n]; Array.Fill(u, -1.5);
            SoftmaxKernel.Exp<double>(u, 0.5, 0.25);   // exp(0.25·(-2)) = exp(-0.5)
            Assert.Equal(Math.Exp(-0.5), u[n - 1], 2e-16);
            var f = new float[n]; Array.Fill(f, -3.5f);
            SoftmaxKernel.Exp<float>(f, 0f, 1f);
            Assert.All(f, e => Assert.Equal(BitConverter.SingleToInt32Bits(f[0]), BitConverter.SingleToInt32Bits(e)));
        }
        double[] s = [double.NegativeInfinity, double.NaN, 0, -1000, -745, 0, double.NegativeInfinity, double.NaN, -0.5, double.NaN, double.NegativeInfinity];
        SoftmaxKernel.Exp<double>(s, 0.0, 1.0);
        Assert.Equal(Math.Exp(-0.5), s[8], 2e-16);
        s[8] = 0.5;
        Assert.Equal([0, double.NaN, 1, 0, 0, 1, 0, double.NaN, 0.5, double.NaN, 0], s);
        float[] sf = [float.NegativeInfinity, float.NaN, 0, -100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, float.NaN, float.NegativeInfinity];
        SoftmaxKernel.Exp<float>(sf, 0f, 1f);
        Assert.Equal(0f, sf[0]); Assert.True(float.IsNaN(sf[1])); Assert.Equal(1f, sf[2]); Assert.Equal(0f, sf[3]);
        Assert.True(float.IsNaN(sf[16])); Assert.Equal(0f, sf[17]);
    }

    [Fact]
    public void Rows_match_the_plain_formula()
    {
        var rng = new Rng(4);
        for (int n = 1; n <= 41; n++)
        {
            var x = new double[n];
            for (int j = 0; j < n; j++) x[j] = j % 5 == 3 ? double.NegativeInfinity : 6 * rng.NextGaussian();
            if (n % 5 == 4) x[0] = double.NegativeInfinity;
            x[n - 1] = rng.NextGaussian();   // at least one finite entry
            const double scale = 0.7;
            double m = x.Max();
            var e = x.Select(v => Math.Exp(scale * (v - m))).ToArray();
            double sum = e.Sum();
            var row = (double[])x.Clone();
            SoftmaxKernel.Row<double>(row, scale);
            for (int j = 0; j < n; j++)
                Assert.True(Math.Abs(row[j] - e[j] / sum) <= 1e-15, $"n={n} j={j}: {row[j]:R} vs {e[j] / sum:R}");
            Assert.Equal(1.0, row.Sum(), 1e-14);

            var rowF = x.Select(v => (float)v).ToArray();
            SoftmaxKernel.Row<float>(rowF, (float)scale);
            for (int j = 0; j < n; j++) Assert.True(Math.Abs(rowF[j] - e[j] / sum) <= 1e-6, $"float n={n} j={j}");

            // backward: g ← scale·a ∘ (g − Σ g∘a)
            var g = new double[n]; rng.FillGaussian(g.AsSpan());
            double r = 0; for (int j = 0; j < n; j++) r += g[j] * row[j];
            var expected = g.Select((gj, j) => scale * row[j] * (gj - r)).ToArray();
            SoftmaxKernel.RowBackward<double>(row, g, scale);
            for (int j = 0; j < n; j++) Assert.True(Math.Abs(g[j] - expected[j]) <= 1e-14, $"backward n={n} j={j}: {g[j]:R} vs {expected[j]:R}");
        }
    }

    [Theory]
    [InlineData(21, 24)]
    [InlineData(70, 37)]   // more rows than one group, a stride with scalar tails
    [InlineData(3, 5)]
    public void Block_rows_match_single_rows_bit_for_bit_and_zero_the_rest(int rows, int stride)
    {
        var rng = new Rng(6);
        var block = new double[rows * stride];
        rng.FillGaussian(block.AsSpan());
        for (int i = 0; i < block.Length; i += 7) block[i] = double.NegativeInfinity;
        var lengths = Enumerable.Range(0, rows).Select(i => 1 + (i * 5) % stride).ToArray();
        for (int i = 0; i < rows; i++) block[i * stride] = rng.NextGaussian();   // a finite first entry
        var expected = (double[])block.Clone();
        for (int i = 0; i < rows; i++)
        {
            SoftmaxKernel.Row<double>(expected.AsSpan(i * stride, lengths[i]), 0.3);
            expected.AsSpan(i * stride + lengths[i], stride - lengths[i]).Clear();
        }
        SoftmaxKernel.Rows<double>(block, rows, stride, lengths, 0.3);
        Assert.Equal(expected.Select(BitConverter.DoubleToInt64Bits), block.Select(BitConverter.DoubleToInt64Bits));

        var blockF = expected.Select(v => (float)v).ToArray();
        Assert.Throws<ArgumentException>(() => SoftmaxKernel.Rows<float>(blockF, rows, stride, lengths.Select(l => l + stride).ToArray(), 1f));
        Assert.Throws<ArgumentException>(() => SoftmaxKernel.Rows<float>(blockF, rows + 1, stride, lengths, 1f));
    }
}

using PrecisionLS.Numerics;
using Xunit;

namespace PrecisionLS.Tests.Numerics;

public class RngTests
{
    [Fact]
    public void Gaussian_draws_have_zero_mean_and_unit_variance()
    {
        var rng = new Rng(123);
        var x = new double[200_001];                      // odd length: the last value takes a half pair
        rng.FillGaussian(x.AsSpan());
        double mean = x.Average(), var = x.Select(v => (v - mean) * (v - mean)).Average();
        double fourth = x.Select(v => Math.Pow(v - mean, 4)).Average() / (var * var);
        Assert.InRange(mean, -0.01, 0.01);                // 4.5 standard errors
        Assert.InRange(var, 0.985, 1.015);
        Assert.InRange(fourth, 2.9, 3.1);                  // normal kurtosis 3
        Assert.All(x, v => Assert.True(double.IsFinite(v)));
    }

    [Fact]
    public void Saved_state_continues_the_same_stream()
    {
        var a = new Rng(7);
        a.FillGaussian(new double[13].AsSpan());
        var b = new Rng(a.State);
        var xa = new double[9]; var xb = new double[9];
        a.FillGaussian(xa.AsSpan()); b.FillGaussian(xb.AsSpan());
        Assert.Equal(xa, xb);
        Assert.Equal(a.NextUInt64(), b.NextUInt64());
    }

    [Fact]
    public void Seeds_and_labels_give_different_streams()
    {
        Assert.NotEqual(new Rng(1).NextUInt64(), new Rng(2).NextUInt64());
        Assert.NotEqual(Rng.Derive(1, "eval-data").NextUInt64(), Rng.Derive(1, "train-data").NextUInt64());
        Assert.Equal(Rng.Derive(5, "init").NextUInt64(), Rng.Derive(5, "init").NextUInt64());
    }

    [Fact]
    public void Generic_fill_is_the_double_stream_rounded()
    {
        var d = new double[11]; var f = new float[11];
        new Rng(3).FillGaussian(d.AsSpan()); new Rng(3).FillGaussian(f.AsSpan());
        for (int i = 0; i < d.Length; i++) Assert.Equal((float)d[i], f[i]);
    }

    [Fact]
    public void Uniform_draws_stay_in_range()
    {
        var rng = new Rng(9);
        for (int i = 0; i < 10_000; i++)
        {
            double u = rng.NextDouble();
            Assert.InRange(u, 0.0, 1.0 - 1e-17);
            Assert.InRange(rng.NextInt(7), 0, 6);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => rng.NextInt(0));
    }
}

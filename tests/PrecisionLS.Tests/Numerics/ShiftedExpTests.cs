using PrecisionLS.Numerics;
using Xunit;

namespace PrecisionLS.Tests.Numerics;

/// <summary>The softmax exponential: accuracy against Math.Exp, special values, and the same bits at every position.</summary>
public class ShiftedExpTests
{
    [Fact]
    public void Double_is_within_two_ulp_of_Math_Exp()
    {
        var rng = new Rng(1);
        var x = new double[10_003];
        for (int i = 0; i < x.Length; i++) x[i] = i % 3 == 0 ? -rng.NextDouble() : i % 3 == 1 ? -40 * rng.NextDouble() : -708 * rng.NextDouble();
        var y = (double[])x.Clone();
        ShiftedExp.Apply<double>(y, 0.0);
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
        ShiftedExp.Apply<float>(y, 0f);
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
            ShiftedExp.Apply<double>(v, 2.0);   // exp(-0.75) everywhere: vector lanes and scalar tail agree bit for bit
            Assert.All(v, e => Assert.Equal(BitConverter.DoubleToInt64Bits(v[0]), BitConverter.DoubleToInt64Bits(e)));
            Assert.Equal(Math.Exp(-0.75), v[0], 2e-16);
            var f = new float[n]; Array.Fill(f, -3.5f);
            ShiftedExp.Apply<float>(f, 0f);
            Assert.All(f, e => Assert.Equal(BitConverter.SingleToInt32Bits(f[0]), BitConverter.SingleToInt32Bits(e)));
        }
        double[] s = [double.NegativeInfinity, double.NaN, 0, -1000, -745, 0, double.NegativeInfinity, double.NaN, -0.5, double.NaN, double.NegativeInfinity];
        ShiftedExp.Apply<double>(s, 0.0);
        Assert.Equal(Math.Exp(-0.5), s[8], 2e-16);
        s[8] = 0.5;
        Assert.Equal([0, double.NaN, 1, 0, 0, 1, 0, double.NaN, 0.5, double.NaN, 0], s);
        float[] sf = [float.NegativeInfinity, float.NaN, 0, -100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, float.NaN, float.NegativeInfinity];
        ShiftedExp.Apply<float>(sf, 0f);
        Assert.Equal(0f, sf[0]); Assert.True(float.IsNaN(sf[1])); Assert.Equal(1f, sf[2]); Assert.Equal(0f, sf[3]);
        Assert.True(float.IsNaN(sf[16])); Assert.Equal(0f, sf[17]);
    }
}

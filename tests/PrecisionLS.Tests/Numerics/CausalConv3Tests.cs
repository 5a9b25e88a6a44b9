using PrecisionLS.Numerics;
using Xunit;

namespace PrecisionLS.Tests.Numerics;

/// <summary>The M2 three-tap causal short convolution against its defining sum, and its backward against the adjoint
/// identity ⟨dy, conv(x)⟩ = ⟨conv_x*(dy), x⟩ and the explicit weight and bias sums.</summary>
public class CausalConv3Tests
{
    private static double[] Random(int n, ulong seed)
    {
        var rng = new Rng(seed);
        return Enumerable.Range(0, n).Select(_ => rng.NextGaussian()).ToArray();
    }

    // y[b, t, c] = bias[c] + Σ_j w[j, c]·x[b, t − 2 + j, c] (zero before t = 0)
    private static double[] Direct(double[] x, double[] wT, double[] bias, int batch, int length, int c)
    {
        var y = new double[batch * length * c];
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < length; t++)
                for (int ch = 0; ch < c; ch++)
                {
                    double s = bias.Length > 0 ? bias[ch] : 0;
                    for (int j = 0; j < 3; j++)
                    {
                        int src = t - 2 + j;
                        if (src >= 0) s += wT[j * c + ch] * x[(b * length + src) * c + ch];
                    }
                    y[(b * length + t) * c + ch] = s;
                }
        return y;
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(1, 2, 3)]
    [InlineData(3, 17, 5)]
    [InlineData(2, 700, 12)]     // enough rows to be split over several work items and workers
    public void Forward_matches_the_direct_sum(int batch, int length, int c)
    {
        var x = Random(batch * length * c, 1); var w = Random(3 * c, 2); var bias = Random(c, 3);
        var y = new double[x.Length];
        CausalConv3.Forward<double>(x, w, bias, y, batch, length, c);
        var expected = Direct(x, w, bias, batch, length, c);
        for (int i = 0; i < y.Length; i++) Assert.Equal(expected[i], y[i], 1e-13);
        CausalConv3.Forward<double>(x, w, default, y, batch, length, c);          // no bias
        var noBias = Direct(x, w, [], batch, length, c);
        for (int i = 0; i < y.Length; i++) Assert.Equal(noBias[i], y[i], 1e-13);
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(3, 17, 5)]
    [InlineData(2, 700, 12)]
    public void Backward_is_the_adjoint_and_sums_the_weight_and_bias_gradients(int batch, int length, int c)
    {
        var x = Random(batch * length * c, 4); var w = Random(3 * c, 5); var dy = Random(x.Length, 6);
        var dx = new double[x.Length]; var dw = new double[3 * c]; var db = new double[c];
        CausalConv3.Backward<double>(x, w, dy, dx, dw, db, batch, length, c, accumulateDx: false);

        // ⟨dy, conv_w(v)⟩ = ⟨dx, v⟩ for any v (the map is linear in x, no bias)
        var v = Random(x.Length, 7);
        var cv = Direct(v, w, [], batch, length, c);
        double lhs = 0, rhs = 0;
        for (int i = 0; i < v.Length; i++) { lhs += dy[i] * cv[i]; rhs += dx[i] * v[i]; }
        Assert.Equal(lhs, rhs, 1e-10 * Math.Max(1, Math.Abs(lhs)));

        for (int ch = 0; ch < c; ch++)
        {
            double sb = 0;
            var sw = new double[3];
            for (int b = 0; b < batch; b++)
                for (int t = 0; t < length; t++)
                {
                    double g = dy[(b * length + t) * c + ch];
                    sb += g;
                    for (int j = 0; j < 3; j++)
                        if (t - 2 + j >= 0) sw[j] += g * x[(b * length + t - 2 + j) * c + ch];
                }
            Assert.Equal(sb, db[ch], 1e-11);
            for (int j = 0; j < 3; j++) Assert.Equal(sw[j], dw[j * c + ch], 1e-11);
        }

        // accumulateDx adds to dx; dw and db accumulate always
        var dx2 = Enumerable.Repeat(1.0, x.Length).ToArray(); var dw2 = (double[])dw.Clone(); var db2 = (double[])db.Clone();
        CausalConv3.Backward<double>(x, w, dy, dx2, dw2, db2, batch, length, c, accumulateDx: true);
        for (int i = 0; i < dx.Length; i++) Assert.Equal(dx[i] + 1, dx2[i], 1e-13);
        for (int i = 0; i < dw.Length; i++) Assert.Equal(2 * dw[i], dw2[i], 1e-11);
        for (int i = 0; i < db.Length; i++) Assert.Equal(2 * db[i], db2[i], 1e-11);
    }
}

using PrecisionLS.Numerics;
using PrecisionLS.Tests.Fixtures;
using Xunit;

namespace PrecisionLS.Tests.Numerics;

/// <summary>The SIMD convolution kernels against the plain formula, for channel counts around the vector widths.</summary>
public class DepthwiseConvTests
{
    public static TheoryData<int, int, int, bool, bool> Shapes()
    {
        var d = new TheoryData<int, int, int, bool, bool>();
        foreach (int c in new[] { 1, 3, 8, 13, 32, 40, 64, 67 })
            foreach (bool causal in new[] { true, false })
                d.Add(c, 7, 7, causal, c % 2 == 1);
        d.Add(64, 21, 21, true, true);
        d.Add(16, 5, 6, false, true);
        d.Add(8, 13, 4, true, false);     // kernel shorter than the sequence
        d.Add(8, 2, 2, false, true);      // a sequence shorter than one register tile
        return d;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Forward_and_backward_match_the_formula(int channels, int length, int kernel, bool causal, bool resid)
    {
        foreach (int batch in new[] { 1, 3, 9 })   // whole and partial tiles of 4 entries
            CheckAgainstFormula(channels, length, kernel, causal, resid, batch);
    }

    private static void CheckAgainstFormula(int channels, int length, int kernel, bool causal, bool resid, int batch)
    {
        int pad = causal ? kernel - 1 : kernel / 2;
        var s = new DepthwiseConv.Shape(batch, length, channels, kernel, pad, resid);
        var rng = new Rng((ulong)(channels * 100 + length));
        double[] R(int n) { var a = new double[n]; rng.FillGaussian(a.AsSpan()); return a; }
        int n = batch * length * channels;
        var x = R(n); var w = R(kernel * channels); var bias = R(channels); var gate = R(n); var dg = R(n);

        var y = new double[n]; var g = new double[n]; var yRef = new double[n];
        DepthwiseConv.Forward<double>(x, w, bias, y, gate, g, s);
        DepthwiseConv.ForwardReference<double>(x, w, bias, yRef, s);
        Compare.Close(yRef, y, 1e-13, "conv forward");
        for (int i = 0; i < n; i++) Assert.Equal(yRef[i] * gate[i], g[i], 1e-13);

        // Reference backward of g = conv(x)·gate for upstream dg.
        var dz = new double[n]; for (int i = 0; i < n; i++) dz[i] = dg[i] * gate[i];
        var dxRef = new double[n]; var dwRef = new double[kernel * channels]; var dbRef = new double[channels];
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < length; t++)
                for (int c = 0; c < channels; c++)
                {
                    double d = dz[(b * length + t) * channels + c];
                    dbRef[c] += d;
                    if (resid) dxRef[(b * length + t) * channels + c] += d;
                    for (int j = 0; j < kernel; j++)
                    {
                        int src = t + j - pad;
                        if (src < 0 || src >= length) continue;
                        dxRef[(b * length + src) * channels + c] += w[j * channels + c] * d;
                        dwRef[j * channels + c] += x[(b * length + src) * channels + c] * d;
                    }
                }
        var dx = new double[n]; var dw = new double[kernel * channels]; var db = new double[channels]; var dGate = new double[n];
        DepthwiseConv.Backward<double>(x, w, dg, gate, y, dGate, dx, dw, db, s);
        Compare.Close(dxRef, dx, 1e-13, "conv dx");
        Compare.Close(dwRef, dw, 1e-13, "conv dw");
        Compare.Close(dbRef, db, 1e-13, "conv dbias");
        for (int i = 0; i < n; i++) Assert.Equal(dg[i] * y[i], dGate[i], 1e-13);
    }

    [Theory]
    [InlineData(64, true)]
    [InlineData(13, false)]
    public void Strided_rows_give_the_same_result_as_contiguous_rows(int channels, bool causal)
    {
        int batch = 2, length = 9, kernel = 9, pad = causal ? kernel - 1 : kernel / 2, wide = 2 * channels;
        var rng = new Rng(21);
        double[] R(int n) { var a = new double[n]; rng.FillGaussian(a.AsSpan()); return a; }
        int rows = batch * length, n = rows * channels;
        var xp = R(rows * wide);                       // [x | gate] per row, as BaseConv's fused projection lays it out
        var w = R(kernel * channels); var bias = R(channels); var dg = R(n);
        var x = new double[n]; var gate = new double[n];
        for (int r = 0; r < rows; r++)
        {
            xp.AsSpan(r * wide, channels).CopyTo(x.AsSpan(r * channels));
            xp.AsSpan(r * wide + channels, channels).CopyTo(gate.AsSpan(r * channels));
        }
        var dense = new DepthwiseConv.Shape(batch, length, channels, kernel, pad, true);
        var strided = dense with { InStride = wide };
        var y1 = new double[n]; var g1 = new double[n]; var y2 = new double[n]; var g2 = new double[n];
        DepthwiseConv.Forward<double>(x, w, bias, y1, gate, g1, dense);
        DepthwiseConv.Forward<double>(xp, w, bias, y2, xp.AsSpan(channels), g2, strided);
        Assert.Equal(y1, y2); Assert.Equal(g1, g2);

        var dx1 = new double[n]; var dgate1 = new double[n]; var dw1 = new double[kernel * channels]; var db1 = new double[channels];
        var dxp = new double[rows * wide]; var dw2 = new double[kernel * channels]; var db2 = new double[channels];
        DepthwiseConv.Backward<double>(x, w, dg, gate, y1, dgate1, dx1, dw1, db1, dense);
        DepthwiseConv.Backward<double>(xp, w, dg, xp.AsSpan(channels), y2, dxp.AsSpan(channels), dxp, dw2, db2, strided);
        for (int r = 0; r < rows; r++)
        {
            Assert.Equal(dx1.AsSpan(r * channels, channels).ToArray(), dxp.AsSpan(r * wide, channels).ToArray());
            Assert.Equal(dgate1.AsSpan(r * channels, channels).ToArray(), dxp.AsSpan(r * wide + channels, channels).ToArray());
        }
        Assert.Equal(dw1, dw2); Assert.Equal(db1, db2);
    }

    [Fact]
    public void Float32_forward_matches_the_float64_result_to_single_precision()
    {
        var s = new DepthwiseConv.Shape(2, 9, 37, 9, 8, true);
        var rng = new Rng(11);
        int n = 2 * 9 * 37;
        var x = new double[n]; var w = new double[9 * 37]; rng.FillGaussian(x.AsSpan()); rng.FillGaussian(w.AsSpan());
        var y = new double[n]; DepthwiseConv.ForwardReference<double>(x, w, default, y, s);
        var yf = new float[n];
        DepthwiseConv.Forward<float>(x.Select(v => (float)v).ToArray(), w.Select(v => (float)v).ToArray(), default, yf, default, default, s);
        for (int i = 0; i < n; i++) Assert.True(Math.Abs(yf[i] - y[i]) <= 1e-5 * (1 + Math.Abs(y[i])), $"index {i}: {yf[i]} vs {y[i]}");
    }
}

using PrecisionLS.Nn;
using PrecisionLS.Numerics;
using PrecisionLS.Tests.Fixtures;
using Xunit;
using static PrecisionLS.Tests.Nn.LongConvolutionTests;

namespace PrecisionLS.Tests.Nn;

/// <summary>
/// ImplicitLongConvolution (conv_type implicit): the PyTorch fixtures (output, aux filter, every gradient), the
/// positional features, central differences, the MLP filter against the explicit long conv, gate and float32.
/// </summary>
public class ImplicitLongConvolutionTests
{
    private static ModuleHarness Harness(int d, int lMax, int batch, int length, bool causal, bool resid, out ImplicitLongConvolution<double> conv)
    {
        var s = new ParameterStore<double>();
        var c = new ImplicitLongConvolution<double>(s, "conv", d, lMax, causal, resid);
        s.Allocate();
        c.InitializePositionalFeatures();
        conv = c;
        double[] xKeep = [];
        return new ModuleHarness(s,
            x => { xKeep = x; var y = new double[x.Length]; c.Forward(x, y, default, default, batch, length); return y; },
            dy => { var dx = new double[dy.Length]; c.Backward(xKeep, dy, default, default, default, dx, batch, length); return dx; });
    }

    [Theory]
    [InlineData("conv_implicit_causal")]
    [InlineData("conv_implicit_noncausal")]
    public void Matches_fixture_and_finite_differences(string name)
    {
        var fx = FixtureCase.Load(name);
        int d = fx.ConfigInt("d_model"), lMax = fx.ConfigInt("l_max"), l = fx.ConfigInt("seq_len");
        Assert.Equal(3, fx.ConfigInt("d_emb")); Assert.Equal(16, fx.ConfigInt("d_hidden"));
        int batch = fx.Inputs["x"].Shape[0];
        var h = Harness(d, lMax, batch, l, fx.ConfigBool("causal"), fx.ConfigBool("resid"), out var conv);

        // The frozen features, built from l_max, equal the authors' buffer (computed in float64 by PyTorch).
        var z = fx.Buffers["pos_emb.z"];
        Assert.Equal(z.Shape, conv.PositionalFeatures.Shape);
        // t and the sines agree bit for bit; a cosine may differ by one ulp from PyTorch's complex exp.
        Compare.Close(z.Data, h.Store.Value(conv.PositionalFeatures), 2.3e-16, $"{name}: pos_emb.z");

        h.MatchFixture(Prefixed(fx, "conv"), "x");
        var filter = new double[d * l];
        conv.CopyFilter(filter);
        Compare.Close(fx.Outputs["filter"], filter, 1e-12, $"{name}: aux filter");
        Assert.All(h.Store.Grad(conv.PositionalFeatures).ToArray(), v => Assert.Equal(0.0, v));   // frozen
        h.CheckGradients(fx.Inputs["x"].Data);
    }

    [Fact]
    public void Parameters_are_registered_in_the_authors_order_with_their_names_and_shapes()
    {
        var s = new ParameterStore<double>();
        _ = new ImplicitLongConvolution<double>(s, "h.0.seq_mixer.base_conv.conv", 6, 11, causal: true, resid: true);
        Assert.Equal(
            ["h.0.seq_mixer.base_conv.conv.pos_emb.z", "h.0.seq_mixer.base_conv.conv.mlp.0.weight", "h.0.seq_mixer.base_conv.conv.mlp.0.bias",
             "h.0.seq_mixer.base_conv.conv.mlp.2.weight", "h.0.seq_mixer.base_conv.conv.mlp.2.bias"],
            s.Parameters.Select(p => p.Name));
        Assert.Equal([[1, 11, 3], [16, 3], [16], [6, 16], [6]], s.Parameters.Select(p => p.Shape));
        Assert.Equal([false, true, true, true, true], s.Parameters.Select(p => p.Trainable));
        Assert.Equal(16 * 3 + 16 + 6 * 16 + 6, s.TrainableCount);
    }

    [Theory]
    [InlineData(1, 3)]
    [InlineData(2, 3)]
    [InlineData(7, 3)]
    [InlineData(9, 5)]
    [InlineData(101, 7)]
    public void Positional_features_follow_the_formula_with_l_max(int lMax, int dEmb)
    {
        var z = new double[lMax * dEmb];
        ImplicitLongConvolution<double>.FillPositionalFeatures(z, lMax, dEmb);
        int bands = (dEmb - 1) / 2;
        for (int i = 0; i < lMax; i++)
        {
            double t = lMax == 1 ? 0.0 : (double)i / (lMax - 1);
            Assert.True(Math.Abs(z[i * dEmb] - t) <= 4e-16, $"t[{i}] = {z[i * dEmb]:R}, expected {t:R}");
            double w = 2 * Math.PI * i / lMax;
            for (int k = 0; k < bands; k++)
            {
                double f = bands == 1 ? 1e-4 : 1e-4 + k * (bands - 1 - 1e-4) / (bands - 1);
                Assert.Equal(Math.Cos(f * w), z[i * dEmb + 1 + k], 1e-14);
                Assert.Equal(-Math.Sin(f * w), z[i * dEmb + 1 + bands + k], 1e-14);
            }
        }
        Assert.Equal(0.0, z[0]);
        Assert.Equal(1.0, z[(lMax - 1) * dEmb], lMax == 1 ? 1.0 : 0.0);   // linspace ends exactly at 1
    }

    [Theory]
    [InlineData(true, 7, 5, 9, 2)]     // l_max > L: features of l_max, first L rows
    [InlineData(false, 7, 5, 9, 2)]
    [InlineData(true, 13, 11, 6, 3)]   // L > l_max: only l_max filter taps
    [InlineData(false, 3, 4, 4, 1)]
    public void Equals_the_explicit_long_conv_with_the_mlp_filter(bool causal, int d, int length, int lMax, int batch)
    {
        var rng = new Rng((ulong)(d + 100 * length));
        var si = new ParameterStore<double>();
        var imp = new ImplicitLongConvolution<double>(si, "conv", d, lMax, causal, resid: true);
        si.Allocate();
        imp.InitializePositionalFeatures();
        foreach (var p in si.Parameters.Where(p => p.Trainable)) rng.FillGaussian(si.Value(p));
        int taps = Math.Min(length, lMax), n = batch * length * d;
        var x = Gaussian(rng, n); var dy = Gaussian(rng, n);
        var y = new double[n];
        imp.Forward(x, y, default, default, batch, length);

        // The MLP by hand: filter[c, j] = b2[c] + Σ_h W2[c,h] relu(b0[h] + Σ_e W0[h,e] z[j,e]).
        var z = si.Value(imp.PositionalFeatures).ToArray();
        var w0 = si.Value(imp.Mlp0.Weight).ToArray(); var b0 = si.Value(imp.Mlp0.Bias!).ToArray();
        var w2 = si.Value(imp.Mlp2.Weight).ToArray(); var b2 = si.Value(imp.Mlp2.Bias!).ToArray();
        var filter = new double[d * lMax];
        for (int j = 0; j < taps; j++)
            for (int c = 0; c < d; c++)
            {
                double acc = b2[c];
                for (int hh = 0; hh < 16; hh++)
                {
                    double pre = b0[hh];
                    for (int e = 0; e < 3; e++) pre += w0[hh * 3 + e] * z[j * 3 + e];
                    acc += w2[c * 16 + hh] * Math.Max(pre, 0.0);
                }
                filter[c * lMax + j] = acc;
            }
        var got = new double[d * taps];
        imp.CopyFilter(got);
        for (int c = 0; c < d; c++)
            for (int j = 0; j < taps; j++) Assert.Equal(filter[c * lMax + j], got[c * taps + j], 1e-13);

        // The explicit long conv with that filter (taps past L zero) gives the same output and input gradient.
        var sl = new ParameterStore<double>();
        var lng = new LongConvolution<double>(sl, "conv", d, lMax, causal, resid: true);
        sl.Allocate();
        filter.CopyTo(sl.Value(lng.Filter));
        var yl = new double[n];
        lng.Forward(x, yl, default, default, batch, length);
        Compare.Close(yl, y, 1e-13, "implicit vs explicit forward");
        var dxi = new double[n]; var dxl = new double[n];
        imp.Backward(x, dy, default, default, default, dxi, batch, length);
        lng.Backward(x, dy, default, default, default, dxl, batch, length);
        Compare.Close(dxl, dxi, 1e-13, "implicit vs explicit dx");

        // Chain rule by hand for the last layer's bias: db2[c] = Σ_j dfilter[c, j].
        var dFilter = sl.Grad(lng.Filter);
        for (int c = 0; c < d; c++)
        {
            double sum = 0; for (int j = 0; j < taps; j++) sum += dFilter[c * lMax + j];
            Assert.Equal(sum, si.Grad(imp.Mlp2.Bias!)[c], 1e-12);
        }
        Assert.Equal(imp.ForwardMultiplyAdds(batch, length), lng.ForwardMultiplyAdds(batch, length) + taps * (3 * 16 + 16 * d));
    }

    [Theory]
    [InlineData(true, 2, 5, 7, 9)]
    [InlineData(false, 3, 9, 6, 4)]
    public void Finite_differences_with_random_weights(bool causal, int batch, int d, int length, int lMax)
    {
        var h = Harness(d, lMax, batch, length, causal, resid: causal, out var conv);
        var rng = new Rng(8);
        foreach (var p in h.Store.Parameters.Where(p => p.Trainable)) rng.FillGaussian(h.Store.Value(p));
        h.CheckGradients(Gaussian(rng, batch * length * d));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Gated_strided_path_equals_the_ungated_conv_times_the_gate(bool causal)
    {
        int batch = 3, length = 8, d = 9, lMax = 8, rows = batch * length, n = rows * d, wide = 2 * d;
        var rng = new Rng(31);
        var s = new ParameterStore<double>();
        var conv = new ImplicitLongConvolution<double>(s, "conv", d, lMax, causal, resid: true);
        s.Allocate();
        conv.InitializePositionalFeatures();
        foreach (var p in s.Parameters.Where(p => p.Trainable)) rng.FillGaussian(s.Value(p));
        var zp = Gaussian(rng, rows * wide); var dg = Gaussian(rng, n);
        var z = new double[n]; var p2 = new double[n];
        for (int r = 0; r < rows; r++) { zp.AsSpan(r * wide, d).CopyTo(z.AsSpan(r * d)); zp.AsSpan(r * wide + d, d).CopyTo(p2.AsSpan(r * d)); }

        var y = new double[n]; var g = new double[n];
        conv.Forward(zp, y, zp.AsSpan(d), g, batch, length, inStride: wide);
        var dzp = new double[rows * wide];
        conv.Backward(zp, dg, zp.AsSpan(d), y, dzp.AsSpan(d), dzp, batch, length, inStride: wide, accumulateDx: false);
        var gradsGated = s.Grads.ToArray();

        s.ZeroGrads();
        var yPlain = new double[n];
        conv.Forward(z, yPlain, default, default, batch, length);
        var dyPlain = new double[n]; for (int i = 0; i < n; i++) dyPlain[i] = dg[i] * p2[i];
        var dz = new double[n];
        conv.Backward(z, dyPlain, default, default, default, dz, batch, length);
        Assert.Equal(yPlain, y);
        for (int i = 0; i < n; i++) Assert.Equal(yPlain[i] * p2[i], g[i]);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < d; c++)
            {
                Assert.Equal(dz[r * d + c], dzp[r * wide + c]);
                Assert.Equal(dg[r * d + c] * yPlain[r * d + c], dzp[r * wide + d + c]);
            }
        Assert.Equal(s.Grads, gradsGated);
    }

    [Fact]
    public void Float32_matches_float64_to_single_precision()
    {
        int batch = 2, length = 12, d = 19, lMax = 12, n = batch * length * d;
        var rng = new Rng(41);
        var s64 = new ParameterStore<double>(); var c64 = new ImplicitLongConvolution<double>(s64, "conv", d, lMax, false, true); s64.Allocate();
        var s32 = new ParameterStore<float>(); var c32 = new ImplicitLongConvolution<float>(s32, "conv", d, lMax, false, true); s32.Allocate();
        c64.InitializePositionalFeatures(); c32.InitializePositionalFeatures();
        foreach (var p in s64.Parameters.Where(p => p.Trainable))
        {
            var v = s64.Value(p);
            for (int i = 0; i < v.Length; i++) v[i] = (float)(0.5 * rng.NextGaussian());   // values float32 can hold
        }
        for (int i = 0; i < s64.Size; i++) if (s64.Parameters.Single(p => i >= p.Offset && i < p.Offset + p.Length).Trainable) s32.Values[i] = (float)s64.Values[i];
        var x = Gaussian(rng, n).Select(v => (double)(float)v).ToArray(); var dy = Gaussian(rng, n).Select(v => (double)(float)v).ToArray();
        var xf = x.Select(v => (float)v).ToArray(); var dyf = dy.Select(v => (float)v).ToArray();
        var y64 = new double[n]; var y32 = new float[n]; var dx64 = new double[n]; var dx32 = new float[n];
        c64.Forward(x, y64, default, default, batch, length); c64.Backward(x, dy, default, default, default, dx64, batch, length);
        c32.Forward(xf, y32, default, default, batch, length); c32.Backward(xf, dyf, default, default, default, dx32, batch, length);
        double Scale(ReadOnlySpan<double> a) { double m = 0; foreach (var v in a) m = Math.Max(m, Math.Abs(v)); return m; }
        double sy = Scale(y64), sdx = Scale(dx64), sg = Scale(s64.Grads);
        for (int i = 0; i < n; i++) Assert.True(Math.Abs(y32[i] - y64[i]) <= 1e-5 * sy, $"y[{i}]: {y32[i]} vs {y64[i]} (scale {sy})");
        for (int i = 0; i < n; i++) Assert.True(Math.Abs(dx32[i] - dx64[i]) <= 1e-5 * sdx, $"dx[{i}]: {dx32[i]} vs {dx64[i]} (scale {sdx})");
        for (int i = 0; i < s64.Size; i++) Assert.True(Math.Abs(s32.Grads[i] - s64.Grads[i]) <= 1e-5 * sg, $"grad[{i}]: {s32.Grads[i]} vs {s64.Grads[i]} (scale {sg})");
    }
}

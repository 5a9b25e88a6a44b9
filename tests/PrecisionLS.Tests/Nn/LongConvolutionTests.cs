using PrecisionLS.Nn;
using PrecisionLS.Numerics;
using PrecisionLS.Tests.Fixtures;
using Xunit;

namespace PrecisionLS.Tests.Nn;

/// <summary>
/// LongConvolution (conv_type long): the PyTorch fixtures, central differences, the causal and circular formulas
/// written as plain loops, the fused gate, strided rows, float32, and the kernel's unrolling.
/// </summary>
public class LongConvolutionTests
{
    internal static double[] Gaussian(Rng rng, int n) { var a = new double[n]; rng.FillGaussian(a.AsSpan()); return a; }

    /// <summary>The fixture with every parameter and parameter gradient renamed "{prefix}.{name}".</summary>
    internal static FixtureCase Prefixed(FixtureCase fx, string prefix)
    {
        var ps = fx.Params.ToDictionary(kv => prefix + "." + kv.Key, kv => kv.Value);
        var gs = fx.Grads.ToDictionary(kv => kv.Key.StartsWith("param:", StringComparison.Ordinal) ? "param:" + prefix + "." + kv.Key[6..] : kv.Key, kv => kv.Value);
        return new FixtureCase
        {
            Name = fx.Name, Config = fx.Config, Inputs = fx.Inputs, Params = ps, Buffers = fx.Buffers,
            Outputs = fx.Outputs, Upstream = fx.Upstream, Grads = gs,
        };
    }

    private static ModuleHarness Harness(int d, int lMax, int batch, int length, bool causal, bool resid, out LongConvolution<double> conv)
    {
        var s = new ParameterStore<double>();
        var c = new LongConvolution<double>(s, "conv", d, lMax, causal, resid);
        s.Allocate();
        conv = c;
        double[] xKeep = [];
        return new ModuleHarness(s,
            x => { xKeep = x; var y = new double[x.Length]; c.Forward(x, y, default, default, batch, length); return y; },
            dy => { var dx = new double[dy.Length]; c.Backward(xKeep, dy, default, default, default, dx, batch, length); return dx; });
    }

    [Theory]
    [InlineData("conv_long_causal")]
    [InlineData("conv_long_noncausal")]
    public void Matches_fixture_and_finite_differences(string name)
    {
        var fx = FixtureCase.Load(name);
        int d = fx.ConfigInt("d_model"), lMax = fx.ConfigInt("l_max"), l = fx.ConfigInt("seq_len");
        int batch = fx.Inputs["x"].Shape[0];
        var h = Harness(d, lMax, batch, l, fx.ConfigBool("causal"), fx.ConfigBool("resid"), out var conv);
        Assert.Equal("conv.filter", conv.Filter.Name);
        Assert.Equal([d, lMax], conv.Filter.Shape);
        h.MatchFixture(Prefixed(fx, "conv"), "x");
        // Taps from L on never touch the data: exactly zero gradient (the fixture says so too, to 1e-12).
        for (int c = 0; c < d; c++)
            for (int j = l; j < lMax; j++) Assert.Equal(0.0, h.Store.Grad(conv.Filter)[c * lMax + j]);
        h.CheckGradients(fx.Inputs["x"].Data);
    }

    public static TheoryData<int, int, int, int, bool, bool> Shapes()
    {
        var data = new TheoryData<int, int, int, int, bool, bool>();
        foreach (bool causal in new[] { true, false })
        {
            foreach (int c in new[] { 1, 3, 8, 13, 40 })             // scalar, partial and whole SIMD vectors
                data.Add(c, 7, 7, c % 3 == 0 ? 1 : 5, causal, c % 2 == 1);
            data.Add(4, 1, 1, 2, causal, true);                     // a single token
            data.Add(5, 2, 6, 3, causal, false);                    // l_max > L: only filter[:, :L] is read
            data.Add(6, 13, 5, 9, causal, true);                    // L > l_max: lags past l_max read zero
            data.Add(16, 21, 21, 4, causal, false);                 // several register tiles of tokens
        }
        return data;
    }

    // The formulas of fixtures/README.md as plain loops, over the PyTorch-layout filter [d, l_max].
    private static double[] Naive(double[] x, double[] filter, int batch, int length, int d, int lMax, bool causal, bool resid)
    {
        var y = new double[x.Length];
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < length; t++)
                for (int c = 0; c < d; c++)
                {
                    double acc = resid ? x[(b * length + t) * d + c] : 0.0;
                    for (int j = 0; j < length; j++)
                    {
                        double hj = j < lMax ? filter[c * lMax + j] : 0.0;
                        if (causal) { if (j <= t) acc += hj * x[(b * length + t - j) * d + c]; }
                        else acc += hj * x[(b * length + ((t - j) % length + length) % length) * d + c];
                    }
                    y[(b * length + t) * d + c] = acc;
                }
        return y;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Forward_and_backward_match_the_plain_formula(int d, int length, int lMax, int batch, bool causal, bool resid)
    {
        var rng = new Rng((ulong)(d * 1000 + length * 10 + lMax));
        var s = new ParameterStore<double>();
        var conv = new LongConvolution<double>(s, "conv", d, lMax, causal, resid);
        s.Allocate();
        var filter = Gaussian(rng, d * lMax);
        filter.CopyTo(s.Value(conv.Filter));
        int n = batch * length * d;
        var x = Gaussian(rng, n); var dy = Gaussian(rng, n);
        var y = new double[n];
        conv.Forward(x, y, default, default, batch, length);
        Compare.Close(Naive(x, filter, batch, length, d, lMax, causal, resid), y, 1e-13, "long conv forward");
        Assert.Equal(conv.ForwardMultiplyAdds(batch, length), (long)batch * d * (causal ? length * (length + 1) / 2 : length * length));

        // Backward against the transposed formulas: dx[s] = Σ_t h[(t-s) mod L]·dy[t] (+ dy[s]); dh[j] = Σ_t dy[t]·x[t-j].
        var dxRef = new double[n]; var dhRef = new double[d * lMax];
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < length; t++)
                for (int c = 0; c < d; c++)
                {
                    double g = dy[(b * length + t) * d + c];
                    if (resid) dxRef[(b * length + t) * d + c] += g;
                    for (int j = 0; j < Math.Min(length, lMax); j++)
                    {
                        int src = t - j;
                        if (src < 0) { if (causal) continue; src += length; }
                        dxRef[(b * length + src) * d + c] += filter[c * lMax + j] * g;
                        dhRef[c * lMax + j] += x[(b * length + src) * d + c] * g;
                    }
                }
        var dx = Gaussian(rng, n); var dx0 = dx.ToArray();
        var dFilter0 = Gaussian(rng, d * lMax); dFilter0.CopyTo(s.Grad(conv.Filter));
        conv.Backward(x, dy, default, default, default, dx, batch, length);
        for (int i = 0; i < n; i++) dxRef[i] += dx0[i];                    // backward accumulates into dx ...
        for (int i = 0; i < d * lMax; i++) dhRef[i] += dFilter0[i];        // ... and into the filter gradient
        Compare.Close(dxRef, dx, 1e-13, "long conv dx");
        Compare.Close(dhRef, s.Grad(conv.Filter), 1e-13, "long conv dfilter");

        var dx2 = Gaussian(rng, n);
        conv.Backward(x, dy, default, default, default, dx2, batch, length, accumulateDx: false);
        for (int i = 0; i < n; i++) dxRef[i] -= dx0[i];
        Compare.Close(dxRef, dx2, 1e-13, "long conv dx (overwrite)");
    }

    [Theory]
    [InlineData(true, 2, 7, 9, 10)]
    [InlineData(false, 3, 13, 5, 6)]
    [InlineData(false, 1, 40, 8, 8)]
    public void Finite_differences_with_random_filters(bool causal, int batch, int d, int length, int lMax)
    {
        var h = Harness(d, lMax, batch, length, causal, resid: !causal, out _);
        var rng = new Rng(5);
        rng.FillGaussian(h.Store.Values.AsSpan());
        h.CheckGradients(Gaussian(rng, batch * length * d));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Gated_strided_path_equals_the_ungated_conv_times_the_gate(bool causal)
    {
        // As BaseConv calls it: z and p read in place from a fused [rows, 2d] buffer.
        int batch = 5, length = 9, d = 11, lMax = 9, rows = batch * length, n = rows * d, wide = 2 * d;
        var rng = new Rng(17);
        var s = new ParameterStore<double>();
        var conv = new LongConvolution<double>(s, "conv", d, lMax, causal, resid: true);
        s.Allocate();
        rng.FillGaussian(s.Value(conv.Filter));
        var zp = Gaussian(rng, rows * wide); var dg = Gaussian(rng, n);
        var z = new double[n]; var p = new double[n];
        for (int r = 0; r < rows; r++) { zp.AsSpan(r * wide, d).CopyTo(z.AsSpan(r * d)); zp.AsSpan(r * wide + d, d).CopyTo(p.AsSpan(r * d)); }

        var y = new double[n]; var g = new double[n];
        conv.Forward(zp, y, zp.AsSpan(d), g, batch, length, inStride: wide);
        var dzp = new double[rows * wide];
        conv.Backward(zp, dg, zp.AsSpan(d), y, dzp.AsSpan(d), dzp, batch, length, inStride: wide, accumulateDx: false);
        var dFilterGated = s.Grad(conv.Filter).ToArray();

        s.ZeroGrads();
        var yPlain = new double[n];
        conv.Forward(z, yPlain, default, default, batch, length);
        var dyPlain = new double[n]; for (int i = 0; i < n; i++) dyPlain[i] = dg[i] * p[i];
        var dz = new double[n];
        conv.Backward(z, dyPlain, default, default, default, dz, batch, length);
        Assert.Equal(yPlain, y);
        for (int i = 0; i < n; i++) Assert.Equal(yPlain[i] * p[i], g[i]);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < d; c++)
            {
                Assert.Equal(dz[r * d + c], dzp[r * wide + c]);
                Assert.Equal(dg[r * d + c] * yPlain[r * d + c], dzp[r * wide + d + c]);   // dp = dg·y
            }
        Assert.Equal(s.Grad(conv.Filter).ToArray(), dFilterGated);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Float32_matches_float64_to_single_precision(bool causal)
    {
        int batch = 3, length = 17, d = 37, lMax = 17, n = batch * length * d;
        var rng = new Rng(23);
        var filter = Gaussian(rng, d * lMax); var x = Gaussian(rng, n); var dy = Gaussian(rng, n);
        var s64 = new ParameterStore<double>(); var c64 = new LongConvolution<double>(s64, "conv", d, lMax, causal, true); s64.Allocate();
        var s32 = new ParameterStore<float>(); var c32 = new LongConvolution<float>(s32, "conv", d, lMax, causal, true); s32.Allocate();
        filter.CopyTo(s64.Value(c64.Filter));
        for (int i = 0; i < filter.Length; i++) s32.Value(c32.Filter)[i] = (float)filter[i];
        var xf = x.Select(v => (float)v).ToArray(); var dyf = dy.Select(v => (float)v).ToArray();
        var y64 = new double[n]; var y32 = new float[n]; var dx64 = new double[n]; var dx32 = new float[n];
        c64.Forward(x, y64, default, default, batch, length); c64.Backward(x, dy, default, default, default, dx64, batch, length);
        c32.Forward(xf, y32, default, default, batch, length); c32.Backward(xf, dyf, default, default, default, dx32, batch, length);
        // Sums of up to 17 (output) or 51 (filter gradient) products of N(0,1) values: scale the tolerance by sqrt(terms).
        for (int i = 0; i < n; i++) Assert.True(Math.Abs(y32[i] - y64[i]) <= 1e-5 * (4 + Math.Abs(y64[i])), $"y[{i}]: {y32[i]} vs {y64[i]}");
        for (int i = 0; i < n; i++) Assert.True(Math.Abs(dx32[i] - dx64[i]) <= 1e-5 * (4 + Math.Abs(dx64[i])), $"dx[{i}]: {dx32[i]} vs {dx64[i]}");
        var g64 = s64.Grad(c64.Filter); var g32 = s32.Grad(c32.Filter);
        for (int i = 0; i < g64.Length; i++) Assert.True(Math.Abs(g32[i] - g64[i]) <= 1e-5 * (8 + Math.Abs(g64[i])), $"dfilter[{i}]: {g32[i]} vs {g64[i]}");
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(false, false)]
    public void Delta_init_passes_the_input_through(bool causal, bool resid)
    {
        int batch = 2, length = 6, d = 5, lMax = 8, n = batch * length * d;
        var s = new ParameterStore<double>();
        var conv = new LongConvolution<double>(s, "conv", d, lMax, causal, resid);
        s.Allocate();
        conv.InitializeDelta();
        for (int c = 0; c < d; c++)
            for (int j = 0; j < lMax; j++) Assert.Equal(j == 0 ? 1.0 : 0.0, s.Value(conv.Filter)[c * lMax + j]);
        var x = Gaussian(new Rng(2), n);
        var y = new double[n];
        conv.Forward(x, y, default, default, batch, length);
        for (int i = 0; i < n; i++) Assert.Equal(resid ? 2 * x[i] : x[i], y[i]);
    }

    [Fact]
    public void A_frozen_filter_gets_no_gradient_but_the_input_does()
    {
        int batch = 2, length = 5, d = 3, lMax = 5, n = batch * length * d;
        var s = new ParameterStore<double>();
        var conv = new LongConvolution<double>(s, "conv", d, lMax, causal: true, resid: false, trainable: false);
        s.Allocate();
        Assert.False(conv.Filter.Trainable);
        Assert.Equal(0, s.TrainableCount);
        conv.InitializeDelta();
        var rng = new Rng(4);
        var x = Gaussian(rng, n); var dy = Gaussian(rng, n);
        var y = new double[n]; var dx = new double[n];
        conv.Forward(x, y, default, default, batch, length);
        conv.Backward(x, dy, default, default, default, dx, batch, length);
        Assert.All(s.Grads, v => Assert.Equal(0.0, v));
        Assert.Equal(dy, dx);    // delta filter, no resid: y = x
    }

    [Fact]
    public void Backward_with_another_length_than_forward_is_refused()
    {
        var s = new ParameterStore<double>();
        var conv = new LongConvolution<double>(s, "conv", 2, 6, causal: true, resid: true);
        s.Allocate();
        var x = new double[2 * 6 * 2];
        conv.Forward(x, new double[x.Length], default, default, 2, 6);
        var ex = Assert.Throws<InvalidOperationException>(() => conv.Backward(x[..20], x[..20], default, default, default, new double[20], 2, 5));
        Assert.Contains("length", ex.Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    public void Circular_unrolling_puts_every_lag_where_the_circulant_matrix_has_it(int length)
    {
        // Row t of the circulant C[t, s] = h[(t-s) mod L] against the unrolled kernel tap that pairs s with t.
        int channels = 1, taps = length;
        var hT = Enumerable.Range(0, taps).Select(j => 10.0 + j).ToArray();
        var shape = LongConv.ShapeFor(1, length, channels, causal: false, resid: false);
        var wT = new double[shape.Kernel];
        LongConv.Unroll<double>(hT, taps, wT, channels, length, causal: false);
        for (int t = 0; t < length; t++)
            for (int src = 0; src < length; src++)
                Assert.Equal(hT[((t - src) % length + length) % length], wT[src - t + shape.Pad]);
        var dhT = new double[taps];
        LongConv.Fold<double>(Enumerable.Repeat(1.0, shape.Kernel).ToArray(), dhT, taps, channels, length, causal: false);
        for (int j = 0; j < taps; j++) Assert.Equal(j == 0 ? 1.0 : 2.0, dhT[j]);   // lag 0 once, others on both sides
    }
}

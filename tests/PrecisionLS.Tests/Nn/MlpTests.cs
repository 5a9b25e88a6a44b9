using PrecisionLS.Nn;
using PrecisionLS.Numerics;
using PrecisionLS.Tests.Fixtures;
using Xunit;

namespace PrecisionLS.Tests.Nn;

/// <summary>The MLP (relu, exact gelu, glu) against PyTorch float64 fixtures and central differences; GELU values.</summary>
public class MlpTests
{
    private static ModuleHarness Harness(int d, int upfactor, string activ, int rows, out Mlp<double> mlp)
    {
        var s = new ParameterStore<double>();
        var m = new Mlp<double>(s, "mlp", d, upfactor, activ);
        s.Allocate();
        mlp = m;
        double[] xKeep = [];
        return new ModuleHarness(s,
            x => { xKeep = x; var y = new double[rows * d]; m.Forward(x, y, rows); return y; },
            dy => { var dx = new double[rows * d]; m.Backward(xKeep, dy, dx, rows); return dx; });
    }

    [Theory]
    [InlineData("mlp_relu")]
    [InlineData("mlp_gelu")]
    [InlineData("mlp_glu")]
    public void Matches_fixture_and_finite_differences(string name)
    {
        var fx = FixtureCase.Load(name);
        int d = fx.ConfigInt("n_embd"), up = fx.ConfigInt("mlp_upfactor");
        int rows = fx.Inputs["x"].Size / d;
        var h = Harness(d, up, fx.ConfigString("mlp_activ"), rows, out var mlp);
        // Every fixture parameter exists under the same name and shape, and nothing else.
        Assert.Equal(fx.Params.Keys.Select(k => "mlp." + k).Order(), h.Store.Parameters.Select(p => p.Name).Order());
        h.MatchFixture(LayerNormTests.Prefixed(fx, "mlp"), "x");
        h.CheckGradients(fx.Inputs["x"].Data);
        Assert.Equal(up * d, mlp.Hidden);
    }

    [Theory]
    [InlineData("relu")]
    [InlineData("gelu")]
    [InlineData("glu")]
    public void Gradients_match_finite_differences_on_random_data(string activ)
    {
        const int d = 5, up = 3, rows = 7;
        var h = Harness(d, up, activ, rows, out _);
        var rng = new Rng(31);
        rng.FillGaussian(h.Store.Values.AsSpan());
        for (int i = 0; i < h.Store.Size; i++) h.Store.Values[i] *= 0.7;
        var x = new double[rows * d];
        rng.FillGaussian(x.AsSpan());
        h.CheckGradients(x, seed: 13);
    }

    [Fact]
    public void Registers_parameters_in_the_authors_state_dict_order()
    {
        var s = new ParameterStore<double>();
        _ = new Mlp<double>(s, "_backbone.transformer.h.0.mlp", 4, 2, "glu");
        Assert.Equal(
            [("_backbone.transformer.h.0.mlp.c_fc.weight", "8,4"), ("_backbone.transformer.h.0.mlp.c_fc.bias", "8"),
             ("_backbone.transformer.h.0.mlp.activ.proj1.weight", "8,8"), ("_backbone.transformer.h.0.mlp.activ.proj2.weight", "8,8"),
             ("_backbone.transformer.h.0.mlp.c_proj.weight", "4,8"), ("_backbone.transformer.h.0.mlp.c_proj.bias", "4")],
            s.Parameters.Select(p => (p.Name, string.Join(",", p.Shape))));
        var s2 = new ParameterStore<double>();
        _ = new Mlp<double>(s2, "mlp", 4, 2, "relu", bias: false);
        Assert.Equal(["mlp.c_fc.weight", "mlp.c_proj.weight"], s2.Parameters.Select(p => p.Name));
    }

    [Theory]
    [InlineData("relu", 2L * 10 * 6 * 24)]
    [InlineData("gelu", 2L * 10 * 6 * 24)]
    [InlineData("glu", 2L * 10 * 6 * 24 + 2L * 10 * 24 * 24 + 10 * 24)]
    public void Counts_forward_multiply_adds(string activ, long expected)
    {
        var s = new ParameterStore<double>();
        var mlp = new Mlp<double>(s, "mlp", 6, 4, activ);
        Assert.Equal(expected, mlp.ForwardMultiplyAdds(10));
    }

    [Theory]
    [InlineData("relu")]
    [InlineData("gelu")]
    [InlineData("glu")]
    public void Float32_forward_agrees_with_float64(string activ)
    {
        const int d = 8, up = 4, rows = 12;
        var s64 = new ParameterStore<double>(); var m64 = new Mlp<double>(s64, "mlp", d, up, activ); s64.Allocate();
        var s32 = new ParameterStore<float>(); var m32 = new Mlp<float>(s32, "mlp", d, up, activ); s32.Allocate();
        var rng = new Rng(41);
        rng.FillGaussian(s64.Values.AsSpan());
        for (int i = 0; i < s64.Size; i++) { s64.Values[i] *= 0.3; s32.Values[i] = (float)s64.Values[i]; }
        var x64 = new double[rows * d]; rng.FillGaussian(x64.AsSpan());
        var dy64 = new double[rows * d]; rng.FillGaussian(dy64.AsSpan());
        var x32 = x64.Select(v => (float)v).ToArray(); var dy32 = dy64.Select(v => (float)v).ToArray();
        var y64 = new double[rows * d]; var y32 = new float[rows * d];
        m64.Forward(x64, y64, rows); m32.Forward(x32, y32, rows);
        LayerNormTests.AssertSingleClose(y64, y32, 2e-6, $"{activ} y");
        var dx64 = new double[rows * d]; var dx32 = new float[rows * d];
        m64.Backward(x64, dy64, dx64, rows); m32.Backward(x32, dy32, dx32, rows);
        LayerNormTests.AssertSingleClose(dx64, dx32, 1e-5, $"{activ} dx");
        LayerNormTests.AssertSingleClose(s64.Grads, s32.Grads, 1e-5, $"{activ} parameter gradients");
    }

    [Theory]
    [InlineData("relu")]
    [InlineData("gelu")]
    [InlineData("glu")]
    public void Backward_accumulates_or_overwrites_dx_and_buffers_follow_the_row_count(string activ)
    {
        const int d = 4, up = 2;
        var s = new ParameterStore<double>();
        var mlp = new Mlp<double>(s, "mlp", d, up, activ);
        s.Allocate();
        var rng = new Rng(17);
        rng.FillGaussian(s.Values.AsSpan());
        // A larger batch first, then a smaller one: the second must not see the first's values.
        foreach (int rows in new[] { 9, 3 })
        {
            var x = new double[rows * d]; rng.FillGaussian(x.AsSpan());
            var dy = new double[rows * d]; rng.FillGaussian(dy.AsSpan());
            var y = new double[rows * d];
            mlp.Forward(x, y, rows);
            s.ZeroGrads();
            var dx1 = new double[rows * d];
            mlp.Backward(x, dy, dx1, rows, accumulateDx: false);
            var g1 = s.Grads.ToArray();
            var dx2 = Enumerable.Repeat(0.5, rows * d).ToArray();
            mlp.Backward(x, dy, dx2, rows);
            for (int i = 0; i < dx1.Length; i++) Assert.Equal(0.5 + dx1[i], dx2[i], tolerance: 1e-13);
            for (int i = 0; i < g1.Length; i++) Assert.Equal(2 * g1[i], s.Grads[i], tolerance: 1e-13);
            // Row r of y depends on row r of x only.
            var y1 = new double[d];
            var s1 = new ParameterStore<double>(); var one = new Mlp<double>(s1, "mlp", d, up, activ); s1.Allocate();
            s.Values.CopyTo(s1.Values, 0);
            one.Forward(x.AsSpan((rows - 1) * d, d), y1, 1);
            for (int j = 0; j < d; j++) Assert.Equal(y[(rows - 1) * d + j], y1[j], tolerance: 1e-14);
            // Backward with no dx still fills the parameter gradients.
            s.ZeroGrads();
            mlp.Forward(x, y, rows);
            mlp.Backward(x, dy, default, rows);
            for (int i = 0; i < g1.Length; i++) Assert.Equal(g1[i], s.Grads[i], tolerance: 1e-14);
        }
    }

    [Theory]
    [InlineData("relu")]
    [InlineData("gelu")]
    [InlineData("glu")]
    public void Steady_state_step_allocates_nothing(string activ)
    {
        const int d = 16, up = 4, rows = 256;   // 16 384 hidden values: the GELU pass splits over the workers
        var s = new ParameterStore<double>();
        var mlp = new Mlp<double>(s, "mlp", d, up, activ);
        s.Allocate();
        var rng = new Rng(5);
        rng.FillGaussian(s.Values.AsSpan());
        var x = new double[rows * d]; rng.FillGaussian(x.AsSpan());
        var dy = new double[rows * d]; rng.FillGaussian(dy.AsSpan());
        var y = new double[rows * d]; var dx = new double[rows * d];
        mlp.Forward(x, y, rows); mlp.Backward(x, dy, dx, rows);   // grows the buffers once
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 3; i++) { mlp.Forward(x, y, rows); mlp.Backward(x, dy, dx, rows); mlp.Forward(x, y, rows / 2); }
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    [Theory]
    [InlineData(1.0, 0.8413447460685429)]
    [InlineData(-1.0, -0.15865525393145705)]
    [InlineData(0.5, 0.34573123063700656)]
    [InlineData(-2.5, -0.015524163314440337)]
    [InlineData(3.0, 2.99595030590511)]
    [InlineData(0.0, 0.0)]
    public void Gelu_matches_known_values(double x, double expected)
    {
        var g = new double[1]; var cdf = new double[1];
        Activations.GeluForward<double>([x], g, cdf);
        Assert.True(Math.Abs(g[0] - expected) <= 2e-16 * Math.Max(1, Math.Abs(expected)) + 1e-300,
            $"gelu({x}) = {g[0]:R}, expected {expected:R}");
        Assert.Equal(x == 0 ? 0.5 : expected / x, cdf[0], tolerance: 2e-15);
    }

    [Fact]
    public void Gelu_derivative_matches_finite_differences()
    {
        var xs = new[] { -6.0, -3.2, -1.0, -0.4, -1e-3, 0.0, 0.3, 0.84, 1.0, 1.3, 2.9, 5.0 };
        var g = new double[xs.Length]; var cdf = new double[xs.Length]; var da = new double[xs.Length];
        Activations.GeluForward<double>(xs, g, cdf);
        Activations.GeluBackward<double>(xs, cdf, Enumerable.Repeat(1.0, xs.Length).ToArray(), da);
        const double h = 1e-5;
        for (int i = 0; i < xs.Length; i++)
        {
            var pm = new[] { xs[i] + h, xs[i] - h }; var gp = new double[2]; var c2 = new double[2];
            Activations.GeluForward<double>(pm, gp, c2);
            double numeric = (gp[0] - gp[1]) / (2 * h);
            Assert.True(Math.Abs(numeric - da[i]) <= 1e-9, $"gelu'({xs[i]}): backward {da[i]:R}, central differences {numeric:R}");
        }
        // gelu'(0) = 1/2, gelu'(1) = Φ(1) + φ(1).
        Assert.Equal(0.5, da[5], tolerance: 2e-15);
        Assert.Equal(0.8413447460685429 + 0.24197072451914337, da[8], tolerance: 2e-15);
    }

    [Fact]
    public void Glu_and_relu_kernels_handle_every_tail_length()
    {
        var rng = new Rng(2);
        for (int n = 0; n <= 40; n++)
        {
            var z1 = new double[n]; var z2 = new double[n]; var dg = new double[n];
            rng.FillGaussian(z1.AsSpan()); rng.FillGaussian(z2.AsSpan()); rng.FillGaussian(dg.AsSpan());
            var s = new double[n]; var g = new double[n]; var dz1 = new double[n]; var dz2 = new double[n];
            Activations.GluForward<double>(z1, z2, s, g);
            Activations.GluBackward<double>(s, z2, dg, dz1, dz2);
            var r = new double[n]; var dr = new double[n];
            Activations.ReluForward<double>(z1, r);
            Activations.ReluBackward<double>(z1, dg, dr);
            for (int i = 0; i < n; i++)
            {
                double sig = 1 / (1 + Math.Exp(-z1[i]));
                Assert.Equal(sig, s[i], tolerance: 2e-15);
                Assert.Equal(sig * z2[i], g[i], tolerance: 2e-15);
                Assert.Equal(dg[i] * sig, dz2[i], tolerance: 2e-15);
                Assert.Equal(dg[i] * z2[i] * sig * (1 - sig), dz1[i], tolerance: 2e-15);
                Assert.Equal(Math.Max(z1[i], 0), r[i]);
                Assert.Equal(z1[i] > 0 ? dg[i] : 0, dr[i]);
            }
        }
    }

    [Fact]
    public void Rejects_unknown_activation_and_non_positive_sizes()
    {
        var s = new ParameterStore<double>();
        var e = Assert.Throws<ArgumentException>(() => new Mlp<double>(s, "mlp", 4, 4, "swish"));
        Assert.Contains("model.mlp_activ", e.Message);
        Assert.Contains("'swish'", e.Message);
        Assert.Contains("relu, gelu, glu", e.Message);
        var d = Assert.Throws<ArgumentOutOfRangeException>(() => new Mlp<double>(s, "mlp", 0, 4, "relu"));
        Assert.Contains("model.n_embd", d.Message);
        var u = Assert.Throws<ArgumentOutOfRangeException>(() => new Mlp<double>(s, "mlp", 4, 0, "relu"));
        Assert.Contains("model.mlp_upfactor", u.Message);
        var big = Assert.Throws<ArgumentOutOfRangeException>(() => new Mlp<double>(s, "mlp", 1 << 14, 4, "glu"));
        Assert.Contains("too large", big.Message);
        Assert.Empty(s.Parameters);   // nothing half-registered
        // The layer and the config validation accept the same names.
        Assert.Equal(["relu", "gelu", "glu"], Mlp<double>.ActivationNames);
    }
}

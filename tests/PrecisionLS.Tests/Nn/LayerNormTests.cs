using PrecisionLS.Nn;
using PrecisionLS.Numerics;
using PrecisionLS.Tests.Fixtures;
using Xunit;

namespace PrecisionLS.Tests.Nn;

/// <summary>LayerNorm against the PyTorch float64 fixture, central differences, float32, and its argument checks.</summary>
public class LayerNormTests
{
    private static ModuleHarness Harness(int d, int rows, bool bias, out LayerNorm<double> ln)
    {
        var s = new ParameterStore<double>();
        var layer = new LayerNorm<double>(s, "ln", d, bias);
        s.Allocate();
        ln = layer;
        double[] xKeep = [];
        return new ModuleHarness(s,
            x => { xKeep = x; var y = new double[rows * d]; layer.Forward(x, y, rows); return y; },
            dy => { var dx = new double[rows * d]; layer.Backward(xKeep, dy, dx, rows); return dx; });
    }

    /// <summary>The fixture with its module-relative parameter names put under <paramref name="prefix"/>.</summary>
    internal static FixtureCase Prefixed(FixtureCase fx, string prefix) => new()
    {
        Name = fx.Name, Config = fx.Config, Inputs = fx.Inputs, Buffers = fx.Buffers, Outputs = fx.Outputs, Upstream = fx.Upstream,
        Params = fx.Params.ToDictionary(kv => prefix + "." + kv.Key, kv => kv.Value),
        Grads = fx.Grads.ToDictionary(kv => kv.Key.StartsWith("param:", StringComparison.Ordinal) ? "param:" + prefix + "." + kv.Key[6..] : kv.Key, kv => kv.Value),
    };

    [Fact]
    public void Matches_fixture_and_finite_differences()
    {
        var fx = FixtureCase.Load("layernorm");
        int d = fx.Inputs["x"].Shape[^1], rows = fx.Inputs["x"].Size / d;
        Assert.Equal(1e-5, fx.ConfigDouble("eps"));
        var h = Harness(d, rows, bias: true, out var ln);
        Assert.Equal(["ln.weight", "ln.bias"], h.Store.Parameters.Select(p => p.Name));
        h.MatchFixture(Prefixed(fx, "ln"), "x");
        h.CheckGradients(fx.Inputs["x"].Data);
        Assert.Equal(3L * rows * d, ln.ForwardMultiplyAdds(rows));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Gradients_match_finite_differences_on_random_data(bool bias)
    {
        const int d = 7, rows = 5;
        var h = Harness(d, rows, bias, out var ln);
        var rng = new Rng(21);
        rng.FillGaussian(h.Store.Values.AsSpan());
        var x = new double[rows * d];
        rng.FillGaussian(x.AsSpan());
        for (int i = 0; i < x.Length; i++) x[i] = 3 * x[i] + 1.5;   // an offset and a scale the layer must remove
        h.CheckGradients(x, seed: 5);
        Assert.Equal(bias, ln.Bias is not null);
    }

    [Fact]
    public void Output_rows_are_normalised_before_the_affine()
    {
        const int d = 6, rows = 4;
        var s = new ParameterStore<double>();
        var ln = new LayerNorm<double>(s, "ln", d);
        s.Allocate();
        s.Value(ln.Weight).Fill(1.0);
        var x = new double[rows * d];
        new Rng(3).FillGaussian(x.AsSpan());
        var y = new double[rows * d];
        ln.Forward(x, y, rows);
        for (int r = 0; r < rows; r++)
        {
            var yr = y.AsSpan(r * d, d).ToArray();
            double mean = yr.Average(), var = yr.Select(v => (v - mean) * (v - mean)).Average();
            Assert.True(Math.Abs(mean) < 1e-15, $"row {r} mean {mean:E2}");
            // biased variance of the output = σ²/(σ² + eps)
            var xr = x.AsSpan(r * d, d).ToArray();
            double mx = xr.Average(), vx = xr.Select(v => (v - mx) * (v - mx)).Average();
            Assert.True(Math.Abs(var - vx / (vx + 1e-5)) < 1e-14, $"row {r} variance {var:R}");
            Assert.Equal(mx, ln.Mean[r], tolerance: 2e-15);
            Assert.Equal(1 / Math.Sqrt(vx + 1e-5), ln.ReciprocalStd[r], tolerance: 1e-12);
        }
    }

    [Fact]
    public void Backward_accumulates_or_overwrites_dx_and_accumulates_parameter_gradients()
    {
        const int d = 5, rows = 3;
        var h = Harness(d, rows, bias: true, out var ln);
        var rng = new Rng(8);
        rng.FillGaussian(h.Store.Values.AsSpan());
        var x = new double[rows * d]; rng.FillGaussian(x.AsSpan());
        var dy = new double[rows * d]; rng.FillGaussian(dy.AsSpan());
        var y = new double[rows * d];
        ln.Forward(x, y, rows);
        h.Store.ZeroGrads();
        var dx1 = new double[rows * d];
        ln.Backward(x, dy, dx1, rows, accumulateDx: false);
        var g1 = h.Store.Grads.ToArray();
        var dx2 = Enumerable.Repeat(1.0, rows * d).ToArray();
        ln.Backward(x, dy, dx2, rows);                      // accumulates: dx2 = 1 + dx1, grads doubled
        for (int i = 0; i < dx1.Length; i++) Assert.Equal(1 + dx1[i], dx2[i], tolerance: 1e-13);
        for (int i = 0; i < g1.Length; i++) Assert.Equal(2 * g1[i], h.Store.Grads[i], tolerance: 1e-13);
        var dx3 = Enumerable.Repeat(9.0, rows * d).ToArray();
        ln.Backward(x, dy, dx3, rows, accumulateDx: false);
        Assert.Equal(dx1, dx3);
    }

    [Fact]
    public void Float32_forward_and_backward_agree_with_float64()
    {
        const int d = 16, rows = 9;
        var s64 = new ParameterStore<double>(); var ln64 = new LayerNorm<double>(s64, "ln", d); s64.Allocate();
        var s32 = new ParameterStore<float>(); var ln32 = new LayerNorm<float>(s32, "ln", d); s32.Allocate();
        var rng = new Rng(4);
        rng.FillGaussian(s64.Values.AsSpan());
        for (int i = 0; i < s64.Size; i++) s32.Values[i] = (float)s64.Values[i];
        var x64 = new double[rows * d]; rng.FillGaussian(x64.AsSpan());
        var dy64 = new double[rows * d]; rng.FillGaussian(dy64.AsSpan());
        var x32 = x64.Select(v => (float)v).ToArray(); var dy32 = dy64.Select(v => (float)v).ToArray();
        var y64 = new double[rows * d]; var y32 = new float[rows * d];
        ln64.Forward(x64, y64, rows); ln32.Forward(x32, y32, rows);
        AssertSingleClose(y64, y32, 2e-6, "y");
        var dx64 = new double[rows * d]; var dx32 = new float[rows * d];
        ln64.Backward(x64, dy64, dx64, rows); ln32.Backward(x32, dy32, dx32, rows);
        AssertSingleClose(dx64, dx32, 1e-5, "dx");
        AssertSingleClose(s64.Grads, s32.Grads, 1e-5, "parameter gradients");
    }

    internal static void AssertSingleClose(double[] expected, float[] actual, double tol, string what)
    {
        double scale = Math.Max(1, expected.Max(Math.Abs));
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= tol * scale,
                $"{what}[{i}]: float32 {actual[i]:R}, float64 {expected[i]:R} (difference {Math.Abs(actual[i] - expected[i]):E2}, allowed {tol * scale:E2})");
    }

    [Fact]
    public void Steady_state_step_allocates_nothing()
    {
        const int d = 32, rows = 50;
        var s = new ParameterStore<double>();
        var ln = new LayerNorm<double>(s, "ln", d);
        s.Allocate();
        var rng = new Rng(6);
        rng.FillGaussian(s.Values.AsSpan());
        var x = new double[rows * d]; rng.FillGaussian(x.AsSpan());
        var y = new double[rows * d]; var dx = new double[rows * d];
        ln.Forward(x, y, rows); ln.Backward(x, y, dx, rows);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 3; i++) { ln.Forward(x, y, rows); ln.Backward(x, y, dx, rows); ln.Forward(x, y, rows - 7); }
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    [Fact]
    public void Rejects_non_positive_width()
    {
        var s = new ParameterStore<double>();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new LayerNorm<double>(s, "ln_f", 0));
        Assert.Contains("model.n_embd", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new LayerNorm<double>(s, "ln_f", 4, eps: 0));
    }

    [Fact]
    public void Forward_rejects_short_buffers()
    {
        var s = new ParameterStore<double>();
        var ln = new LayerNorm<double>(s, "ln", 4);
        s.Allocate();
        var e = Assert.Throws<ArgumentException>(() => ln.Forward(new double[7], new double[8], 2));
        Assert.Equal("x", e.ParamName);
    }
}

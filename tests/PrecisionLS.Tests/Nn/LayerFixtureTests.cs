using PrecisionLS.Config;
using PrecisionLS.Nn;
using PrecisionLS.Numerics;
using PrecisionLS.Tests.Fixtures;
using Xunit;

namespace PrecisionLS.Tests.Nn;

/// <summary>Each layer's forward and gradients against PyTorch float64 fixtures, and against central differences.</summary>
public class LayerFixtureTests
{
    private static ModuleHarness LinearHarness(int inF, int outF, int rows, out ParameterStore<double> store)
    {
        var s = new ParameterStore<double>();
        var lin = new Linear<double>(s, "", inF, outF);
        s.Allocate();
        store = s;
        double[] xKeep = [];
        return new ModuleHarness(s,
            x => { xKeep = x; var y = new double[rows * outF]; lin.Forward(x, y, rows); return y; },
            dy => { var dx = new double[rows * inF]; lin.Backward(xKeep, dy, dx, rows); return dx; });
    }

    [Fact]
    public void Linear_matches_fixture_and_finite_differences()
    {
        var fx = FixtureCase.Load("linear");
        // Module-relative names in the fixture: "weight", "bias"; our Linear registered ".weight": rename.
        var s = new ParameterStore<double>();
        var lin = new Linear<double>(s, "lin", 5, 4);
        s.Allocate();
        fx.Params["weight"].Data.CopyTo(s.Value(lin.Weight));
        fx.Params["bias"].Data.CopyTo(s.Value(lin.Bias!));
        var x = fx.Inputs["x"].Data;
        var y = new double[6 * 4];
        lin.Forward(x, y, 6);
        Compare.Close(fx.Outputs["y"], y, 1e-12, "linear y");
        s.ZeroGrads();
        var dx = new double[6 * 5];
        lin.Backward(x, fx.Upstream["y"].Data, dx, 6);
        Compare.Close(fx.Grads["input:x"], dx, 1e-12, "linear dx");
        Compare.Close(fx.Grads["param:weight"], s.Grad(lin.Weight).ToArray(), 1e-12, "linear dW");
        Compare.Close(fx.Grads["param:bias"], s.Grad(lin.Bias!).ToArray(), 1e-12, "linear db");

        var h = LinearHarness(5, 4, 6, out var store);
        new Rng(3).FillGaussian(store.Values.AsSpan());
        h.CheckGradients(x);
    }

    private static ModuleHarness ConvHarness(int d, int kernel, int batch, int length, bool causal, bool resid, string prefix = "conv")
    {
        var s = new ParameterStore<double>();
        var conv = new ShortConvolution<double>(s, prefix, d, kernel, causal, resid);
        s.Allocate();
        double[] xKeep = [];
        return new ModuleHarness(s,
            x => { xKeep = x; var y = new double[x.Length]; conv.Forward(x, y, default, default, batch, length); return y; },
            dy => { var dx = new double[dy.Length]; conv.Backward(xKeep, dy, default, default, default, dx, batch, length); return dx; });
    }

    [Theory]
    [InlineData("conv_short_causal")]
    [InlineData("conv_short_causal_full")]
    [InlineData("conv_short_noncausal_odd")]
    [InlineData("conv_short_noncausal_even")]
    public void ShortConvolution_matches_fixture_and_finite_differences(string name)
    {
        var fx = FixtureCase.Load(name);
        int d = fx.ConfigInt("d_model"), k = fx.ConfigInt("kernel_size"), l = fx.ConfigInt("seq_len");
        int batch = fx.Inputs["x"].Shape[0];
        var h = ConvHarness(d, k, batch, l, fx.ConfigBool("causal"), fx.ConfigBool("resid"));
        h.MatchFixture(fx, "x");
        h.CheckGradients(fx.Inputs["x"].Data);
    }

    private static ModuleHarness BaseConvHarness(int d, int lMax, int batch, int length, bool causal, bool resid)
    {
        var s = new ParameterStore<double>();
        var bc = new BaseConv<double>(s, "", d, lMax, causal, resid);
        s.Allocate();
        double[] xKeep = [];
        return new ModuleHarness(s,
            x => { xKeep = x; var y = new double[x.Length]; bc.Forward(x, y, batch, length); return y; },
            dy => { var dx = new double[dy.Length]; bc.Backward(xKeep, dy, dx, batch, length); return dx; });
    }

    [Theory]
    [InlineData("baseconv_short_causal")]
    [InlineData("baseconv_short_causal_noresid")]
    public void BaseConv_matches_fixture_and_finite_differences(string name)
    {
        var fx = FixtureCase.Load(name);
        int d = fx.ConfigInt("d_model"), lMax = fx.ConfigInt("l_max"), l = fx.ConfigInt("seq_len");
        int batch = fx.Inputs["u"].Shape[0];
        var h = BaseConvHarness(d, lMax, batch, l, fx.ConfigBool("causal"), fx.ConfigBool("resid"));
        // BaseConv registers names with a leading "." (empty prefix); map the fixture's relative names.
        var renamed = new Dictionary<string, FixtureTensor>();
        foreach (var (k, v) in fx.Params) renamed["." + k] = v;
        var grads = new Dictionary<string, FixtureTensor>();
        foreach (var (k, v) in fx.Grads) grads[k.StartsWith("param:") ? "param:." + k[6..] : k] = v;
        var fx2 = new FixtureCase
        {
            Name = fx.Name, Config = fx.Config, Inputs = fx.Inputs, Params = renamed, Buffers = fx.Buffers,
            Outputs = fx.Outputs, Upstream = fx.Upstream, Grads = grads,
        };
        h.MatchFixture(fx2, "u");
        h.CheckGradients(fx.Inputs["u"].Data);
    }
}

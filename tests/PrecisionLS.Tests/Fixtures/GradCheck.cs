using PrecisionLS.Nn;
using PrecisionLS.Numerics;
using Xunit;

namespace PrecisionLS.Tests.Fixtures;

/// <summary>
/// A module under test seen as y = f(x; params): Forward returns y, Backward(dy) returns dx and leaves parameter
/// gradients (zeroed by the harness first) in the store.
/// </summary>
public sealed class ModuleHarness(ParameterStore<double> store, Func<double[], double[]> forward, Func<double[], double[]> backward)
{
    public ParameterStore<double> Store { get; } = store;
    public double[] Forward(double[] x) => forward(x);
    public double[] Backward(double[] dy) { return backward(dy); }

    /// <summary>Loads every fixture parameter by name (shape-checked).</summary>
    public void LoadParams(FixtureCase fx)
    {
        foreach (var (name, t) in fx.Params)
        {
            var p = Store.Get(name);
            Assert.True(p.Shape.SequenceEqual(t.Shape), $"parameter {name}: shape [{string.Join(",", p.Shape)}], fixture [{string.Join(",", t.Shape)}]");
            t.Data.CopyTo(Store.Value(p));
        }
    }

    /// <summary>Forward on the fixture input, backward of Σ upstream·y; compares y, dx and every parameter gradient.</summary>
    public void MatchFixture(FixtureCase fx, string inputName, string outputName = "y", double tol = 1e-12)
    {
        LoadParams(fx);
        var x = fx.Inputs[inputName].Data;
        var y = Forward(x);
        Compare.Close(fx.Outputs[outputName], y, tol, $"{fx.Name}: output {outputName}");
        Store.ZeroGrads();
        var dx = Backward(fx.Upstream[outputName].Data);
        Compare.Close(fx.Grads["input:" + inputName], dx, tol, $"{fx.Name}: input gradient {inputName}");
        foreach (var (key, g) in fx.Grads)
        {
            if (!key.StartsWith("param:", StringComparison.Ordinal)) continue;
            string name = key["param:".Length..];
            var p = Store.Get(name);
            Compare.Close(g, Store.Grad(p).ToArray(), tol, $"{fx.Name}: gradient of {name}");
        }
    }

    /// <summary>
    /// Central finite differences along random directions: for L(x, θ) = Σ w·f(x; θ) with random w,
    /// compares dL/dε at ε = 0 along a random direction in x and in each trainable parameter with the backward's
    /// directional derivative. Relative tolerance about 1e-7 (float64, step 1e-5, error O(h²)).
    /// </summary>
    public void CheckGradients(double[] x, ulong seed = 7, double tol = 1e-7)
    {
        var rng = new Rng(seed);
        var y0 = Forward(x);
        var w = new double[y0.Length]; rng.FillGaussian(w.AsSpan());
        double Loss(double[] xx) { var y = Forward(xx); double s = 0; for (int i = 0; i < y.Length; i++) s += w[i] * y[i]; return s; }

        Store.ZeroGrads();
        Forward(x);
        var dx = Backward(w);
        var grads = Store.Grads.ToArray();
        const double h = 1e-4;   // with the fourth-order stencil: truncation ~h⁴, round-off ~eps·|loss|/h

        // Fourth-order central differences, (8(f(h) - f(-h)) - (f(2h) - f(-2h))) / 12h: truncation error O(h⁴), so
        // deep stacks with LayerNorm (large third derivatives) are checked as tightly as single layers.
        static double Derivative(Func<double, double> f) => (8 * (f(h) - f(-h)) - (f(2 * h) - f(-2 * h))) / (12 * h);

        // Input direction.
        var v = new double[x.Length]; rng.FillGaussian(v.AsSpan());
        double analytic = 0; for (int i = 0; i < x.Length; i++) analytic += dx[i] * v[i];
        double numeric = Derivative(t => Loss(x.Select((xi, i) => xi + t * v[i]).ToArray()));
        AssertClose(analytic, numeric, tol, "input");

        // Each trainable parameter tensor along its own direction.
        foreach (var p in Store.Parameters)
        {
            if (!p.Trainable) continue;
            var vals = Store.Value(p);
            var saved = vals.ToArray();
            var dir = new double[p.Length]; rng.FillGaussian(dir.AsSpan());
            double an = 0; for (int i = 0; i < p.Length; i++) an += grads[p.Offset + i] * dir[i];
            double LossAt(double t)
            {
                var live = Store.Value(p);
                for (int i = 0; i < p.Length; i++) live[i] = saved[i] + t * dir[i];
                return Loss(x);
            }
            double num = Derivative(LossAt);
            saved.CopyTo(Store.Value(p));
            AssertClose(an, num, tol, p.Name);
        }
    }

    private static void AssertClose(double analytic, double numeric, double tol, string what)
    {
        double scale = Math.Max(1e-3, Math.Max(Math.Abs(analytic), Math.Abs(numeric)));
        Assert.True(Math.Abs(analytic - numeric) <= tol * scale,
            $"gradient check for {what}: backward gives {analytic:R}, central differences {numeric:R} (relative error {Math.Abs(analytic - numeric) / scale:E2})");
    }
}

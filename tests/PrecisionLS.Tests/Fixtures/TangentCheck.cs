using PrecisionLS.Nn;
using PrecisionLS.Numerics;
using Xunit;

namespace PrecisionLS.Tests.Fixtures;

/// <summary>
/// A module under test seen as y = f(x; θ) with its forward-mode tangent: Forward(x) returns y and keeps state;
/// Tangent(x, dx, v) returns dy = J_x dx + J_θ v at the last Forward (dx may be null: no input tangent);
/// Backward(u) returns dx and leaves parameter gradients in the store (zeroed by the harness first).
/// inputLength 0: the module's input is data, not differentiated (a whole model): dx is always null.
/// </summary>
public sealed class TangentHarness(ParameterStore<double> store, int inputLength,
    Func<double[], double[]> forward, Func<double[], double[]?, double[], double[]> tangent, Func<double[], double[]> backward)
{
    /// <summary>n Gaussian values from stream <paramref name="seed"/>, times <paramref name="scale"/>.</summary>
    public static double[] Gaussian(int n, ulong seed, double scale = 1.0)
    {
        var a = new double[n];
        new Rng(seed).FillGaussian(a.AsSpan());
        for (int i = 0; i < n; i++) a[i] *= scale;
        return a;
    }

    /// <summary>Both checks of a tangent at x: central differences and the adjoint identity against Backward.</summary>
    public static void Check(TangentHarness h, double[] x)
    {
        h.CheckFiniteDifferences(x);
        h.CheckAdjoint(x);
    }

    public ParameterStore<double> Store { get; } = store;

    /// <summary>Copies every fixture parameter into the store under "{prefix}{name}" (shape-checked).</summary>
    public void LoadParams(FixtureCase fx, string prefix = "")
    {
        foreach (var (name, t) in fx.Params)
        {
            var p = Store.Get(prefix + name);
            Assert.True(p.Shape.Aggregate(1, (a, b) => a * b) == t.Size, $"parameter {prefix + name}: {p.Length} values, fixture {t.Size}");
            t.Data.CopyTo(Store.Value(p));
        }
    }

    /// <summary>
    /// The tangent against fourth-order central differences of y along (dx, v): once along a random direction in
    /// x and every trainable parameter together (frozen entries of v filled with junk, which must be ignored),
    /// then along each trainable tensor alone (no dx). Relative error in the 2-norm at most <paramref name="tol"/>.
    /// </summary>
    public void CheckFiniteDifferences(double[] x, ulong seed = 11, double tol = 1e-7, bool perTensor = true)
    {
        var rng = new Rng(seed);
        var dx = RandomInput(rng);
        var v = new double[Store.Size]; rng.FillGaussian(v.AsSpan());
        CheckDirection(x, dx, v, tol, "input and all parameters");
        if (!perTensor) return;
        foreach (var p in Store.Parameters)
        {
            if (!p.Trainable) continue;
            var vp = new double[Store.Size];
            rng.FillGaussian(vp.AsSpan(p.Offset, p.Length));
            CheckDirection(x, null, vp, tol, p.Name);
        }
    }

    private void CheckDirection(double[] x, double[]? dx, double[] v, double tol, string what)
    {
        Forward(x);
        var dy = tangent(x, dx, v);
        var theta = Store.Values.ToArray();
        double[] At(double t)
        {
            for (int i = 0; i < theta.Length; i++) Store.Values[i] = theta[i];
            foreach (var p in Store.Parameters)
                if (p.Trainable) for (int i = p.Offset; i < p.Offset + p.Length; i++) Store.Values[i] = theta[i] + t * v[i];
            var xt = dx is null ? x : x.Select((xi, i) => xi + t * dx[i]).ToArray();
            return forward(xt);
        }
        const double h = 1e-4;
        var p1 = At(h); var m1 = At(-h); var p2 = At(2 * h); var m2 = At(-2 * h);
        theta.CopyTo(Store.Values, 0);
        forward(x);
        double errSq = 0, normSq = 0;
        int worst = 0; double worstErr = -1;
        for (int i = 0; i < dy.Length; i++)
        {
            double num = (8 * (p1[i] - m1[i]) - (p2[i] - m2[i])) / (12 * h);
            double e = dy[i] - num;
            errSq += e * e; normSq += num * num;
            if (Math.Abs(e) > worstErr) { worstErr = Math.Abs(e); worst = i; }
        }
        double rel = Math.Sqrt(errSq) / Math.Max(Math.Sqrt(normSq), 1e-9);
        Assert.True(rel <= tol, $"tangent along {what}: relative 2-norm error {rel:E2} against central differences (worst index {worst}, |error| {worstErr:E2}, norm {Math.Sqrt(normSq):E2})");
    }

    /// <summary>
    /// The adjoint identity ⟨u, J_x dx + J_θ v⟩ = ⟨J_xᵀ u, dx⟩ + ⟨J_θᵀ u, v⟩ with the existing Backward, to
    /// <paramref name="tol"/> relative to the sum of the magnitudes of the products (machine precision), along
    /// random directions: all together and each trainable tensor alone. Also checks that a Backward after the
    /// tangent gives the same gradients, bit for bit, as one right after Forward.
    /// </summary>
    public void CheckAdjoint(double[] x, ulong seed = 13, double tol = 1e-12)
    {
        var rng = new Rng(seed);
        var dx = RandomInput(rng);
        var v = new double[Store.Size]; rng.FillGaussian(v.AsSpan());
        var y = Forward(x);
        var u = new double[y.Length]; rng.FillGaussian(u.AsSpan());

        Store.ZeroGrads();
        var dxPlain = backward(u);
        var gPlain = Store.Grads.ToArray();

        Forward(x);
        var dy = tangent(x, dx, v);
        Store.ZeroGrads();
        var dxAdj = backward(u);
        var g = Store.Grads.ToArray();
        if (inputLength > 0) Assert.True(dxPlain.AsSpan().SequenceEqual(dxAdj), "the input gradient after ForwardTangent differs from the one after Forward alone");
        Assert.True(gPlain.AsSpan().SequenceEqual(g), "the parameter gradients after ForwardTangent differ from the ones after Forward alone");

        AssertAdjoint(u, dy, dxAdj, dx, g, v, tol, "input and all parameters");
        foreach (var p in Store.Parameters)
        {
            if (!p.Trainable) continue;
            var vp = new double[Store.Size];
            rng.FillGaussian(vp.AsSpan(p.Offset, p.Length));
            var dyp = tangent(x, null, vp);
            AssertAdjoint(u, dyp, dxAdj, null, g, vp, tol, p.Name);
        }
    }

    private void AssertAdjoint(double[] u, double[] dy, double[] dxAdj, double[]? dx, double[] g, double[] v, double tol, string what)
    {
        double lhs = 0, lhsAbs = 0;
        for (int i = 0; i < u.Length; i++) { lhs += u[i] * dy[i]; lhsAbs += Math.Abs(u[i] * dy[i]); }
        double rhs = 0, rhsAbs = 0;
        if (dx is not null) for (int i = 0; i < dx.Length; i++) { rhs += dxAdj[i] * dx[i]; rhsAbs += Math.Abs(dxAdj[i] * dx[i]); }
        foreach (var p in Store.Parameters)
        {
            if (!p.Trainable) continue;
            for (int i = p.Offset; i < p.Offset + p.Length; i++) { rhs += g[i] * v[i]; rhsAbs += Math.Abs(g[i] * v[i]); }
        }
        double scale = Math.Max(Math.Max(lhsAbs, rhsAbs), 1e-300);
        Assert.True(Math.Abs(lhs - rhs) <= tol * scale,
            $"adjoint identity along {what}: <u, J v> = {lhs:R}, <J^T u, v> = {rhs:R}, difference {Math.Abs(lhs - rhs) / scale:E2} of the magnitudes");
    }

    public double[] Forward(double[] x) => forward(x);

    private double[]? RandomInput(Rng rng)
    {
        if (inputLength == 0) return null;
        var dx = new double[inputLength]; rng.FillGaussian(dx.AsSpan());
        return dx;
    }
}

using MathNet.Numerics.LinearAlgebra;
using PrecisionLS.Numerics;
using PrecisionLS.Tasks;
using PrecisionLS.Tests.Fixtures;
using Xunit;

namespace PrecisionLS.Tests.Tasks;

public class MultistepGdTaskTests
{
    /// <summary>x_k after k steps x &lt;- x - eta (1/L) Aᵀ(A x - b) from x_init, with MathNet (independent of the task).</summary>
    private static Vector<double> GradientDescent(Matrix<double> a, Vector<double> b, Vector<double> x, int k, double eta)
    {
        for (int s = 0; s < k; s++) x = x - eta / a.RowCount * a.TransposeThisAndMultiply(a * x - b);
        return x;
    }

    [Fact]
    public void MatchesFixture()
    {
        var fx = FixtureCase.Load("task_multistep_gd");
        int batch = fx.ConfigInt("batch"), l = fx.ConfigInt("n_points"), d = fx.ConfigInt("n_dims"), o = fx.ConfigInt("out_dims");
        int k = fx.ConfigInt("num_iters");
        double eta = fx.ConfigDouble("step_size");
        double[] a = fx.Inputs["A"].Data, xInit = fx.Inputs["x_init"].Data, b = fx.Inputs["b"].Data, modelOutput = fx.Inputs["model_output"].Data;

        var task = new MultistepGdTask<double>(d, l, o, numIters: k, stepSize: eta);
        Assert.Equal("multistep_gd", task.Name);
        Assert.Equal(l + 1, task.PromptLength);
        Assert.Equal([l], task.ReadPositions.ToArray());
        var prompt = new double[batch * task.PromptLength * task.TokenDims];
        var target = new double[batch * task.TargetSize];
        var iterates = new double[batch * k * d];
        task.BuildPrompt(a, xInit, b, batch, prompt, target, iterates);
        Compare.Close(fx.Outputs["prompt"], prompt, 1e-12, "prompt");
        Compare.Close(fx.Outputs["target"], target, 1e-12, "target");
        Compare.Close(fx.Outputs["iterates"], iterates, 1e-12, "iterates");

        var read = ReadRows.Gather(modelOutput, batch, l + 1, o, task.ReadPositions);
        var grad = new double[read.Length];
        double loss = task.Loss(read, target, batch, grad);
        Compare.Close(fx.Outputs["training_loss"].Data, [loss], 1e-12, "training_loss");
        double u = fx.Upstream["training_loss"].Data[0];
        Compare.Close(fx.Grads["input:model_output"], ReadRows.Scatter(grad, batch, l + 1, o, task.ReadPositions, u), 1e-12,
            "grad model_output");
    }

    [Fact]
    public void FixtureInputGradientsFollowFromBackpropagatingTheSteps()
    {
        // The fixture's loss is Σ U_t·x_k + u·training_loss, so G_k = dLoss/dx_k = U_t - u · d training_loss / d out.
        // Reverse the steps x_{s+1} = x_s - (eta/L) Aᵀ r_s, r_s = A x_s - b:
        //   G_s = G_{s+1} - (eta/L) AᵀA G_{s+1};  dA -= (eta/L)(r_s G_{s+1}ᵀ + (A G_{s+1}) x_sᵀ);  db += (eta/L) A G_{s+1};
        //   d/dx_init = G_0.
        var fx = FixtureCase.Load("task_multistep_gd");
        int batch = fx.ConfigInt("batch"), l = fx.ConfigInt("n_points"), d = fx.ConfigInt("n_dims"), o = fx.ConfigInt("out_dims");
        int k = fx.ConfigInt("num_iters");
        double eta = fx.ConfigDouble("step_size");
        double[] a = fx.Inputs["A"].Data, xInit = fx.Inputs["x_init"].Data, b = fx.Inputs["b"].Data, mo = fx.Inputs["model_output"].Data;
        var task = new MultistepGdTask<double>(d, l, o, numIters: k, stepSize: eta);
        var prompt = new double[batch * task.PromptLength * task.TokenDims];
        var target = new double[batch * d];
        var iterates = new double[batch * k * d];
        task.BuildPrompt(a, xInit, b, batch, prompt, target, iterates);
        var read = ReadRows.Gather(mo, batch, l + 1, o, task.ReadPositions);
        var dOut = new double[read.Length];
        task.Loss(read, target, batch, dOut);

        double u = fx.Upstream["training_loss"].Data[0];
        double[] uTarget = fx.Upstream["target"].Data;
        var gA = new double[a.Length]; var gB = new double[b.Length]; var gX = new double[xInit.Length];
        double c = eta / l;
        for (int e = 0; e < batch; e++)
        {
            var am = Matrix<double>.Build.DenseOfRowMajor(l, d, a.AsSpan(e * l * d, l * d).ToArray());
            var bv = Vector<double>.Build.DenseOfArray(b.AsSpan(e * l, l).ToArray());
            var dA = Matrix<double>.Build.Dense(l, d);
            var dB = Vector<double>.Build.Dense(l);
            var g = Vector<double>.Build.Dense(d, j => uTarget[e * d + j] - u * dOut[e * o + j]);
            for (int s = k - 1; s >= 0; s--)
            {
                var xs = s == 0
                    ? Vector<double>.Build.DenseOfArray(xInit.AsSpan(e * d, d).ToArray())
                    : Vector<double>.Build.DenseOfArray(iterates.AsSpan((e * k + s - 1) * d, d).ToArray());
                var r = am * xs - bv;
                var ag = am * g;
                dA -= c * (r.OuterProduct(g) + ag.OuterProduct(xs));
                dB += c * ag;
                g = g - c * am.TransposeThisAndMultiply(ag);
            }
            dA.ToRowMajorArray().CopyTo(gA, e * l * d);
            dB.ToArray().CopyTo(gB, e * l);
            g.ToArray().CopyTo(gX, e * d);
        }
        Compare.Close(fx.Grads["input:x_init"], gX, 1e-12, "grad x_init");
        Compare.Close(fx.Grads["input:b"], gB, 1e-12, "grad b");
        Compare.Close(fx.Grads["input:A"], gA, 1e-12, "grad A");
    }

    [Fact]
    public void WorkedExampleFromTheDocs()
    {
        var task = new MultistepGdTask<double>(1, 2, 1);
        var prompt = new double[3 * 2];
        var target = new double[1];
        task.BuildPrompt([1.0, 2.0], [0.0], [1.0, 2.0], 1, prompt, target);
        Assert.Equal([1.0, 1.0, 2.0, 2.0, 0.0, 0.0], prompt);
        Assert.Equal(1.25, target[0]);
    }

    [Theory]
    [InlineData(1, 0.5, false)]
    [InlineData(4, 0.5, false)]
    [InlineData(7, 0.3, true)]
    public void TargetIsKExactGradientSteps(int k, double eta, bool conditioned)
    {
        const int l = 20, d = 5, batch = 4;
        var opts = conditioned ? new LeastSquaresOptions(normalize_a: true, scale_cond: 10) : null;
        var task = new MultistepGdTask<double>(d, l, d, opts, numIters: k, stepSize: eta);
        var prompt = new double[batch * (l + 1) * (d + 1)];
        var target = new double[batch * d];
        task.Sample(new Rng(31), batch, prompt, target);

        var sampler = new LeastSquaresSampler<double>(d, l, opts);
        double[] a = new double[batch * l * d], xs = new double[batch * d], xi = new double[batch * d], b = new double[batch * l];
        sampler.Sample(new Rng(31), batch, a, xs, xi, b);
        for (int e = 0; e < batch; e++)
        {
            var p = prompt.AsSpan(e * (l + 1) * (d + 1), (l + 1) * (d + 1));
            for (int i = 0; i < l; i++)
            {
                Assert.Equal(a.AsSpan((e * l + i) * d, d).ToArray(), p.Slice(i * (d + 1), d).ToArray());
                Assert.Equal(b[e * l + i], p[i * (d + 1) + d]);
            }
            Assert.Equal(xi.AsSpan(e * d, d).ToArray(), p.Slice(l * (d + 1), d).ToArray());   // x_init last
            Assert.Equal(0.0, p[^1]);

            var am = Matrix<double>.Build.DenseOfRowMajor(l, d, a.AsSpan(e * l * d, l * d).ToArray());
            var xk = GradientDescent(am, Vector<double>.Build.DenseOfArray(b.AsSpan(e * l, l).ToArray()),
                Vector<double>.Build.DenseOfArray(xi.AsSpan(e * d, d).ToArray()), k, eta);
            for (int j = 0; j < d; j++) Assert.Equal(xk[j], target[e * d + j], 1e-12 * Math.Max(1, Math.Abs(xk[j])));
        }
    }

    [Fact]
    public void OneStepIsXInitMinusEtaTimesTheExplicitGradient()
    {
        const int l = 12, d = 4, batch = 5;
        const double eta = 0.5;
        var opts = new LeastSquaresOptions(normalize_x: true, scale_target: 2);
        var gd = new MultistepGdTask<double>(d, l, d, opts, numIters: 1, stepSize: eta);
        var eg = new ExplicitGradientTask<double>(d, l, d, opts);
        var pGd = new double[batch * (l + 1) * (d + 1)]; var tGd = new double[batch * d];
        var pEg = new double[pGd.Length]; var tEg = new double[batch * d];
        gd.Sample(new Rng(77), batch, pGd, tGd);
        eg.Sample(new Rng(77), batch, pEg, tEg);           // the same problems: one sampler, one draw order
        for (int e = 0; e < batch; e++)
            for (int j = 0; j < d; j++)
            {
                double xInit = pEg[e * (l + 1) * (d + 1) + j];   // explicit_gradient: x_init is token 0
                Assert.Equal(xInit, pGd[(e * (l + 1) + l) * (d + 1) + j]);
                Assert.Equal(xInit - eta * tEg[e * d + j], tGd[e * d + j], 1e-14);
            }
    }

    [Fact]
    public void IteratesEndAtTheTargetAndConvergeToTheSolution()
    {
        const int l = 30, d = 3, batch = 2, k = 200;
        var task = new MultistepGdTask<double>(d, l, d, new LeastSquaresOptions(normalize_a: true), numIters: k, stepSize: 1.0);
        var sampler = new LeastSquaresSampler<double>(d, l, new LeastSquaresOptions(normalize_a: true));
        double[] a = new double[batch * l * d], xs = new double[batch * d], xi = new double[batch * d], b = new double[batch * l];
        sampler.Sample(new Rng(2), batch, a, xs, xi, b);
        var prompt = new double[batch * (l + 1) * (d + 1)]; var target = new double[batch * d]; var iterates = new double[batch * k * d];
        task.BuildPrompt(a, xi, b, batch, prompt, target, iterates);
        for (int e = 0; e < batch; e++)
        {
            Assert.Equal(iterates.AsSpan((e * k + k - 1) * d, d).ToArray(), target.AsSpan(e * d, d).ToArray());
            for (int j = 0; j < d; j++) Assert.Equal(xs[e * d + j], target[e * d + j], 1e-6);   // x_k -> x* (consistent, full rank)
        }
    }

    [Fact]
    public void CurriculumShrinksThePromptAndZeroesDeadDims()
    {
        const int l = 20, d = 5, batch = 3, points = 9, dims = 3;
        var task = new MultistepGdTask<double>(d, l, d, numIters: 4);
        task.SetSize(points, dims);
        Assert.Equal(points + 1, task.PromptLength);
        Assert.Equal([points], task.ReadPositions.ToArray());
        var prompt = new double[batch * (points + 1) * (d + 1)];
        var target = new double[batch * d];
        task.Sample(new Rng(3), batch, prompt, target);
        for (int e = 0; e < batch; e++)
        {
            for (int t = 0; t <= points; t++)
            {
                var token = prompt.AsSpan((e * (points + 1) + t) * (d + 1), d + 1);
                for (int j = 0; j < d; j++) Assert.Equal(j >= dims, token[j] == 0.0);
                Assert.Equal(t == points, token[d] == 0.0);
            }
            for (int j = 0; j < d; j++) Assert.Equal(j >= dims, target[e * d + j] == 0.0);   // dead dims stay at zero
        }
    }

    [Fact]
    public void SampleAndLossAllocateNothingAfterTheFirstCall()
    {
        const int l = 20, d = 5, batch = 32;
        var task = new MultistepGdTask<double>(d, l, d, numIters: 4);
        var prompt = new double[batch * (l + 1) * (d + 1)];
        var target = new double[batch * d];
        var outp = new double[batch * d]; var grad = new double[batch * d];
        var rng = new Rng(2);
        task.Sample(rng, batch, prompt, target);
        task.Loss(outp, target, batch, grad);
        task.Evaluate(outp, target, batch);
        long before = GC.GetAllocatedBytesForCurrentThread();
        task.Sample(rng, batch, prompt, target);
        task.Sample(rng, batch / 2, prompt, target);
        task.Loss(outp, target, batch, grad);
        task.Evaluate(outp, target, batch);
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    [Fact]
    public void BadArgumentsAreRejectedNamingTheKey()
    {
        var ex = Assert.Throws<ArgumentException>(() => new MultistepGdTask<double>(5, 20, 5, numIters: 0));
        Assert.Contains("num_iters = 0", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => new MultistepGdTask<double>(5, 20, 5, stepSize: -0.1));
        Assert.Contains("step_size = -0.1", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => new MultistepGdTask<double>(5, 20, 5, stepSize: double.NaN));
        Assert.Contains("step_size = NaN", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => new MultistepGdTask<double>(5, 20, 3));
        Assert.Contains("out_dims = 3", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => new MultistepGdTask<double>(5, 20, 5, new LeastSquaresOptions(scale_cond: double.NaN)));
        Assert.Contains("scale_cond", ex.Message);
        var task = new MultistepGdTask<double>(2, 3, 2, numIters: 2);
        ex = Assert.Throws<ArgumentException>(() =>
            task.BuildPrompt(new double[6], new double[2], new double[3], 1, new double[12], new double[2], new double[3]));
        Assert.Contains("iterates has 3", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => task.BuildPrompt(new double[6], new double[1], new double[3], 1, new double[12], new double[2]));
        Assert.Contains("xInit has 1", ex.Message);
    }
}

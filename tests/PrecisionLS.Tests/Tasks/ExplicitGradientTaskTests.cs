using MathNet.Numerics.LinearAlgebra;
using PrecisionLS.Numerics;
using PrecisionLS.Tasks;
using PrecisionLS.Tests.Fixtures;
using Xunit;

namespace PrecisionLS.Tests.Tasks;

public class ExplicitGradientTaskTests
{
    [Fact]
    public void MatchesFixture()
    {
        var fx = FixtureCase.Load("task_explicit_gradient");
        int batch = fx.ConfigInt("batch"), l = fx.ConfigInt("n_points"), d = fx.ConfigInt("n_dims"), o = fx.ConfigInt("out_dims");
        Assert.Equal("last", fx.ConfigString("setting"));
        double[] a = fx.Inputs["A"].Data, xInit = fx.Inputs["x_init"].Data, b = fx.Inputs["b"].Data, x = fx.Inputs["x"].Data;
        double[] modelOutput = fx.Inputs["model_output"].Data;   // [B, L+1, out_dims]

        // The fixture's b is A x (x is the hidden solution, unused by the task).
        var bx = new double[batch * l];
        for (int e = 0; e < batch; e++)
            for (int i = 0; i < l; i++)
                for (int j = 0; j < d; j++) bx[e * l + i] += a[(e * l + i) * d + j] * x[e * d + j];
        Compare.Close(b, bx, 1e-12, "b = A x");

        var task = new ExplicitGradientTask<double>(d, l, o);
        Assert.Equal("explicit_gradient", task.Name);
        Assert.Equal([l], task.ReadPositions.ToArray());
        var prompt = new double[batch * task.PromptLength * task.TokenDims];
        var target = new double[batch * task.TargetSize];
        task.BuildPrompt(a, xInit, b, batch, prompt, target);
        Compare.Close(fx.Outputs["prompt"], prompt, 1e-12, "prompt");
        Compare.Close(fx.Outputs["target"], target, 1e-12, "target");

        // training_loss reads model_output[:, -1:, :D].
        int rowLen = (l + 1) * o;
        var read = new double[batch * o];
        for (int e = 0; e < batch; e++) modelOutput.AsSpan(e * rowLen + l * o, o).CopyTo(read.AsSpan(e * o, o));
        var grad = new double[read.Length];
        double loss = task.Loss(read, target, batch, grad);
        Compare.Close(fx.Outputs["training_loss"].Data, [loss], 1e-12, "training_loss");

        // grads["input:model_output"] = upstream[training_loss] · d training_loss / d model_output: only
        // training_loss depends on model_output (target's upstream does not reach it); zero except the last token.
        double uLoss = fx.Upstream["training_loss"].Data[0];
        var gradFull = new double[modelOutput.Length];
        for (int e = 0; e < batch; e++)
            for (int c = 0; c < o; c++) gradFull[e * rowLen + l * o + c] = uLoss * grad[e * o + c];
        Compare.Close(fx.Grads["input:model_output"], gradFull, 1e-12, "grad model_output");

        // setting "all": target_all [B, L, D].
        var taskAll = new ExplicitGradientTask<double>(d, l, o, setting: "all");
        var targetAll = new double[batch * taskAll.TargetSize];
        var promptAll = new double[prompt.Length];
        taskAll.BuildPrompt(a, xInit, b, batch, promptAll, targetAll);
        Compare.Close(fx.Outputs["target_all"], targetAll, 1e-12, "target_all");
        Assert.Equal(prompt, promptAll);
    }

    [Fact]
    public void FixtureInputGradientsFollowFromTheLossGradient()
    {
        // The fixture's loss is Σ U_t·g + u·training_loss. With G = dLoss/dg = U_t - u · d training_loss / d out
        // (training_loss depends on -g), and g = (1/L) Aᵀ r, r = A x_init - b:
        // d/dx_init = (1/L) AᵀA G;  d/db = -(1/L) A G;  d/dA[i,:] = (1/L)(r_i G + (a_i·G) x_init).
        var fx = FixtureCase.Load("task_explicit_gradient");
        int batch = fx.ConfigInt("batch"), l = fx.ConfigInt("n_points"), d = fx.ConfigInt("n_dims");
        double[] a = fx.Inputs["A"].Data, xInit = fx.Inputs["x_init"].Data, b = fx.Inputs["b"].Data, mo = fx.Inputs["model_output"].Data;
        var task = new ExplicitGradientTask<double>(d, l, d);
        var prompt = new double[batch * task.PromptLength * task.TokenDims];
        var target = new double[batch * d];
        task.BuildPrompt(a, xInit, b, batch, prompt, target);
        var read = new double[batch * d];
        for (int e = 0; e < batch; e++) mo.AsSpan((e * (l + 1) + l) * d, d).CopyTo(read.AsSpan(e * d, d));
        var dOut = new double[batch * d];
        task.Loss(read, target, batch, dOut);

        double u = fx.Upstream["training_loss"].Data[0];
        double[] uTarget = fx.Upstream["target"].Data;
        var gA = new double[a.Length]; var gB = new double[b.Length]; var gX = new double[xInit.Length];
        for (int e = 0; e < batch; e++)
        {
            var am = Matrix<double>.Build.DenseOfRowMajor(l, d, a.AsSpan(e * l * d, l * d).ToArray());
            var xv = Vector<double>.Build.DenseOfArray(xInit.AsSpan(e * d, d).ToArray());
            var bv = Vector<double>.Build.DenseOfArray(b.AsSpan(e * l, l).ToArray());
            var gv = Vector<double>.Build.Dense(d, j => uTarget[e * d + j] - u * dOut[e * d + j]);
            var r = am * xv - bv;
            (am.TransposeThisAndMultiply(am * gv) / l).ToArray().CopyTo(gX, e * d);
            (-(am * gv) / l).ToArray().CopyTo(gB, e * l);
            var ag = am * gv;
            for (int i = 0; i < l; i++)
                for (int j = 0; j < d; j++) gA[(e * l + i) * d + j] = (r[i] * gv[j] + ag[i] * xv[j]) / l;
        }
        Compare.Close(fx.Grads["input:x_init"], gX, 1e-12, "grad x_init");
        Compare.Close(fx.Grads["input:b"], gB, 1e-12, "grad b");
        Compare.Close(fx.Grads["input:A"], gA, 1e-12, "grad A");
    }

    [Fact]
    public void WorkedExampleFromTheDocs()
    {
        var task = new ExplicitGradientTask<double>(1, 2, 1);
        var prompt = new double[3 * 2];
        var target = new double[1];
        task.BuildPrompt([1.0, 2.0], [0.0], [1.0, 2.0], 1, prompt, target);
        Assert.Equal([0.0, 0.0, 1.0, 1.0, 2.0, 2.0], prompt);
        Assert.Equal(-2.5, target[0]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SampleMatchesIndependentGradient(bool conditioned)
    {
        const int l = 20, d = 5, batch = 6;
        var opts = conditioned ? new LeastSquaresOptions(normalize_x: true, scale_target: 3, scale_cond: 50) : new LeastSquaresOptions();
        var task = new ExplicitGradientTask<double>(d, l, d, opts);
        Assert.Equal(l + 1, task.PromptLength);
        Assert.Equal(d + 1, task.TokenDims);
        var prompt = new double[batch * (l + 1) * (d + 1)];
        var target = new double[batch * d];
        task.Sample(new Rng(99), batch, prompt, target);

        // The same seed through the bare sampler gives the problems the prompt holds.
        var sampler = new LeastSquaresSampler<double>(d, l, opts);
        double[] a = new double[batch * l * d], xs = new double[batch * d], xi = new double[batch * d], b = new double[batch * l];
        sampler.Sample(new Rng(99), batch, a, xs, xi, b);

        for (int e = 0; e < batch; e++)
        {
            var p = prompt.AsSpan(e * (l + 1) * (d + 1), (l + 1) * (d + 1));
            Assert.Equal(xi.AsSpan(e * d, d).ToArray(), p[..d].ToArray());
            Assert.Equal(0.0, p[d]);
            for (int i = 0; i < l; i++)
            {
                Assert.Equal(a.AsSpan((e * l + i) * d, d).ToArray(), p.Slice((i + 1) * (d + 1), d).ToArray());
                Assert.Equal(b[e * l + i], p[(i + 1) * (d + 1) + d]);
            }
            var am = Matrix<double>.Build.DenseOfRowMajor(l, d, a.AsSpan(e * l * d, l * d).ToArray());
            var xv = Vector<double>.Build.DenseOfArray(xi.AsSpan(e * d, d).ToArray());
            var bv = Vector<double>.Build.DenseOfArray(b.AsSpan(e * l, l).ToArray());
            var g = am.TransposeThisAndMultiply(am * xv - bv) / l;     // (1/L) Aᵀ(A x_init - b)
            double scale = Math.Max(1, g.AbsoluteMaximum());
            for (int j = 0; j < d; j++) Assert.Equal(g[j], target[e * d + j], 1e-13 * scale);
            // Consistency: g = (1/L) AᵀA (x_init - x*), since b = A x*.
            var xsv = Vector<double>.Build.DenseOfArray(xs.AsSpan(e * d, d).ToArray());
            var g2 = am.TransposeThisAndMultiply(am * (xv - xsv)) / l;
            for (int j = 0; j < d; j++) Assert.Equal(g2[j], target[e * d + j], 1e-11 * scale);
        }
    }

    [Fact]
    public void AllSettingIsTheRunningMeanAndEndsAtTheLastTarget()
    {
        const int l = 7, d = 3, batch = 2;
        var last = new ExplicitGradientTask<double>(d, l, d);
        var all = new ExplicitGradientTask<double>(d, l, d, setting: "all");
        Assert.Equal(Enumerable.Range(1, l).ToArray(), all.ReadPositions.ToArray());
        Assert.Equal(l * d, all.TargetSize);
        var pLast = new double[batch * (l + 1) * (d + 1)]; var tLast = new double[batch * d];
        var pAll = new double[pLast.Length]; var tAll = new double[batch * l * d];
        last.Sample(new Rng(5), batch, pLast, tLast);
        all.Sample(new Rng(5), batch, pAll, tAll);
        Assert.Equal(pLast, pAll);
        for (int e = 0; e < batch; e++)
        {
            for (int j = 0; j < d; j++) Assert.Equal(tLast[e * d + j], tAll[(e * l + l - 1) * d + j], 1e-14);
            // Row 0 is the single-equation gradient a_1 (a_1·x_init - b_1).
            var p = pAll.AsSpan(e * (l + 1) * (d + 1));
            double r = -p[2 * (d + 1) - 1];
            for (int j = 0; j < d; j++) r += p[(d + 1) + j] * p[j];
            for (int j = 0; j < d; j++) Assert.Equal(p[(d + 1) + j] * r, tAll[e * l * d + j], 1e-14);
        }
    }

    [Theory]
    [InlineData("last")]
    [InlineData("all")]
    public void LossGradientMatchesFiniteDifferences(string setting)
    {
        const int l = 4, d = 3, batch = 2;
        var task = new ExplicitGradientTask<double>(d, l, d, setting: setting);
        var prompt = new double[batch * task.PromptLength * task.TokenDims];
        var target = new double[batch * task.TargetSize];
        task.Sample(new Rng(8), batch, prompt, target);
        var outp = new double[batch * task.ReadPositions.Length * d];
        new Rng(9).FillGaussian(outp.AsSpan());
        var grad = new double[outp.Length];
        double loss = task.Loss(outp, target, batch, grad);

        var scratch = new double[outp.Length];
        double direct = 0;
        for (int i = 0; i < outp.Length; i++) direct += (outp[i] - target[i]) * (outp[i] - target[i]);
        Assert.Equal(direct / outp.Length, loss, 1e-15);
        const double h = 1e-5;
        for (int i = 0; i < outp.Length; i++)
        {
            double keep = outp[i];
            outp[i] = keep + h; double up = task.Loss(outp, target, batch, scratch);
            outp[i] = keep - h; double down = task.Loss(outp, target, batch, scratch);
            outp[i] = keep;
            Assert.Equal((up - down) / (2 * h), grad[i], 1e-9);
        }
    }

    [Fact]
    public void SlicesWithTheBatchMeanAddUpToTheBatchLossAndGradient()
    {
        const int batch = 5;
        var task = new ExplicitGradientTask<double>(3, 4, 3);
        var prompt = new double[batch * task.PromptLength * task.TokenDims];
        var target = new double[batch * task.TargetSize];
        task.Sample(new Rng(8), batch, prompt, target);
        var outp = new double[batch * 3];
        new Rng(9).FillGaussian(outp.AsSpan());
        var grad = new double[outp.Length]; var sliced = new double[outp.Length];
        double loss = task.Loss(outp, target, batch, grad);
        double a = task.Loss(outp.AsSpan(0, 6), target.AsSpan(0, 6), 2, sliced.AsSpan(0, 6), meanBatch: batch);
        double b = task.Loss(outp.AsSpan(6), target.AsSpan(6), 3, sliced.AsSpan(6), meanBatch: batch);
        Assert.Equal(loss, a + b, 1e-15);
        Assert.Equal(grad, sliced);
        var ex = Assert.Throws<ArgumentException>(() => task.Loss(outp, target, batch, grad, meanBatch: 4));
        Assert.Contains("meanBatch = 4", ex.Message);
    }

    [Fact]
    public void EvaluateReportsTheMetrics()
    {
        const int l = 6, d = 4, batch = 3;
        var task = new ExplicitGradientTask<double>(d, l, d);
        var prompt = new double[batch * task.PromptLength * task.TokenDims];
        var target = new double[batch * d];
        task.Sample(new Rng(4), batch, prompt, target);
        Assert.Equal(new TaskMetrics(0, 0, 0), task.Evaluate(target, target, batch));
        var pred = target.Select((v, i) => v + 0.01 * (i % 3 - 1)).ToArray();
        var m = task.Evaluate(pred, target, batch);
        Assert.Equal(Metrics.Mse<double>(pred, target), m.Mse);
        Assert.Equal(Metrics.Rel<double>(pred, target), m.Rel);
        Assert.Equal(Metrics.RelL2<double>(pred, target), m.RelL2);
        Assert.Equal(task.Loss(pred, target, batch, new double[pred.Length]), m.Mse, 1e-18);
    }

    [Fact]
    public void SameSeedSameBatchDifferentSeedDifferent()
    {
        var task = new ExplicitGradientTask<double>(5, 20, 5, new LeastSquaresOptions(normalize_a: true));
        double[] p1 = new double[4 * 21 * 6], p2 = new double[p1.Length], p3 = new double[p1.Length];
        double[] t1 = new double[4 * 5], t2 = new double[t1.Length], t3 = new double[t1.Length];
        task.Sample(new Rng(1234), 4, p1, t1);
        task.Sample(new Rng(1234), 4, p2, t2);
        task.Sample(new Rng(4321), 4, p3, t3);
        Assert.Equal(p1, p2); Assert.Equal(t1, t2);
        Assert.NotEqual(p1, p3); Assert.NotEqual(t1, t3);
    }

    [Fact]
    public void FloatTaskRoundsTheDoubleTask()
    {
        const int l = 10, d = 4, batch = 3;
        var td = new ExplicitGradientTask<double>(d, l, d);
        var tf = new ExplicitGradientTask<float>(d, l, d);
        var pd = new double[batch * (l + 1) * (d + 1)]; var gd = new double[batch * d];
        var pf = new float[pd.Length]; var gf = new float[gd.Length];
        td.Sample(new Rng(17), batch, pd, gd);
        tf.Sample(new Rng(17), batch, pf, gf);
        Assert.Equal(pd.Select(v => (float)v), pf);
        Assert.Equal(gd.Select(v => (float)v), gf);   // targets computed in double, rounded once
        var gradF = new float[gf.Length];
        double loss = tf.Loss(gf, gf, batch, gradF);
        Assert.Equal(0.0, loss);
        Assert.All(gradF, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void SampleLossEvaluateAllocateNothingAfterTheFirstCall()
    {
        const int l = 20, d = 5, batch = 32;
        var task = new ExplicitGradientTask<double>(d, l, d, new LeastSquaresOptions(normalize_x: true));
        var prompt = new double[batch * task.PromptLength * task.TokenDims];
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
        var ex = Assert.Throws<ArgumentException>(() => new ExplicitGradientTask<double>(5, 20, 6));
        Assert.Contains("out_dims", ex.Message);
        Assert.Contains("n_dims", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => new ExplicitGradientTask<double>(5, 20, 5, setting: "first"));
        Assert.Contains("setting", ex.Message);
        Assert.Contains("'last'", ex.Message);
        Assert.Contains("'all'", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => new ExplicitGradientTask<double>(5, 20, 5, new LeastSquaresOptions(scale_cond: 0.9)));
        Assert.Contains("scale_cond", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => new ExplicitGradientTask<double>(5, 20, 5, new LeastSquaresOptions(scale_target: double.NaN)));
        Assert.Contains("scale_target", ex.Message);

        var task = new ExplicitGradientTask<double>(2, 3, 2);
        ex = Assert.Throws<ArgumentException>(() => task.Sample(new Rng(0), 2, new double[2 * 4 * 3 - 1], new double[4]));
        Assert.Contains("prompt", ex.Message);
        Assert.Throws<ArgumentException>(() => task.Loss(new double[3], new double[4], 2, new double[4]));
    }
}

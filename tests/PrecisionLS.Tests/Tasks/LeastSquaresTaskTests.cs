using PrecisionLS.Numerics;
using PrecisionLS.Tasks;
using PrecisionLS.Tests.Fixtures;
using Xunit;

namespace PrecisionLS.Tests.Tasks;

public class LeastSquaresTaskTests
{
    [Fact]
    public void MatchesFixture()
    {
        var fx = FixtureCase.Load("task_least_squares");
        int batch = fx.ConfigInt("batch"), l = fx.ConfigInt("n_points"), d = fx.ConfigInt("n_dims"), o = fx.ConfigInt("out_dims");
        double[] a = fx.Inputs["A"].Data, x = fx.Inputs["x"].Data, b = fx.Inputs["b"].Data, modelOutput = fx.Inputs["model_output"].Data;

        var task = new LeastSquaresTask<double>(d, l, o);
        Assert.Equal("least_squares", task.Name);
        Assert.Equal(l, task.PromptLength);
        Assert.Equal([l - 1], task.ReadPositions.ToArray());
        var prompt = new double[batch * task.PromptLength * task.TokenDims];
        var target = new double[batch * task.TargetSize];
        task.BuildPrompt(a, x, b, batch, prompt, target);
        Compare.Close(fx.Outputs["prompt"], prompt, 1e-12, "prompt");
        Compare.Close(fx.Outputs["target"], target, 1e-12, "target");

        // training_loss = mean((model_output[:, -1:, :D] - x)²); only it reaches model_output.
        var read = ReadRows.Gather(modelOutput, batch, l, o, task.ReadPositions);
        var grad = new double[read.Length];
        double loss = task.Loss(read, target, batch, grad);
        Compare.Close(fx.Outputs["training_loss"].Data, [loss], 1e-12, "training_loss");
        double u = fx.Upstream["training_loss"].Data[0];
        Compare.Close(fx.Grads["input:model_output"], ReadRows.Scatter(grad, batch, l, o, task.ReadPositions, u), 1e-12, "grad model_output");
    }

    [Fact]
    public void WorkedExampleFromTheDocs()
    {
        var task = new LeastSquaresTask<double>(1, 2, 1);
        var prompt = new double[2 * 2];
        var target = new double[1];
        task.BuildPrompt([1.0, 2.0], [3.0], [3.0, 6.0], 1, prompt, target);
        Assert.Equal([1.0, 3.0, 2.0, 6.0], prompt);
        Assert.Equal([3.0], target);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TargetSolvesTheConsistentSystemInThePrompt(bool conditioned)
    {
        const int l = 20, d = 5, batch = 6;
        var opts = conditioned ? new LeastSquaresOptions(normalize_a: true, normalize_x: true, scale_target: 2, scale_cond: 30) : null;
        var task = new LeastSquaresTask<double>(d, l, d, opts);
        var prompt = new double[batch * l * (d + 1)];
        var target = new double[batch * d];
        task.Sample(new Rng(12), batch, prompt, target);
        for (int e = 0; e < batch; e++)
            for (int i = 0; i < l; i++)
            {
                var token = prompt.AsSpan((e * l + i) * (d + 1), d + 1);
                double ax = 0;
                for (int j = 0; j < d; j++) ax += token[j] * target[e * d + j];
                Assert.True(Math.Abs(ax - token[d]) <= 1e-12 * Math.Max(1, Math.Abs(token[d])),
                    $"example {e}, equation {i}: a·x* = {ax:R}, b = {token[d]:R}");
            }

        // The same seed through the bare sampler gives the same problems; the target is x*.
        var sampler = new LeastSquaresSampler<double>(d, l, opts);
        double[] a = new double[batch * l * d], xs = new double[batch * d], xi = new double[batch * d], b = new double[batch * l];
        sampler.Sample(new Rng(12), batch, a, xs, xi, b);
        Assert.Equal(xs, target);
    }

    [Fact]
    public void CurriculumShrinksThePromptAndZeroesDeadDims()
    {
        const int l = 20, d = 5, batch = 3, points = 8, dims = 2;
        var task = new LeastSquaresTask<double>(d, l, d);
        task.SetSize(points, dims);
        Assert.Equal(points, task.PromptLength);
        Assert.Equal([points - 1], task.ReadPositions.ToArray());
        Assert.Equal(d, task.TargetSize);
        var prompt = new double[batch * points * (d + 1)];
        var target = new double[batch * d];
        task.Sample(new Rng(3), batch, prompt, target);
        for (int e = 0; e < batch; e++)
        {
            for (int j = 0; j < d; j++) Assert.Equal(j >= dims, target[e * d + j] == 0.0);
            for (int i = 0; i < points; i++)
            {
                var token = prompt.AsSpan((e * points + i) * (d + 1), d + 1);
                for (int j = 0; j < d; j++) Assert.Equal(j >= dims, token[j] == 0.0);
                Assert.NotEqual(0.0, token[d]);               // b stays in the last column
                Assert.Equal(token[0] * target[e * d] + token[1] * target[e * d + 1], token[d], 1e-12);
            }
        }
    }

    [Fact]
    public void WiderOutputReadsTheFirstDChannels()
    {
        const int batch = 2, d = 3, o = 5;
        var task = new LeastSquaresTask<double>(d, 4, o);
        var prompt = new double[batch * 4 * (d + 1)];
        var target = new double[batch * d];
        task.Sample(new Rng(1), batch, prompt, target);
        var outp = new double[batch * o];
        for (int e = 0; e < batch; e++) { target.AsSpan(e * d, d).CopyTo(outp.AsSpan(e * o)); outp[e * o + 3] = 7; outp[e * o + 4] = -7; }
        var grad = new double[outp.Length];
        Assert.Equal(0.0, task.Loss(outp, target, batch, grad));
        Assert.All(grad, g => Assert.Equal(0.0, g));
        Assert.Equal(new TaskMetrics(0, 0, 0), task.Evaluate(outp, target, batch));
    }

    [Fact]
    public void SampleAndLossAllocateNothingAfterTheFirstCall()
    {
        const int l = 20, d = 5, batch = 32;
        var task = new LeastSquaresTask<double>(d, l, d, new LeastSquaresOptions(normalize_x: true));
        var prompt = new double[batch * l * (d + 1)];
        var target = new double[batch * d];
        var outp = new double[batch * d]; var grad = new double[batch * d];
        var rng = new Rng(2);
        task.Sample(rng, batch, prompt, target);
        task.Loss(outp, target, batch, grad);
        long before = GC.GetAllocatedBytesForCurrentThread();
        task.Sample(rng, batch, prompt, target);
        task.Sample(rng, batch / 2, prompt, target);
        task.Loss(outp, target, batch, grad);
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    [Fact]
    public void BadArgumentsAreRejectedNamingTheKey()
    {
        var ex = Assert.Throws<ArgumentException>(() => new LeastSquaresTask<double>(5, 20, 4));
        Assert.Contains("out_dims = 4", ex.Message);
        Assert.Contains("at least 5", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => new LeastSquaresTask<double>(0, 20, 4));
        Assert.Contains("n_dims = 0", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => new LeastSquaresTask<double>(5, 0, 5));
        Assert.Contains("n_points = 0", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => new LeastSquaresTask<double>(5, 20, 5, new LeastSquaresOptions(scale_cond: 0.5)));
        Assert.Contains("scale_cond", ex.Message);
        var task = new LeastSquaresTask<double>(2, 3, 2);
        ex = Assert.Throws<ArgumentException>(() => task.SetSize(4, 2));
        Assert.Contains("points = 4", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => task.Sample(new Rng(0), 2, new double[2 * 3 * 3], new double[3]));
        Assert.Contains("target", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => task.BuildPrompt(new double[5], new double[2], new double[3], 1, new double[9], new double[2]));
        Assert.Contains("a has 5", ex.Message);
    }
}

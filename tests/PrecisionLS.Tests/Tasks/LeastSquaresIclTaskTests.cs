using PrecisionLS.Numerics;
using PrecisionLS.Tasks;
using PrecisionLS.Tests.Fixtures;
using Xunit;

namespace PrecisionLS.Tests.Tasks;

public class LeastSquaresIclTaskTests
{
    [Fact]
    public void NeighboringMatchesFixture()
    {
        var fx = FixtureCase.Load("task_least_squares_icl");
        int batch = fx.ConfigInt("batch"), l = fx.ConfigInt("n_points"), d = fx.ConfigInt("n_dims"), o = fx.ConfigInt("out_dims");
        Assert.Equal("neighboring", fx.ConfigString("setting"));
        double[] a = fx.Inputs["A"].Data, b = fx.Inputs["b"].Data, modelOutput = fx.Inputs["model_output"].Data;

        var task = new LeastSquaresIclTask<double>(d, l, o);
        Assert.Equal("least_squares_icl", task.Name);
        Assert.Equal("neighboring", task.Setting);
        Assert.Equal(2 * l - 1, task.PromptLength);
        Assert.Equal(Enumerable.Range(0, l).Select(i => 2 * i).ToArray(), task.ReadPositions.ToArray());
        Assert.Equal((o - 1, 1), (task.ReadChannelStart, task.ReadChannelCount));
        var prompt = new double[batch * task.PromptLength * task.TokenDims];
        var target = new double[batch * task.TargetSize];
        task.BuildPrompt(a, b, batch, prompt, target);
        Compare.Close(fx.Outputs["prompt"], prompt, 1e-12, "prompt");
        Compare.Close(fx.Outputs["target"], target, 1e-12, "target");

        // training_loss = mean((model_output[:, 0::2, -1:] - b)²).
        var read = ReadRows.Gather(modelOutput, batch, 2 * l - 1, o, task.ReadPositions);
        var grad = new double[read.Length];
        double loss = task.Loss(read, target, batch, grad);
        Compare.Close(fx.Outputs["training_loss"].Data, [loss], 1e-12, "training_loss");
        double u = fx.Upstream["training_loss"].Data[0];
        Compare.Close(fx.Grads["input:model_output"], ReadRows.Scatter(grad, batch, 2 * l - 1, o, task.ReadPositions, u), 1e-12,
            "grad model_output");
    }

    [Fact]
    public void ConcatMatchesTheFixtureAuxLayout()
    {
        var fx = FixtureCase.Load("task_least_squares_icl");
        int batch = fx.ConfigInt("batch"), l = fx.ConfigInt("n_points"), d = fx.ConfigInt("n_dims"), o = fx.ConfigInt("out_dims");
        var task = new LeastSquaresIclTask<double>(d, l, o, setting: "concat");
        Assert.Equal(l, task.PromptLength);
        Assert.Equal([l - 1], task.ReadPositions.ToArray());
        var prompt = new double[batch * task.PromptLength * task.TokenDims];
        var target = new double[batch * task.TargetSize];
        task.BuildPrompt(fx.Inputs["A"].Data, fx.Inputs["b"].Data, batch, prompt, target);
        Compare.Close(fx.Outputs["prompt_concat"], prompt, 1e-12, "prompt_concat");
        Compare.Close(fx.Outputs["target_concat"], target, 1e-12, "target_concat");
    }

    [Fact]
    public void WorkedExampleFromTheDocs()
    {
        var neighboring = new LeastSquaresIclTask<double>(1, 2, 1);
        var prompt = new double[3 * 2];
        var target = new double[2];
        neighboring.BuildPrompt([1.0, 2.0], [3.0, 6.0], 1, prompt, target);
        Assert.Equal([1.0, 0.0, 0.0, 3.0, 2.0, 0.0], prompt);
        Assert.Equal([3.0, 6.0], target);
        Assert.Equal([0, 2], neighboring.ReadPositions.ToArray());

        var concat = new LeastSquaresIclTask<double>(1, 2, 1, setting: "concat");
        prompt = new double[2 * 2];
        target = new double[1];
        concat.BuildPrompt([1.0, 2.0], [3.0, 6.0], 1, prompt, target);
        Assert.Equal([1.0, 3.0, 2.0, 0.0], prompt);
        Assert.Equal([6.0], target);
        Assert.Equal([1], concat.ReadPositions.ToArray());
    }

    [Theory]
    [InlineData("neighboring")]
    [InlineData("concat")]
    public void SampleHoldsTheSamplersProblemsAndReadsTheLastChannel(string setting)
    {
        const int l = 10, d = 4, batch = 3, o = 3;
        var task = new LeastSquaresIclTask<double>(d, l, o, setting: setting);
        Assert.Equal(o - 1, task.ReadChannelStart);
        var prompt = new double[batch * task.PromptLength * (d + 1)];
        var target = new double[batch * task.TargetSize];
        task.Sample(new Rng(8), batch, prompt, target);

        var sampler = new LeastSquaresSampler<double>(d, l);
        double[] a = new double[batch * l * d], xs = new double[batch * d], xi = new double[batch * d], b = new double[batch * l];
        sampler.Sample(new Rng(8), batch, a, xs, xi, b);
        var expectedPrompt = new double[prompt.Length];
        var expectedTarget = new double[target.Length];
        task.BuildPrompt(a, b, batch, expectedPrompt, expectedTarget);
        Assert.Equal(expectedPrompt, prompt);
        Assert.Equal(expectedTarget, target);

        // Every a_i in the prompt predicts its target through the hidden x*: b_i = a_i·x*.
        int stride = setting == "neighboring" ? 2 : 1, reads = task.ReadPositions.Length;
        for (int e = 0; e < batch; e++)
            for (int r = 0; r < reads; r++)
            {
                int i = setting == "neighboring" ? r : l - 1;
                var token = prompt.AsSpan((e * task.PromptLength + i * stride) * (d + 1), d + 1);
                double ax = 0;
                for (int j = 0; j < d; j++) ax += token[j] * xs[e * d + j];
                Assert.Equal(ax, target[e * reads + r], 1e-12);
            }

        // The loss reads only the last output channel.
        var outp = new double[batch * reads * o];
        new Rng(4).FillGaussian(outp.AsSpan());
        for (int row = 0; row < batch * reads; row++) outp[row * o + o - 1] = target[row];
        var grad = new double[outp.Length];
        Assert.Equal(0.0, task.Loss(outp, target, batch, grad));
        Assert.All(grad, g => Assert.Equal(0.0, g));
        outp[o - 1] += 1.0;
        task.Loss(outp, target, batch, grad);
        Assert.Equal(2.0 / (batch * reads), grad[o - 1], 1e-15);
        Assert.Equal(0.0, grad[0]);
    }

    [Fact]
    public void CurriculumShrinksThePromptAndZeroesDeadDims()
    {
        const int l = 20, d = 5, batch = 2, points = 6, dims = 3;
        var task = new LeastSquaresIclTask<double>(d, l, 1);
        Assert.Equal(39, task.MaxPromptLength);          // the authors' n_positions for L = 20
        Assert.Equal(20, task.MaxReadCount);
        task.SetSize(points, dims);
        Assert.Equal(2 * points - 1, task.PromptLength);
        Assert.Equal([0, 2, 4, 6, 8, 10], task.ReadPositions.ToArray());
        var prompt = new double[batch * task.PromptLength * (d + 1)];
        var target = new double[batch * points];
        task.Sample(new Rng(5), batch, prompt, target);
        for (int e = 0; e < batch; e++)
            for (int t = 0; t < task.PromptLength; t++)
            {
                var token = prompt.AsSpan((e * task.PromptLength + t) * (d + 1), d + 1);
                for (int j = 0; j < d; j++) Assert.Equal(t % 2 == 0 && j < dims, token[j] != 0.0);
                Assert.Equal(t % 2 == 1, token[d] != 0.0);
                if (t % 2 == 1) Assert.Equal(target[e * points + t / 2], token[d]);   // b_i shown after a_i
            }
    }

    [Fact]
    public void SampleAndLossAllocateNothingAfterTheFirstCall()
    {
        const int l = 20, d = 5, batch = 32;
        foreach (string setting in LeastSquaresIclTask<double>.Settings)
        {
            var task = new LeastSquaresIclTask<double>(d, l, 1, setting: setting);
            var prompt = new double[batch * task.PromptLength * (d + 1)];
            var target = new double[batch * task.TargetSize];
            var outp = new double[batch * task.TargetSize]; var grad = new double[outp.Length];
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
    }

    [Fact]
    public void BadArgumentsAreRejectedNamingTheKey()
    {
        var ex = Assert.Throws<ArgumentException>(() => new LeastSquaresIclTask<double>(5, 20, 1, setting: "interleaved"));
        Assert.Contains("setting = 'interleaved'", ex.Message);
        Assert.Contains("'neighboring'", ex.Message);
        Assert.Contains("'concat'", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => new LeastSquaresIclTask<double>(5, 20, 0));
        Assert.Contains("out_dims = 0", ex.Message);
        Assert.Contains("at least 1", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => new LeastSquaresIclTask<double>(5, 20, 1, new LeastSquaresOptions(scale_target: double.NaN)));
        Assert.Contains("scale_target", ex.Message);
        var task = new LeastSquaresIclTask<double>(2, 3, 1);
        ex = Assert.Throws<ArgumentException>(() => task.Sample(new Rng(0), 1, new double[14], new double[3]));
        Assert.Contains("prompt has 14", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => task.BuildPrompt(new double[6], new double[2], 1, new double[15], new double[3]));
        Assert.Contains("b has 2", ex.Message);
    }
}

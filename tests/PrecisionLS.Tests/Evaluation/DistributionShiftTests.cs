using MathNet.Numerics.LinearAlgebra;
using PrecisionLS.Config;
using PrecisionLS.Evaluation;
using PrecisionLS.Numerics;
using PrecisionLS.Solvers;
using PrecisionLS.Tasks;
using Xunit;

namespace PrecisionLS.Tests.Evaluation;

/// <summary>Parsing and applying eval's distribution shifts: what each sets, and the one-line refusals.</summary>
public class DistributionShiftTests
{
    private static readonly RunConfig Eg = ConfigLoader.FromPreset("explicit-gradient");

    [Fact]
    public void Parse_gives_one_shift_per_value()
    {
        var s = DistributionShift.Parse("cond=1,10,100,1000");
        Assert.Equal([1.0, 10, 100, 1000], s.Select(x => x.Value));
        Assert.All(s, x => Assert.Equal("cond", x.Kind));
        Assert.Equal("scale=0.1", DistributionShift.Parse("scale=0.1,1")[0].Label);
        Assert.Equal("points=15", DistributionShift.Parse("points=10,15")[1].Label);
    }

    [Theory]
    [InlineData("noise=0.1", "--shift 'noise=0.1': unknown shift 'noise'; accepted: cond, scale, points, dims (as KIND=V1,V2,...)")]
    [InlineData("cond", "--shift 'cond': give values as cond=V1,V2,... (e.g. cond=1,10,100,1000)")]
    [InlineData("cond=", "--shift 'cond=': give values as cond=V1,V2,... (e.g. cond=1,10,100,1000)")]
    [InlineData("scale=1,x", "--shift scale: 'x' is not a finite number (e.g. scale=0.1,1,10)")]
    [InlineData("points=10.5", "--shift points=10.5: points must be a positive integer (e.g. points=10,15)")]
    [InlineData("dims=0", "--shift dims=0: dims must be a positive integer (e.g. dims=3,4)")]
    public void Parse_rejects_bad_arguments_with_one_line(string spec, string message)
    {
        var e = Assert.Throws<ConfigException>(() => DistributionShift.Parse(spec));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void A_cond_shift_gives_problems_with_exactly_that_condition_number()
    {
        foreach (double kappa in new[] { 1.0, 10, 1000 })
        {
            var shifted = new DistributionShift("cond", kappa).Apply(Eg);
            Assert.Null(shifted.Dims);
            // The problems eval's batches hold: the task's own prompts, tokens 1..L = [a_i, b_i].
            var task = TaskCatalog.Create<double>(shifted.Config);
            int l = task.Points, d = task.MaxDims, w = task.TokenDims, batch = 8;
            var prompt = new double[batch * task.PromptLength * w];
            task.Sample(Rng.Derive(5, RunEvaluator.SeedLabel), batch, prompt, new double[batch * task.TargetSize]);
            for (int e = 0; e < batch; e++)
            {
                var a = Matrix<double>.Build.Dense(l, d, (i, j) => prompt[(e * task.PromptLength + 1 + i) * w + j]);
                var s = a.Svd(computeVectors: false).S;
                Assert.Equal(kappa, s.Maximum() / s.Minimum(), 1e-9 * kappa);
                Assert.Equal(1.0, s.Minimum(), 1e-12);
            }
            // ProblemSet draws the same problems from the same stream.
            var set = ProblemSet.ForRun(shifted.Config, batch, 5);
            for (int i = 0; i < l * d; i++) Assert.Equal(set.AOf(0)[i], prompt[(1 + i / d) * w + i % d]);
        }
    }

    [Fact]
    public void A_scale_shift_scales_x_star_and_x_init_of_the_same_draws()
    {
        var plain = ProblemSet.ForRun(Eg, 4, 9);
        var shifted = ProblemSet.ForRun(new DistributionShift("scale", 10).Apply(Eg).Config, 4, 9);
        Assert.Equal(plain.A, shifted.A);
        for (int i = 0; i < plain.XStar.Length; i++)
        {
            Assert.Equal(10 * plain.XStar[i], shifted.XStar[i], 1e-14);
            Assert.Equal(10 * plain.XInit[i], shifted.XInit[i], 1e-14);
        }
        // Gaussian data: scale multiplies the tokens.
        var lin = ConfigLoader.FromPreset("primitives-linear");
        Assert.Equal("0.5", new DistributionShift("scale", 0.5).Apply(lin).Config.Training.DataKwargs["scale"]);
    }

    [Fact]
    public void Points_and_dims_shifts_resize_the_task()
    {
        var p = new DistributionShift("points", 12).Apply(Eg);
        Assert.Equal(12, p.Config.Training.NPoints);
        Assert.Equal(13, TaskCatalog.Create<double>(p.Config).PromptLength);

        var d = new DistributionShift("dims", 3).Apply(Eg);
        Assert.Equal(3, d.Dims);
        var task = TaskCatalog.Create<double>(d.Config);
        task.SetSize(task.MaxPoints, 3);
        var prompt = new double[2 * task.PromptLength * task.TokenDims];
        task.Sample(new Rng(1), 2, prompt, new double[2 * task.TargetSize]);
        for (int t = 0; t < 2 * task.PromptLength; t++)           // unknowns 3 and 4 are dead in every token
        {
            Assert.Equal(0.0, prompt[t * task.TokenDims + 3]);
            Assert.Equal(0.0, prompt[t * task.TokenDims + 4]);
        }
    }

    [Fact]
    public void Shifts_that_do_not_fit_the_task_or_model_are_refused_with_one_line()
    {
        var lin = ConfigLoader.FromPreset("primitives-linear");
        var e = Assert.Throws<ConfigException>(() => new DistributionShift("cond", 10).Apply(lin));
        Assert.Equal("shift 'cond' does not apply to task 'linear' (data 'gaussian': Gaussian tokens, no matrix to condition); it accepts: scale, points, dims", e.Message);

        var ode = ConfigLoader.FromPreset("ode-icl");
        e = Assert.Throws<ConfigException>(() => new DistributionShift("dims", 3).Apply(ode));
        Assert.StartsWith("shift 'dims' does not apply to task 'ode_icl_final' (data 'ode_operator': no matrix to condition, and n_dims sets the token width)", e.Message);
        Assert.EndsWith("it accepts: points", e.Message);

        e = Assert.Throws<ConfigException>(() => new DistributionShift("points", 25).Apply(Eg));
        Assert.Equal("shift points=25: task 'explicit_gradient' prompts would have 26 tokens but the model has model.n_positions = 21; points up to 20 fit", e.Message);

        e = Assert.Throws<ConfigException>(() => new DistributionShift("dims", 6).Apply(Eg));
        Assert.Equal("shift dims=6: task 'explicit_gradient' has model.n_dims = 5; accepted dims: 1..5", e.Message);

        e = Assert.Throws<ConfigException>(() => new DistributionShift("cond", 0.5).Apply(Eg));
        Assert.StartsWith("shift cond=0.5: ", e.Message);
        Assert.Contains("scale_cond = 0.5", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.DoesNotContain("(Parameter", e.Message);     // .NET's argument-name suffix is dropped

        e = Assert.Throws<ConfigException>(() => TaskCatalog.LeastSquaresOptionsFrom(new() { ["scale_cond"] = 0.5 }));
        Assert.StartsWith("training.data_kwargs.", e.Message);
        Assert.Contains("scale_cond = 0.5", e.Message);
        Assert.DoesNotContain("(Parameter", e.Message);
    }
}

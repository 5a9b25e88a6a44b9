using PrecisionLS.Config;
using PrecisionLS.Nn;
using PrecisionLS.Numerics;
using PrecisionLS.Solvers;
using PrecisionLS.Tasks;
using Xunit;

namespace PrecisionLS.Tests.Solvers;

/// <summary>The exact-weight constructions compute one gradient of least squares in one forward pass.</summary>
public class GradientStepConstructionTests
{
    public static TheoryData<string, int, int> Cases() => new()
    {
        { "baseconv-gd", 5, 20 }, { "baseconv-gd", 3, 7 }, { "baseconv-gd", 7, 10 },
        { "linear-attention-gd", 5, 20 }, { "linear-attention-gd", 3, 7 }, { "linear-attention-gd", 10, 30 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void One_pass_matches_the_exact_gradient_to_1e14(string name, int dims, int points)
    {
        var cfg = GradientStepConstruction.Config(name, dims, points);
        var model = new SequenceModel<double>(cfg.Model);
        GradientStepConstruction.Apply(name, model);
        var task = TaskCatalog.Create<double>(cfg);
        const int batch = 64;
        var prompt = new double[batch * task.PromptLength * task.TokenDims];
        var target = new double[batch * task.TargetSize];
        task.Sample(new Rng(11), batch, prompt, target);
        var y = new double[target.Length];
        model.Forward(prompt, batch, task.PromptLength, task.ReadPositions, y);
        double worst = 0;
        for (int i = 0; i < y.Length; i++) worst = Math.Max(worst, Math.Abs(y[i] - target[i]) / (1 + Math.Abs(target[i])));
        Assert.True(worst < 1e-14, $"{name} D={dims} L={points}: max relative error {worst:e3}");
    }

    [Fact]
    public void Perturbation_moves_the_chosen_weights_by_seeded_noise_and_the_error_grows_with_its_size()
    {
        var cfg = GradientStepConstruction.Config("baseconv-gd", 3, 7);
        SequenceModel<double> Built() { var m = new SequenceModel<double>(cfg.Model); GradientStepConstruction.Apply("baseconv-gd", m); return m; }
        var exact = Built().Store.Values;
        var all = Built(); var support = Built(); var again = Built();
        long nAll = GradientStepConstruction.Perturb(all, 1e-3, supportOnly: false, seed: 5);
        long nSupport = GradientStepConstruction.Perturb(support, 1e-3, supportOnly: true, seed: 5);
        GradientStepConstruction.Perturb(again, 1e-3, supportOnly: false, seed: 5);
        Assert.Equal(all.Store.Values, again.Store.Values);
        Assert.Equal(all.Store.Parameters.Where(p => p.Trainable).Sum(p => (long)p.Length), nAll);
        Assert.Equal(exact.Count(v => v != 0), nSupport);
        for (int i = 0; i < exact.Length; i++)
        {
            if (exact[i] == 0) Assert.Equal(0.0, support.Store.Values[i]);
            else Assert.Equal(all.Store.Values[i], support.Store.Values[i]);   // the same draw for the same entry
        }
        double rms = Math.Sqrt(exact.Select((v, i) => (all.Store.Values[i] - v) * (all.Store.Values[i] - v)).Average());
        Assert.InRange(rms, 0.9e-3, 1.1e-3);

        // Near the exact solution the output error is linear in the perturbation: MSE scales as eps².
        var task = TaskCatalog.Create<double>(cfg);
        var prompt = new double[256 * task.PromptLength * task.TokenDims];
        var target = new double[256 * task.TargetSize];
        task.Sample(new Rng(3), 256, prompt, target);
        double Mse(double eps)
        {
            var m = Built();
            GradientStepConstruction.Perturb(m, eps, supportOnly: false, seed: 9);
            var y = new double[target.Length];
            m.Forward(prompt, 256, task.PromptLength, task.ReadPositions, y);
            return y.Select((v, i) => (v - target[i]) * (v - target[i])).Average();
        }
        double ratio = Mse(1e-5) / Mse(1e-6);
        Assert.InRange(ratio, 80, 120);
        Assert.True(Mse(0) < 1e-28);
        Assert.Throws<ArgumentOutOfRangeException>(() => GradientStepConstruction.Perturb(Built(), -1, false, 1));
    }

    [Fact]
    public void The_preset_widths_hold_the_constructions_and_wrong_architectures_are_refused()
    {
        Assert.Equal(64, GradientStepConstruction.Config("baseconv-gd", 5, 20).Model.NEmbd);
        Assert.Equal(256, GradientStepConstruction.Config("linear-attention-gd", 5, 20).Model.NEmbd);
        Assert.Equal(7 * 7 + 4 * 7 + 1, GradientStepConstruction.Config("baseconv-gd", 7, 10).Model.NEmbd);   // widened past 64

        var ln = ConfigLoader.FromPreset("explicit-gradient", ["model.use_final_ln=true"]);
        var e = Assert.Throws<ConfigException>(() => GradientStepConstruction.Apply("baseconv-gd", new SequenceModel<double>(ln.Model)));
        Assert.Contains("LayerNorm", e.Message);
        var attn = ConfigLoader.FromPreset("explicit-gradient-linattn");
        e = Assert.Throws<ConfigException>(() => GradientStepConstruction.Apply("baseconv-gd", new SequenceModel<double>(attn.Model)));
        Assert.Contains("model.seq_op", e.Message);
        Assert.Contains("accepted: baseconv-gd, linear-attention-gd", Assert.Throws<ConfigException>(() => GradientStepConstruction.PresetOf("mlp-gd")).Message);
    }
}

/// <summary>A constructed gradient model iterated as a solver follows exact gradient descent.</summary>
public class LearnedIterationTests
{
    private static (SequenceModel<double> Model, RunConfig Config) Constructed(string name)
    {
        var cfg = GradientStepConstruction.Config(name, 5, 20);
        var model = new SequenceModel<double>(cfg.Model);
        GradientStepConstruction.Apply(name, model);
        return (model, cfg);
    }

    [Theory]
    [InlineData("baseconv-gd")]
    [InlineData("linear-attention-gd")]
    public void Hundred_iterations_match_hundred_exact_gd_steps_to_1e12(string name)
    {
        var (model, cfg) = Constructed(name);
        var problems = ProblemSet.ForRun(cfg, 32, seed: 5);
        var r = LearnedIteration.Run(model, cfg, problems, 100, eta: null);
        double worst = r.X.Zip(r.XGd, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst < 1e-12, $"max |x_model - x_gd| = {worst:e3}");
        Assert.True(r.FinalMse < 1e-6 * r.ModelMse[0], $"mse {r.ModelMse[0]:e2} -> {r.FinalMse:e2}");
        // Root-mean-square errors agree to the iterates' own agreement.
        for (int i = 1; i <= 100; i++) Assert.True(Math.Abs(Math.Sqrt(r.ModelMse[i]) - Math.Sqrt(r.GdMse[i])) < 1e-12, $"iteration {i}: {r.ModelMse[i]:e6} vs {r.GdMse[i]:e6}");
    }

    [Fact]
    public void Iterating_the_baseconv_construction_reaches_1e24_mse_in_float64()
    {
        var (model, cfg) = Constructed("baseconv-gd");
        var r = LearnedIteration.Run(model, cfg, ProblemSet.ForRun(cfg, 16, seed: 9), 2000, eta: null);
        Assert.True(r.FinalMse < 1e-24, $"final mse {r.FinalMse:e3} (gd {r.GdFinalMse:e3})");
    }

    [Fact]
    public void A_fixed_step_follows_the_closed_form_and_a_wrong_task_is_refused()
    {
        var (model, cfg) = Constructed("baseconv-gd");
        var problems = ProblemSet.ForRun(cfg, 4, seed: 1);
        var r = LearnedIteration.Run(model, cfg, problems, 3, eta: 0.1);
        // By hand: three steps x <- x - 0.1 g(x) in float64.
        var x = problems.XInit.ToArray(); var g = new double[5];
        for (int s = 0; s < 3; s++)
            for (int i = 0; i < 4; i++) { problems.Gradient(i, x.AsSpan(i * 5, 5), g); for (int c = 0; c < 5; c++) x[i * 5 + c] -= 0.1 * g[c]; }
        Assert.Equal(x, r.XGd);
        Assert.Equal(problems.Mse(x), r.GdFinalMse);

        var ls = ConfigLoader.FromPreset("least-squares", ["model.n_layer=1", "model.n_embd=16", "model.n_head=2"]);
        var e = Assert.Throws<ConfigException>(() => LearnedIteration.Run(new SequenceModel<double>(ls.Model), ls, ProblemSet.ForRun(ls, 2, 1), 1, null));
        Assert.Contains("explicit_gradient or multistep_gd", e.Message);
    }
}

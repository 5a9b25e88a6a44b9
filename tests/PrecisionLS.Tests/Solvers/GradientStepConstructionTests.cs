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

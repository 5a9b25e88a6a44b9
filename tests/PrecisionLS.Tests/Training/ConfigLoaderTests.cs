using PrecisionLS.Config;
using Xunit;

namespace PrecisionLS.Tests.Training;

public class ConfigLoaderTests
{
    [Fact]
    public void Preset_loads_the_recipe_and_overrides_come_last()
    {
        var c = ConfigLoader.FromPreset("explicit-gradient", ["training.learning_rate=3e-3", "model.n_layer=4"]);
        Assert.Equal(3e-3, c.Training.LearningRate);
        Assert.Equal(4, c.Model.NLayer);
        Assert.Equal(1e-16, c.Training.AdamEps);
        Assert.Equal(0.98, c.Training.EmaDecay);
        Assert.Equal(21, c.Model.NPositions);
        Assert.Equal("last", c.Training.TaskKwargs["setting"]);
    }

    [Fact]
    public void Resolved_yaml_round_trips()
    {
        var c = ConfigLoader.FromPreset("explicit-gradient", ["training.seed=42", "training.data_kwargs.scale_cond=5"]);
        var back = ConfigLoader.FromYaml(ConfigLoader.ToYaml(c), "test");
        Assert.Equal(c.Model, back.Model);
        Assert.Equal(ConfigLoader.ToYaml(c), ConfigLoader.ToYaml(back));
        Assert.Equal("explicit-gradient", back.Preset);
    }

    [Fact]
    public void Inherit_merges_parent_then_child()
    {
        string dir = Path.Combine(Path.GetTempPath(), "pls-cfg-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            File.WriteAllText(Path.Combine(dir, "child.yaml"), "inherit: explicit-gradient\ntraining:\n  batch_size: 64\n");
            var c = ConfigLoader.FromFile(Path.Combine(dir, "child.yaml"));
            Assert.Equal(64, c.Training.BatchSize);
            Assert.Equal(0.01, c.Training.LearningRate);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData("training.lr=1", "unknown key 'training.lr'")]
    [InlineData("training.batch_size=abc", "training.batch_size = 'abc' is not an integer")]
    [InlineData("model.causal=maybe", "is not a boolean")]
    [InlineData("learning_rate=1", "must name a section")]
    public void Bad_overrides_name_the_key(string assignment, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.FromPreset("explicit-gradient", [assignment]));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Unknown_preset_lists_the_available_ones()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.FromPreset("nope"));
        Assert.Contains("explicit-gradient", e.Message);
    }

    [Fact]
    public void Invalid_models_are_rejected_naming_the_key()
    {
        var e = Assert.Throws<ConfigException>(() => new PrecisionLS.Nn.SequenceModel<double>(
            ConfigLoader.FromPreset("explicit-gradient", ["model.seq_op=rnn"]).Model));
        Assert.Contains("model.seq_op 'rnn'", e.Message);
        var e2 = Assert.Throws<ConfigException>(() => new PrecisionLS.Nn.SequenceModel<double>(
            ConfigLoader.FromPreset("explicit-gradient", ["model.seq_op=attn", "model.n_head=3"]).Model));
        Assert.Contains("not divisible", e2.Message);
    }
}

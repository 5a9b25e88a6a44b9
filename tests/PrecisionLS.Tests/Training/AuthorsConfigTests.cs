using PrecisionLS.Config;
using Xunit;

namespace PrecisionLS.Tests.Training;

/// <summary>Configs written in the authors' format load as they are; mistakes name the key, file and line.</summary>
[Collection(nameof(SharedPoolCollection))]   // Console.SetOut is process-wide
public class AuthorsConfigTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "pls-authors-" + Guid.NewGuid().ToString("N"));

    public AuthorsConfigTests() => Directory.CreateDirectory(_dir);
    public void Dispose() => Directory.Delete(_dir, true);

    private string Write(string name, string text) { var p = Path.Combine(_dir, name); File.WriteAllText(p, text); return p; }

    private const string Base = """
        model:
            family: gpt2
            n_embd: 64
            n_layer: 12
            n_head: 1
            seq_op: base_conv
            use_bias: True
        training:
            batch_size: 1024
            learning_rate: 0.01
            scheduler_steprate: 10000
        """;

    private const string Child = """
        inherit:
            - base.yaml
        model:
            n_layer: 3
            n_dims: 5
            in_dims: 6
            out_dims: 5
            n_positions: 21
        training:
            task: explicit_gradient
            task_kwargs: {"setting" : "last"}
            scheduler_steprate: 3000
            scheduler_gamma: 0.9
            curriculum:
                points: {start: 20, end: 20, inc: 2, interval: 3000}
            keep_every_steps: 10000
        autoname: False
        out_dir: models/task=explicitgradient
        wandb:
            name: "task=explicitgradient"
        """;

    [Fact]
    public void The_authors_layout_loads_with_their_key_names_and_notes_for_logging_keys()
    {
        Write("base.yaml", Base);
        var c = ConfigLoader.FromFile(Write("child.yaml", Child));
        Assert.Equal(3, c.Model.NLayer);                    // the file overrides what it inherits
        Assert.Equal(64, c.Model.NEmbd);                    // inherited
        Assert.Equal(3000, c.Training.StepRate);            // scheduler_steprate, child over base
        Assert.Equal(0.9, c.Training.Gamma);
        Assert.Equal(20, c.Training.ResolvedNPoints);
        Assert.Equal("models/task=explicitgradient", c.OutDir);
        Assert.Contains(c.Notes, n => n.StartsWith("'wandb' is ignored", StringComparison.Ordinal));
        Assert.Contains(c.Notes, n => n.StartsWith("'training.keep_every_steps' is ignored", StringComparison.Ordinal));
        Assert.Contains(c.Notes, n => n.StartsWith("'autoname' is ignored", StringComparison.Ordinal));
    }

    [Fact]
    public void Unknown_keys_name_the_file_the_line_and_the_closest_key()
    {
        Write("base.yaml", Base.Replace("learning_rate: 0.01", "learning_rat: 0.01"));
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.FromFile(Write("child.yaml", Child)));
        Assert.Contains("unknown key 'training.learning_rat'", e.Message);
        Assert.Contains("base.yaml', line 10)", e.Message);
        Assert.Contains("did you mean 'learning_rate'?", e.Message);
    }

    [Fact]
    public void Bad_values_name_where_they_were_written()
    {
        Write("base.yaml", Base);
        var path = Write("child.yaml", Child);
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.FromFile(path, ["training.batch_size=many"]));
        Assert.Equal("training.batch_size = 'many' is not an integer (--set training.batch_size)", e.Message);
        Write("base.yaml", Base.Replace("use_bias: True", "use_bias: False"));
        e = Assert.Throws<ConfigException>(() => ConfigLoader.FromFile(path));
        Assert.Contains("model.use_bias = 'False'", e.Message);
        Write("base.yaml", Base.Replace("scheduler_steprate: 10000", "step_rate: 10000\n    scheduler_steprate: 5"));
        e = Assert.Throws<ConfigException>(() => ConfigLoader.FromFile(path));
        Assert.Contains("set the same value; keep one", e.Message);
    }

    [Fact]
    public void Config_show_prints_the_resolved_yaml_and_fails_on_errors()
    {
        Write("base.yaml", Base);
        var path = Write("child.yaml", Child);
        var outp = new StringWriter(); var err = new StringWriter();
        var old = Console.Out; var oldErr = Console.Error;
        Console.SetOut(outp); Console.SetError(err);
        try
        {
            Assert.Equal(0, PrecisionLS.Cli.Program.Run(["config", "show", "--config", path, "--set", "training.seed=7"], err));
            Assert.Equal(2, PrecisionLS.Cli.Program.Run(["config", "show", "--config", Path.Combine(_dir, "missing.yaml")], err));
        }
        finally { Console.SetOut(old); Console.SetError(oldErr); }
        var back = ConfigLoader.FromYaml(outp.ToString(), "shown");
        Assert.Equal(7UL, back.Training.Seed);
        Assert.Equal(3000, back.Training.StepRate);
        Assert.Contains("note: 'wandb' is ignored", err.ToString());
        Assert.Contains("error: config file", err.ToString());
    }

    [Theory]
    [InlineData("model:\n  n_layer: [2\ntraining:\n  seed: 1\n", "invalid YAML")]
    [InlineData("model:\n  n_layer: 2\n   training: x: y\n", "invalid YAML at line")]
    [InlineData("", "is empty; it needs model: and training: sections")]
    [InlineData("# only a comment\n", "is empty")]
    [InlineData("- model\n- training\n", "the top level must be a mapping")]
    [InlineData("inherit: [nothere.yaml]\n", "inherit 'nothere.yaml' is neither a file")]
    [InlineData("inherit: [explicit-gradient]\ntraining:\n  learning_rate: fast\n", "training.learning_rate = 'fast' is not a number (file '")]
    [InlineData("inherit: [explicit-gradient]\ntraining:\n  batch_size: 2.5\n", "training.batch_size = '2.5' is not an integer")]
    [InlineData("inherit: [explicit-gradient]\nmodel:\n  causal: sometimes\n", "model.causal = 'sometimes' is not a boolean")]
    public void Malformed_files_fail_with_one_line_naming_the_file_and_what_was_wrong(string text, string expected)
    {
        var path = Write("bad.yaml", text);
        var err = new StringWriter();
        var old = Console.Out;
        Console.SetOut(new StringWriter());
        int code;
        try { code = PrecisionLS.Cli.Program.Run(["train", "--config", path, "--out", Path.Combine(_dir, "never")], err); }
        finally { Console.SetOut(old); }
        Assert.Equal(2, code);
        string message = err.ToString().Trim();
        Assert.Single(message.Split('\n'));
        Assert.Contains(expected, message);
        Assert.Contains("bad.yaml", message);
        Assert.False(Directory.Exists(Path.Combine(_dir, "never")));
    }

    [Fact]
    public void A_bad_value_is_located_in_the_file_that_wrote_it_not_in_what_it_inherits()
    {
        Write("base.yaml", Base);
        var path = Write("grandchild.yaml", "inherit: [child.yaml]\ntraining:\n  learning_rate: quick\n");
        Write("child.yaml", Child);
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.FromFile(path));
        Assert.EndsWith("grandchild.yaml', line 3)", e.Message);
    }
}

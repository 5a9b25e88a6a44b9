using PrecisionLS.Config;
using PrecisionLS.Training;
using Xunit;

namespace PrecisionLS.Tests.Training;

/// <summary>The curriculum schedule, its config section and its effect on training (REFERENCE §1).</summary>
public class CurriculumTests
{
    private const string Yaml = """
        model: {n_dims: 5, in_dims: 6, out_dims: 5, n_positions: 21, n_embd: 16, n_layer: 1}
        training:
          task: explicit_gradient
          batch_size: 8
          eval_batch_size: 8
          curriculum:
            points: {start: 10, end: 20, inc: 4, interval: 3}
            dims: {start: 2, end: 5, inc: 1, interval: 2}
        """;

    [Fact]
    public void Axis_grows_by_inc_every_interval_and_stops_at_end()
    {
        var a = new CurriculumAxis { Start = 10, End = 20, Inc = 4, Interval = 3 };
        int[] expected = [10, 10, 10, 14, 14, 14, 18, 18, 18, 20, 20];
        for (int step = 0; step < expected.Length; step++) Assert.Equal(expected[step], a.ValueAt(step));
        Assert.Equal(20, a.ValueAt(1_000_000_000_000));
    }

    [Fact]
    public void Config_section_parses_round_trips_and_sets_n_points()
    {
        var c = ConfigLoader.FromYaml(Yaml, "test");
        Assert.Equal(20, c.Training.ResolvedNPoints);
        Assert.Equal(new CurriculumAxis { Start = 2, End = 5, Inc = 1, Interval = 2 }, c.Training.Curriculum!.Dims);
        var back = ConfigLoader.FromYaml(ConfigLoader.ToYaml(c), "round trip");
        Assert.Equal(c.Training.Curriculum, back.Training.Curriculum);
        Assert.Null(ConfigLoader.FromPreset("explicit-gradient").Training.Curriculum);
    }

    [Theory]
    [InlineData("training.n_points=18", "training.n_points = 18 but training.curriculum.points.end = 20")]
    [InlineData("training.curriculum.dims.end=4", "training.curriculum.dims.end = 4 but model.n_dims = 5")]
    [InlineData("training.curriculum.points.start=0", "training.curriculum.points.start = 0")]
    [InlineData("training.curriculum.points.interval=0", "training.curriculum.points.interval = 0")]
    [InlineData("training.curriculum.points.speed=2", "unknown key 'training.curriculum.points.speed'")]
    public void Bad_curriculum_names_the_key(string assignment, string expected)
    {
        var e = Assert.Throws<ConfigException>(() =>
        {
            var path = Path.Combine(Path.GetTempPath(), $"curriculum-{Guid.NewGuid():N}.yaml");
            File.WriteAllText(path, Yaml);
            try { ConfigLoader.FromFile(path, [assignment]); }
            finally { File.Delete(path); }
        });
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Training_follows_the_schedule_and_evaluates_at_full_size()
    {
        var cfg = ConfigLoader.FromYaml(Yaml, "test");
        var trainer = new Trainer<double>(cfg);
        var seen = new List<(int, int, int)>();
        for (int i = 0; i < 7; i++)
        {
            trainer.TrainStep();
            seen.Add((trainer.Task.Points, trainer.Task.Dims, trainer.Task.PromptLength));
        }
        // steps 0..6 ran at points 10,10,10,14,14,14,18 and dims 2,2,3,3,4,4,5
        Assert.Equal([(10, 2, 11), (10, 2, 11), (10, 3, 11), (14, 3, 15), (14, 4, 15), (14, 4, 15), (18, 5, 19)], seen);
        var m = trainer.Evaluate();
        Assert.True(double.IsFinite(m.Mse));
        Assert.Equal((20, 5), (trainer.Task.Points, trainer.Task.Dims));
    }

    [Fact]
    public void Truncated_dims_are_zero_in_the_prompt_and_the_target()
    {
        var cfg = ConfigLoader.FromYaml(Yaml, "test");
        var task = PrecisionLS.Tasks.TaskCatalog.Create<double>(cfg);
        task.SetSize(10, 2);
        var prompt = new double[4 * task.MaxPromptLength * task.TokenDims];
        var target = new double[4 * task.MaxReadCount * task.ReadChannelCount];
        task.Sample(new PrecisionLS.Numerics.Rng(5), 4, prompt, target);
        for (int e = 0; e < 4; e++)
        {
            for (int t = 0; t < task.PromptLength; t++)
                for (int c = 2; c < 5; c++) Assert.Equal(0.0, prompt[(e * task.PromptLength + t) * 6 + c]);
            for (int c = 2; c < 5; c++) Assert.Equal(0.0, target[e * 5 + c]);
            Assert.NotEqual(0.0, target[e * 5]);
        }
    }
}

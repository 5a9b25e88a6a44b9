using PrecisionLS.Config;
using PrecisionLS.Training;
using Xunit;

namespace PrecisionLS.Tests.Training;

/// <summary>Grid parsing, the cross product's order and folder names, and the saved plan a sweep resumes from.</summary>
public class SweepPlanTests
{
    private static SweepPlan Plan(params string[] grid) =>
        new("explicit-gradient", null, ["training.train_steps=5"], grid.Select(SweepPlan.ParseAxis).ToList());

    [Fact]
    public void Cross_product_varies_the_first_axis_slowest_and_names_runs_by_short_keys()
    {
        var plan = Plan("training.learning_rate=1e-2,3e-3", "model.n_layer=2,4,6");
        plan.Validate();
        var runs = plan.Runs();
        Assert.Equal(6, runs.Count);
        Assert.Equal(["learning_rate=1e-2,n_layer=2", "learning_rate=1e-2,n_layer=4", "learning_rate=1e-2,n_layer=6",
                      "learning_rate=3e-3,n_layer=2", "learning_rate=3e-3,n_layer=4", "learning_rate=3e-3,n_layer=6"],
                     runs.Select(r => r.Name));
        Assert.Equal(["training.learning_rate=3e-3", "model.n_layer=4"], runs[4].Overrides);
        var cfg = plan.ConfigFor(runs[4]);
        Assert.Equal(3e-3, cfg.Training.LearningRate);
        Assert.Equal(4, cfg.Model.NLayer);
        Assert.Equal(5, cfg.Training.TrainSteps);     // the plan's fixed overrides apply too
    }

    [Fact]
    public void Keys_sharing_a_last_segment_are_named_in_full_and_odd_characters_are_replaced()
    {
        var plan = Plan("training.curriculum.points.start=4,8", "training.curriculum.dims.start=2", "training.task=a/b");
        Assert.Equal("training.curriculum.points.start=4,training.curriculum.dims.start=2,task=a_b", plan.Runs()[0].Name);
    }

    [Theory]
    [InlineData("learning_rate=1e-2", "must name a section")]
    [InlineData("training.learning_rate", "must look like section.key=v1,v2")]
    [InlineData("training.learning_rate=", "must look like section.key=v1,v2")]
    [InlineData("training.learning_rate=1e-2,,3e-3", "empty value")]
    [InlineData("training.learning_rate=1e-2,1e-2", "listed twice")]
    public void Bad_grid_arguments_are_rejected_with_the_reason(string spec, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => SweepPlan.ParseAxis(spec));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void A_key_given_twice_or_colliding_folder_names_are_rejected()
    {
        Assert.Contains("given twice", Assert.Throws<ConfigException>(() => Plan("model.n_layer=2", "model.n_layer=4").Validate()).Message);
        Assert.Contains("folder name 'task=a_b'", Assert.Throws<ConfigException>(() => Plan("training.task=a/b,a_b").Validate()).Message);
        Assert.Contains("at least one --grid", Assert.Throws<ConfigException>(() => Plan().Validate()).Message);
    }

    [Fact]
    public void A_bad_grid_value_fails_when_its_config_is_resolved()
    {
        var plan = Plan("training.learning_rate=1e-2,fast");
        var e = Assert.Throws<ConfigException>(() => plan.Runs().Select(plan.ConfigFor).ToList());
        Assert.Contains("training.learning_rate", e.Message);
        Assert.Contains("fast", e.Message);
    }

    [Fact]
    public void Saved_plan_loads_back_equal_and_a_damaged_one_is_named()
    {
        string dir = Path.Combine(Path.GetTempPath(), "pls-sweep-" + Guid.NewGuid().ToString("N"));
        try
        {
            var plan = Plan("training.learning_rate=1e-2,3e-3", "model.n_layer=2,4");
            plan.Save(dir);
            var back = SweepPlan.Load(dir);
            Assert.True(back.SameAs(plan));
            Assert.Equal(plan.Runs().Select(r => r.Name), back.Runs().Select(r => r.Name));
            Assert.False(back.SameAs(Plan("training.learning_rate=1e-2,3e-3", "model.n_layer=2,8")));

            File.WriteAllText(Path.Combine(dir, SweepPlan.FileName), "grid: [ {key: model.n_layer} ]\n");
            var e = Assert.Throws<ConfigException>(() => SweepPlan.Load(dir));
            Assert.Contains(SweepPlan.FileName, e.Message);
            Assert.Contains("values", e.Message);
            Assert.Contains("not a sweep folder", Assert.Throws<ConfigException>(() => SweepPlan.Load(Path.Combine(dir, "nope"))).Message);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }
}

using PrecisionLS.Cli;
using PrecisionLS.Config;
using PrecisionLS.Tasks;
using PrecisionLS.Training;
using Xunit;

namespace PrecisionLS.Tests.Cli;

/// <summary>The paper's presets and tasks from the command line: listing, showing, and "not built yet" messages.</summary>
[Collection(nameof(SharedPoolCollection))]   // Console.SetOut is process-wide
public class TasksAndPresetsTests
{
    private static (int Code, string Output, string Error) Run(params string[] args) => PrecisionLS.Tests.Cli.CliRunner.Run(args);

    public static TheoryData<string> PresetNames() => new(Presets.Names);

    [Fact]
    public void Every_paper_experiment_has_a_preset()
    {
        string[] expected = ["primitives-read", "primitives-linear", "primitives-multiply", "least-squares", "least-squares-cond5",
            "least-squares-icl", "explicit-gradient", "explicit-gradient-linattn", "multistep-gd", "ode-icl", "ode-explicit-gradient"];
        foreach (var name in expected) Assert.Contains(name, Presets.Names);
    }

    [Theory]
    [MemberData(nameof(PresetNames))]
    public void Each_preset_trains_a_step(string name)
    {
        var config = ConfigLoader.FromPreset(name, ["training.batch_size=4", "training.eval_batch_size=4"]);
        Assert.False(string.IsNullOrWhiteSpace(Presets.Description(name)));
        var step = new Trainer<double>(config).TrainStep();
        Assert.True(double.IsFinite(step.Loss), $"{name}: loss {step.Loss}");
    }

    [Fact]
    public void Presets_lists_task_model_and_description()
    {
        var (code, output, _) = Run("presets");
        Assert.Equal(0, code);
        Assert.Contains("multistep_gd", output);
        Assert.Contains("attn (softmax) 12x256, 8 heads, MLP x4 relu, LN", output);
        Assert.Contains("least-squares-cond5: Least squares end to end with every A rescaled to condition number 5", output);
    }

    public static TheoryData<string> AllTasks() => new(TaskCatalog.Names);

    [Theory]
    [MemberData(nameof(AllTasks))]
    public void Tasks_show_prints_a_small_prompt_and_target(string task)
    {
        var (code, output, error) = Run("tasks", "show", task);
        Assert.True(code == 0, error);
        Assert.Contains($"task {task}:", output);
        Assert.Contains("prompt (one example)", output);
        Assert.Contains("target at the read positions", output);
    }

    [Fact]
    public void Tasks_show_takes_overrides_and_rejects_unknown_tasks()
    {
        var (code, output, error) = Run("tasks", "show", "multistep_gd", "--set", "training.task_kwargs.num_iters=2", "--set", "training.n_points=3");
        Assert.True(code == 0, error);
        Assert.Contains("n_points 3, 4 tokens", output);
        (code, _, error) = Run("tasks", "show", "sorting");
        Assert.Equal(2, code);
        Assert.Contains("unknown task 'sorting'; accepted: identity", error);
        (code, _, error) = Run("tasks", "show", "read", "--set", "training.task_kwargs.colour=red");
        Assert.Equal(2, code);
        Assert.Contains("unknown key 'training.task_kwargs.colour' for task 'read'; accepted: seed", error);
    }
}

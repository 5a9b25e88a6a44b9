using PrecisionLS.Training;
using Xunit;

namespace PrecisionLS.Tests.Cli;

/// <summary>train with the second-order optimizers from the command line: the fast preset end to end, resume, errors.</summary>
[Collection(nameof(SharedPoolCollection))]   // Console.SetOut and the worker pool are process-wide
public sealed class SecondOrderCliTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "pls-second-order-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, true);
    }

    private static (int Code, string Output, string Error) Run(params string[] args) => CliRunner.Run(args);

    private static readonly string[] Small = ["--set", "training.optimizer=lbfgs", "--set", "model.n_embd=16", "--set", "training.batch_size=16", "--set", "training.eval_batch_size=32",
        "--set", "training.adam_warmup_steps=4", "--set", "training.second_order_batch_size=24", "--set", "training.refresh_every=3",
        "--set", "training.eval_every=5", "--set", "training.log_every=1", "--set", "training.save_every_steps=5"];

    [Fact]
    public void An_lbfgs_run_after_a_warm_start_trains_writes_its_summary_and_plots_and_resumes()
    {
        string dir = Path.Combine(_root, "fast");
        var (code, output, error) = Run(["train", "--preset", "explicit-gradient-fast", "--steps", "8", "--out", dir, "--threads", "2", .. Small]);
        Assert.True(code == 0, error);
        Assert.Contains("done: ", output);
        var summary = RunSummary.Load(Path.Combine(dir, RunSummary.FileName));
        Assert.Equal(8, summary.Steps);
        Assert.True(File.Exists(Path.Combine(dir, "plots", "loss.png")));
        var rows = MetricsLog.ReadJsonl(Path.Combine(dir, MetricsLog.JsonlFileName));
        Assert.Equal(8, rows.Count);
        // eval_every 5 applies to the Adam warm start (steps 1-4: none evaluated); every second-order iteration is evaluated.
        Assert.All(rows.Where(r => r.Step <= 4), r => Assert.Null(r.EvalMse));
        Assert.All(rows.Where(r => r.Step > 4), r => Assert.NotNull(r.EvalMse));
        Assert.True(rows[^1].LearningRate >= 0);     // lbfgs rows hold the accepted step length α
        (code, _, error) = Run("train", "--resume", dir, "--steps", "11", "--threads", "2");
        Assert.True(code == 0, error);
        Assert.Equal(11, RunSummary.Load(Path.Combine(dir, RunSummary.FileName)).Steps);
    }

    [Fact]
    public void A_bad_second_order_setting_fails_with_one_line_naming_the_key()
    {
        var (code, _, error) = Run("train", "--preset", "explicit-gradient-fast", "--steps", "2", "--out", Path.Combine(_root, "bad"),
            "--set", "training.optimizer=lbfgs", "--set", "training.refresh_every=0");
        Assert.Equal(2, code);
        Assert.Contains("training.refresh_every", error);
        (code, _, error) = Run("train", "--preset", "explicit-gradient", "--steps", "2", "--out", Path.Combine(_root, "bad2"),
            "--set", "training.optimizer=newton");
        Assert.Equal(2, code);
        Assert.Contains("lbfgs, gauss_newton", error);
    }
}

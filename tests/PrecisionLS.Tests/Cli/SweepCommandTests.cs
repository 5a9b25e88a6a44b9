using System.Text.Json;
using PrecisionLS.Cli;
using PrecisionLS.Config;
using PrecisionLS.Numerics;
using PrecisionLS.Training;
using Xunit;

namespace PrecisionLS.Tests.Cli;

/// <summary>sweep, runs list/compare and plot from the command line, on tiny runs.</summary>
[Collection(nameof(SharedPoolCollection))]   // Console.SetOut and the worker pool are process-wide
public sealed class SweepCommandTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "pls-sweepcli-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        WorkerPool.Configure(Environment.ProcessorCount);
        if (Directory.Exists(_root)) Directory.Delete(_root, true);
    }

    private static (int Code, string Output, string Error) Run(params string[] args) => PrecisionLS.Tests.Cli.CliRunner.Run(args);

    // 2 x 2 grid of 6-step runs of a 1-layer, width-8 explicit-gradient model.
    private string[] SweepArgs(string dir, params string[] extra) =>
    [
        "sweep", "--preset", "explicit-gradient", "--grid", "training.learning_rate=1e-2,1e-3", "--grid", "model.n_embd=8,16",
        "--steps", "6", "--batch", "16", "--set", "model.n_layer=1", "--set", "training.eval_batch_size=16",
        "--set", "training.eval_every=3", "--set", "training.log_every=1", "--set", "training.save_every_steps=2", "--out", dir, .. extra,
    ];

    private static string Checksum(string runDir) => RunSummary.Load(Path.Combine(runDir, RunSummary.FileName)).ParamChecksum;

    [Fact]
    public void Sweep_trains_the_grid_compares_plots_and_skips_finished_runs_when_run_again()
    {
        string dir = Path.Combine(_root, "s");
        var (code, output, error) = Run(SweepArgs(dir, "--threads", "1"));
        Assert.True(code == 0, error);
        string[] names = ["learning_rate=1e-2,n_embd=8", "learning_rate=1e-2,n_embd=16", "learning_rate=1e-3,n_embd=8", "learning_rate=1e-3,n_embd=16"];
        foreach (var n in names)
        {
            var info = RunInfo.Load(Path.Combine(dir, n));
            Assert.Equal((RunSummary.Finished, 6L), (info.Status, info.Steps));
            Assert.True(File.Exists(Path.Combine(dir, n, "plots", "loss.png")));
            Assert.Contains(n, output);
        }
        var csv = File.ReadAllLines(Path.Combine(dir, "comparison.csv"));
        Assert.Equal(5, csv.Length);
        Assert.EndsWith("model.n_embd,training.learning_rate", csv[0]);
        Assert.True(new FileInfo(Path.Combine(dir, "plots", "compare.png")).Length > 5_000);
        Assert.Contains("model.n_embd", output);             // the table's differing-key columns
        Assert.Contains("best final eval mse first", output);

        var before = names.Select(n => File.ReadAllText(Path.Combine(dir, n, RunSummary.FileName))).ToList();
        var again = Run("sweep", "--resume", dir, "--threads", "1");
        Assert.Equal(0, again.Code);
        Assert.Equal(4, again.Output.Split('\n').Count(l => l.Contains("finished, skipped")));
        Assert.Equal(before, names.Select(n => File.ReadAllText(Path.Combine(dir, n, RunSummary.FileName))));

        // The same command into the same folder continues it; a different grid there is refused.
        Assert.Equal(0, Run(SweepArgs(dir, "--threads", "1")).Code);
        var other = Run([.. SweepArgs(dir).Select(a => a == "model.n_embd=8,16" ? "model.n_embd=8,32" : a)]);
        Assert.NotEqual(0, other.Code);
        Assert.Contains("holds a different sweep", other.Error);
    }

    [Fact]
    public void A_stopped_run_is_resumed_by_the_sweep_and_ends_bit_identical_to_a_straight_run()
    {
        string straight = Path.Combine(_root, "straight"), resumed = Path.Combine(_root, "resumed");
        Assert.Equal(0, Run(SweepArgs(straight, "--threads", "1")).Code);

        // Train the first grid point of the second sweep by hand and stop it after step 2's checkpoint.
        var plan = new SweepPlan("explicit-gradient", null,
            ["training.train_steps=6", "training.batch_size=16", "model.n_layer=1", "training.eval_batch_size=16", "training.eval_every=3",
             "training.log_every=1", "training.save_every_steps=2"],
            [SweepPlan.ParseAxis("training.learning_rate=1e-2,1e-3"), SweepPlan.ParseAxis("model.n_embd=8,16")]);
        var first = plan.Runs()[0];
        using (var cancel = new CancellationTokenSource())
        {
            var observer = new CancelAtStep(2, cancel);
            TrainingSession.Run(new SessionOptions(plan.ConfigFor(first), Path.Combine(resumed, first.Name), false), observer, cancel.Token);
        }
        Assert.Equal(RunSummary.Stopped, RunInfo.Load(Path.Combine(resumed, first.Name)).Status);

        var (code, output, error) = Run(SweepArgs(resumed, "--threads", "2"));
        Assert.True(code == 0, error);
        Assert.Contains("resuming at step 2", output);
        foreach (var run in plan.Runs())
            Assert.Equal(Checksum(Path.Combine(straight, run.Name)), Checksum(Path.Combine(resumed, run.Name)));
    }

    private sealed class CancelAtStep(long step, CancellationTokenSource cancel) : ITrainingObserver
    {
        public void Started(long fromStep, long totalSteps, long parameters, string dtype) { }
        public void Report(TrainingRecord record) { if (record.Step == step) cancel.Cancel(); }
        public void Message(string text) { }
    }

    [Fact]
    public void Parallel_sweep_runs_child_processes_that_match_in_process_runs()
    {
        string serial = Path.Combine(_root, "serial"), parallel = Path.Combine(_root, "parallel");
        Assert.Equal(0, Run(SweepArgs(serial, "--threads", "1")).Code);
        var (code, output, error) = Run(SweepArgs(parallel, "--parallel", "2", "--threads", "2"));
        Assert.True(code == 0, error + output);
        Assert.Contains("2 at a time, 1 thread each", output);
        foreach (var run in RunInfo.Find(serial))
        {
            string twin = Path.Combine(parallel, Path.GetFileName(run));
            Assert.Equal(Checksum(run), Checksum(twin));
            Assert.Contains("starting at step 0 of 6", File.ReadAllText(Path.Combine(twin, "train.log")));
        }
    }

    [Fact]
    public void Runs_list_compare_and_plot_show_the_runs()
    {
        string dir = Path.Combine(_root, "s");
        Assert.Equal(0, Run(SweepArgs(dir, "--threads", "1")).Code);

        var list = Run("runs", "list", _root);
        Assert.Equal(0, list.Code);
        Assert.Contains(Path.Combine("s", "learning_rate=1e-3,n_embd=16"), list.Output);
        Assert.Contains("explicit_gradient", list.Output);
        Assert.Equal(4, list.Output.Split('\n').Count(l => l.Contains("finished")));

        var json = Run("runs", "compare", dir, "--json");
        Assert.Equal(0, json.Code);
        var rows = JsonDocument.Parse(json.Output).RootElement.EnumerateArray().ToList();
        Assert.Equal(4, rows.Count);
        var mses = rows.Select(r => r.GetProperty("final_eval_mse").GetDouble()).ToList();
        Assert.Equal(mses.Order(), mses);                      // best first
        Assert.Equal(["model.n_embd", "training.learning_rate"], rows[0].GetProperty("config").EnumerateObject().Select(p => p.Name));

        string one = RunInfo.Find(dir)[0];
        File.Delete(Path.Combine(one, "plots", "loss.png"));
        var plot = Run("plot", dir);
        Assert.Equal(0, plot.Code);
        Assert.True(File.Exists(Path.Combine(one, "plots", "loss.png")));
        Assert.Contains(Path.Combine(dir, "plots", "compare.png"), plot.Output);
        string custom = Path.Combine(_root, "pair.png");
        Assert.Equal(0, Run("plot", RunInfo.Find(dir)[0], RunInfo.Find(dir)[1], "--out", custom).Code);
        Assert.True(new FileInfo(custom).Length > 5_000);
    }

    [Theory]
    [InlineData("sweep --preset explicit-gradient", "at least one --grid")]
    [InlineData("sweep --preset nope --grid training.seed=1,2", "unknown preset 'nope'")]
    [InlineData("sweep --config /no/such.yaml --grid training.seed=1,2", "'/no/such.yaml' does not exist")]
    [InlineData("sweep --preset explicit-gradient --grid training.learning_rate=0.1,quick --out /tmp/pls-never", "quick")]
    [InlineData("sweep --preset explicit-gradient --grid training.leaning_rate=0.1,0.2 --out /tmp/pls-never", "did you mean 'learning_rate'")]
    [InlineData("sweep --resume /no/such/sweep", "not a sweep folder")]
    [InlineData("runs compare /no/such/run", "does not exist")]
    [InlineData("runs frobnicate", "accepted actions: list")]
    [InlineData("plot", "name one or more run or sweep folders")]
    public void Bad_sweep_and_runs_commands_fail_with_one_line(string command, string expected)
    {
        var (code, output, error) = Run(command.Split(' '));
        Assert.NotEqual(0, code);
        Assert.Contains(expected, error);
        Assert.Single(error.Trim().Split('\n'));
        Assert.False(Directory.Exists("/tmp/pls-never"));
        Assert.DoesNotContain("   at ", error + output);
    }
}

/// <summary>construct and iterate from the command line.</summary>
[Collection(nameof(SharedPoolCollection))]
public sealed class ConstructIterateCommandTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "pls-construct-" + Guid.NewGuid().ToString("N"));

    public void Dispose() { if (Directory.Exists(_root)) Directory.Delete(_root, true); }

    private static (int Code, string Output, string Error) Run(params string[] args) => PrecisionLS.Tests.Cli.CliRunner.Run(args);

    [Fact]
    public void A_constructed_run_iterates_to_machine_precision_and_lists_as_constructed()
    {
        string dir = Path.Combine(_root, "gd");
        var made = Run("construct", "baseconv-gd", "--dims", "4", "--points", "12", "--out", dir, "--set", "training.eval_batch_size=64");
        Assert.True(made.Code == 0, made.Error);
        Assert.Equal(RunSummary.Constructed, RunInfo.Load(dir).Status);
        Assert.True(RunInfo.Load(dir).FinalEvalMse < 1e-28);

        var it = Run("iterate", "--run", dir, "--iters", "600", "--problems", "32", "--json");
        Assert.True(it.Code == 0, it.Error);
        var json = JsonDocument.Parse(it.Output).RootElement;
        Assert.Equal(600, json.GetProperty("iters").GetInt32());
        Assert.True(json.GetProperty("final_mse").GetDouble() < 1e-24);
        Assert.Equal(601, json.GetProperty("mse").GetArrayLength());
        Assert.True(new FileInfo(Path.Combine(dir, "plots", "iterate.png")).Length > 5_000);

        var table = Run("iterate", "--run", dir, "--iters", "20", "--eta", "0.25", "--problems", "8");
        Assert.Equal(0, table.Code);
        Assert.Contains("step 0.25", table.Output);
        Assert.Contains("final mse", table.Output);
    }

    [Theory]
    [InlineData("construct", "construct: name a construction")]
    [InlineData("construct mlp-gd", "unknown construction 'mlp-gd'; accepted: baseconv-gd, linear-attention-gd")]
    [InlineData("iterate --iters 5", "give --run DIR")]
    [InlineData("iterate --run /no/such/run", "does not exist")]
    public void Bad_construct_and_iterate_commands_fail_with_one_line(string command, string expected)
    {
        var (code, output, error) = Run(command.Split(' '));
        Assert.NotEqual(0, code);
        Assert.Contains(expected, error);
        Assert.DoesNotContain("   at ", error + output);
    }

    [Fact]
    public void Iterate_refuses_a_bad_step_and_a_run_of_another_task()
    {
        string dir = Path.Combine(_root, "gd");
        Assert.Equal(0, Run("construct", "baseconv-gd", "--dims", "3", "--points", "6", "--out", dir, "--set", "training.eval_batch_size=16").Code);
        Assert.Contains("--eta '-1' must be a positive number", Run("iterate", "--run", dir, "--eta", "-1").Error);
        string ls = Path.Combine(_root, "ls");
        Assert.Equal(0, Run("train", "--preset", "primitives-read", "--steps", "1", "--out", ls, "--set", "training.batch_size=2",
            "--set", "training.eval_batch_size=2", "--threads", "1").Code);
        var e = Run("iterate", "--run", ls, "--iters", "2");
        Assert.NotEqual(0, e.Code);
        Assert.Contains("least-squares problems", e.Error);
    }
}

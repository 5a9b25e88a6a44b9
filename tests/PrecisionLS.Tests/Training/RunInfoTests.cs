using PrecisionLS.Config;
using PrecisionLS.Training;
using Xunit;

namespace PrecisionLS.Tests.Training;

/// <summary>What a run folder says about its run (status, steps, metrics), and runs compared key by key.</summary>
public class RunInfoTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "pls-runinfo-" + Guid.NewGuid().ToString("N"));

    public void Dispose() { if (Directory.Exists(_root)) Directory.Delete(_root, true); }

    private sealed class StopAfter(int reports, CancellationTokenSource cancel) : ITrainingObserver
    {
        private int _seen;
        public void Started(long fromStep, long totalSteps, long parameters, string dtype) { }
        public void Report(TrainingRecord record) { if (++_seen == reports) cancel.Cancel(); }
        public void Message(string text) { }
    }

    private static RunConfig Small(long steps, double lr = 1e-3) => ConfigLoader.FromPreset("explicit-gradient",
    [
        $"training.train_steps={steps}", "training.batch_size=16", "training.eval_batch_size=16", "training.eval_every=4",
        "training.log_every=2", "model.n_embd=8", "model.n_layer=1", $"training.learning_rate={lr}",
    ]);

    private string Train(string name, RunConfig cfg, int stopAfterReports = 0)
    {
        string dir = Path.Combine(_root, name);
        using var cancel = new CancellationTokenSource();
        TrainingSession.Run(new SessionOptions(cfg, dir, false), new StopAfter(stopAfterReports, cancel), cancel.Token);
        return dir;
    }

    [Fact]
    public void Finished_stopped_interrupted_running_and_broken_runs_are_told_apart()
    {
        string finished = Train("finished", Small(8));
        var f = RunInfo.Load(finished);
        Assert.Equal((RunSummary.Finished, 8L, 8L), (f.Status, f.Steps, f.TargetSteps));
        var rows = RunInfo.ReadMetrics(finished);
        Assert.Equal(rows[^1].EvalMse, f.FinalEvalMse);
        Assert.Equal(rows.Where(r => r.EvalMse is not null).Min(r => r.EvalMse), f.BestEvalMse);
        Assert.Equal(rows[^1].Loss, f.FinalLoss);

        string stopped = Train("stopped", Small(8), stopAfterReports: 2);   // cancelled after the row of step 4
        var s = RunInfo.Load(stopped);
        Assert.Equal((RunSummary.Stopped, 4L), (s.Status, s.Steps));

        // A killed process leaves a checkpoint and metrics but no summary for its last steps.
        File.Delete(Path.Combine(stopped, RunSummary.FileName));
        Assert.Equal(RunInfo.Interrupted, RunInfo.Load(stopped).Status);

        using (RunLock.Acquire(finished))
        {
            Assert.Equal(RunInfo.Running, RunInfo.Load(finished).Status);
            var e = Assert.Throws<ConfigException>(() => RunLock.Acquire(finished));
            Assert.Contains("being trained by another process", e.Message);
        }
        Assert.Equal(RunSummary.Finished, RunInfo.Load(finished).Status);

        string empty = Path.Combine(_root, "empty");
        Directory.CreateDirectory(empty);
        File.WriteAllText(Path.Combine(empty, TrainingSession.ConfigFileName), ConfigLoader.ToYaml(Small(8)));
        Assert.Equal(RunInfo.NotStarted, RunInfo.Load(empty).Status);

        string broken = Path.Combine(_root, "broken");
        Directory.CreateDirectory(broken);
        File.WriteAllText(Path.Combine(broken, TrainingSession.ConfigFileName), "model: {n_layer: lots}\n");
        var b = RunInfo.Load(broken);
        Assert.Equal(RunInfo.Broken, b.Status);
        Assert.Contains("n_layer", b.Problem);

        Assert.Equal([broken, empty, finished, stopped], RunInfo.Find(_root));
        Assert.Equal([finished], RunInfo.Find(finished));
    }

    [Fact]
    public void Comparison_sorts_by_final_eval_mse_and_shows_only_the_keys_that_differ()
    {
        string a = Train("a", Small(4, lr: 1e-3));
        string b = Train("b", Small(4, lr: 3e-3));
        string c = Path.Combine(_root, "c");   // never trained: no eval, sorts last
        Directory.CreateDirectory(c);
        File.WriteAllText(Path.Combine(c, TrainingSession.ConfigFileName), ConfigLoader.ToYaml(Small(4, lr: 1e-2)));

        var cmp = RunComparison.Of([RunInfo.Load(c), RunInfo.Load(a), RunInfo.Load(b)]);
        Assert.Equal(["training.learning_rate"], cmp.DifferingKeys);
        double mseA = RunInfo.Load(a).FinalEvalMse!.Value, mseB = RunInfo.Load(b).FinalEvalMse!.Value;
        Assert.NotEqual(mseA, mseB);
        Assert.Equal(mseA < mseB ? [a, b, c] : [b, a, c], cmp.Runs.Select(r => r.Directory));
        Assert.Equal("0.003", cmp.Value(cmp.Runs.Single(r => r.Directory == b), "training.learning_rate"));
        Assert.Equal("learning_rate=0.01", cmp.Label(cmp.Runs[^1]));

        var csv = cmp.ToCsv().TrimEnd('\n').Split('\n');
        Assert.Equal("run,status,steps,target_steps,final_loss,final_eval_mse,best_eval_mse,wall_seconds,training.learning_rate", csv[0]);
        Assert.Equal(4, csv.Length);
        Assert.EndsWith(",not started,0,4,,,,0,0.01", csv[3]);
        Assert.Contains(mseA.ToString("R", System.Globalization.CultureInfo.InvariantCulture), cmp.ToCsv());
    }

    [Fact]
    public void Flatten_names_nested_keys_with_dots()
    {
        var flat = ConfigLoader.Flatten(ConfigLoader.FromPreset("explicit-gradient", ["training.learning_rate=0.25"]));
        Assert.Equal("0.25", flat["training.learning_rate"]);
        Assert.Equal("3", flat["model.n_layer"]);
        Assert.Equal("last", flat["training.task_kwargs.setting"]);
        Assert.DoesNotContain("preset", flat.Keys);
    }

    [Fact]
    public void A_time_budget_stops_the_run_cleanly_and_resume_continues_it()
    {
        string dir = Path.Combine(_root, "budget");
        var summary = TrainingSession.Run(new SessionOptions(Small(1_000_000), dir, false) { MaxWallSeconds = 0.5 },
            new StopAfter(0, new CancellationTokenSource()), default);
        Assert.Equal(RunSummary.Stopped, summary.Status);
        Assert.InRange(summary.Steps, 1, 999_999);
        Assert.True(summary.WallSeconds is > 0.2 and < 30, $"{summary.WallSeconds} s");   // the last logged row, just before the budget
        var info = RunInfo.Load(dir);
        Assert.Equal((RunSummary.Stopped, summary.Steps), (info.Status, info.Steps));
        var lastRow = RunInfo.ReadMetrics(dir)[^1];
        Assert.Equal(summary.Steps, lastRow.Step);
        Assert.NotNull(lastRow.EvalMse);                       // a stopped run ends with a held-out evaluation too
        Assert.Equal(lastRow.EvalMse, summary.FinalEvalMse);
        var more = TrainingSession.Run(new SessionOptions(Small(summary.Steps + 3), dir, true), new StopAfter(0, new CancellationTokenSource()), default);
        Assert.Equal((RunSummary.Finished, summary.Steps + 3), (more.Status, more.Steps));
    }
}

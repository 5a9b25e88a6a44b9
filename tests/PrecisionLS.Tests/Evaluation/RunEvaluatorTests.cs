using PrecisionLS.Config;
using PrecisionLS.Evaluation;
using PrecisionLS.Nn;
using PrecisionLS.Numerics;
using PrecisionLS.Solvers;
using PrecisionLS.Tasks;
using PrecisionLS.Training;
using Xunit;

namespace PrecisionLS.Tests.Evaluation;

/// <summary>eval on a tiny trained run matches the metrics computed directly with the model on the same seeded batches.</summary>
public class RunEvaluatorTests
{
    private sealed class NullObserver : ITrainingObserver
    {
        public void Started(long fromStep, long totalSteps, long parameters, string dtype) { }
        public void Report(TrainingRecord record) { }
        public void Message(string text) { }
    }

    private static string TrainTiny(string dtype)
    {
        string dir = Path.Combine(Path.GetTempPath(), "pls-eval-" + Guid.NewGuid().ToString("N"));
        var config = ConfigLoader.FromPreset("explicit-gradient",
        [
            "training.train_steps=20", "training.batch_size=32", "training.eval_batch_size=48", "training.eval_every=10",
            "training.log_every=10", $"training.dtype={dtype}", "model.n_embd=16",
        ]);
        TrainingSession.Run(new SessionOptions(config, dir, false), new NullObserver(), default);
        return dir;
    }

    // The metrics computed by hand: the run's task at full size, batches k = 0.. from stream (seed, "problems"),
    // the model's plain Forward on each whole batch, the task's own Evaluate.
    private static TaskMetrics[] Direct<T>(string dir, RunConfig config, int batches, int batchSize, ulong seed, int? dims = null)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var model = new SequenceModel<T>(config.Model);
        Checkpoint.LoadParameters(TrainingSession.CheckpointPath(dir), model.Store);
        var task = TaskCatalog.Create<T>(config);
        if (dims is int d) task.SetSize(task.MaxPoints, d);
        var rng = Rng.Derive(seed, "problems");
        var prompt = new T[batchSize * task.PromptLength * task.TokenDims];
        var target = new T[batchSize * task.TargetSize];
        var output = new T[batchSize * task.ReadPositions.Length * model.OutDims];
        var result = new TaskMetrics[batches];
        for (int k = 0; k < batches; k++)
        {
            task.Sample(rng, batchSize, prompt, target);
            model.Forward(prompt, batchSize, task.PromptLength, task.ReadPositions, output);
            result[k] = task.Evaluate(output, target, batchSize);
        }
        return result;
    }

    private static void AssertClose(double expected, double actual, string what) =>
        Assert.True(Math.Abs(expected - actual) <= 1e-13 * Math.Abs(expected), $"{what}: expected {expected:R}, got {actual:R}");

    [Fact]
    public void In_distribution_and_shifted_metrics_match_a_direct_computation()
    {
        string dir = TrainTiny("float64");
        try
        {
            var config = TrainingSession.LoadRunConfig(dir);
            var shifts = new[] { new DistributionShift("cond", 10), new DistributionShift("dims", 3) };
            var report = RunEvaluator.EvaluateRun(dir, new EvalOptions(Batches: 3, BatchSize: 40, Seed: 7, Shifts: shifts));
            Assert.Equal(("explicit_gradient", "float64", 20L, 3, 40, 7UL), (report.Task, report.Dtype, report.Step, report.Batches, report.BatchSize, report.Seed));

            var direct = Direct<double>(dir, config, 3, 40, 7);
            var expected = RunEvaluator.Summarise(direct);
            AssertClose(expected.Mse.Mean, report.InDistribution.Mse.Mean, "mse");
            AssertClose(expected.Mse.HalfWidth, report.InDistribution.Mse.HalfWidth, "mse ci");
            AssertClose(expected.Rel.Mean, report.InDistribution.Rel.Mean, "rel");
            AssertClose(expected.RelL2.Mean, report.InDistribution.RelL2.Mean, "rel_l2");
            // Equal batch sizes: the mean of per-batch MSEs is the MSE of the three batches pooled.
            AssertClose(direct.Average(m => m.Mse), report.InDistribution.Mse.Mean, "pooled mse");

            var cond = Direct<double>(dir, shifts[0].Apply(config).Config, 3, 40, 7);
            AssertClose(cond.Average(m => m.Mse), report.Shifts[0].Metrics.Mse.Mean, "cond=10 mse");
            AssertClose(report.Shifts[0].Metrics.Mse.Mean / report.InDistribution.Mse.Mean, report.Shifts[0].Gap, "gap");
            var dims = Direct<double>(dir, config, 3, 40, 7, dims: 3);
            AssertClose(dims.Average(m => m.Mse), report.Shifts[1].Metrics.Mse.Mean, "dims=3 mse");
            Assert.Equal("dims=3", report.Shifts[1].Shift.Label);

            // The batches hold the problems solve and iterate draw with the same seed (first batch, first problem).
            var set = ProblemSet.ForRun(config, 3 * 40, 7);
            var task = TaskCatalog.Create<double>(config);
            var prompt = new double[task.PromptLength * task.TokenDims];
            task.Sample(Rng.Derive(7, RunEvaluator.SeedLabel), 1, prompt, new double[task.TargetSize]);
            Assert.Equal(set.XInitOf(0).ToArray(), prompt[..set.Dims]);

            // A different seed gives different batches.
            var other = RunEvaluator.EvaluateRun(dir, new EvalOptions(Batches: 3, BatchSize: 40, Seed: 8));
            Assert.NotEqual(report.InDistribution.Mse.Mean, other.InDistribution.Mse.Mean);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void A_float32_run_is_evaluated_in_float32()
    {
        string dir = TrainTiny("float32");
        try
        {
            var report = RunEvaluator.EvaluateRun(dir, new EvalOptions(Batches: 2, BatchSize: 24, Seed: 1));
            Assert.Equal("float32", report.Dtype);
            var direct = Direct<float>(dir, TrainingSession.LoadRunConfig(dir), 2, 24, 1);
            AssertClose(direct.Average(m => m.Mse), report.InDistribution.Mse.Mean, "float32 mse");
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Too_few_batches_are_refused()
    {
        var config = ConfigLoader.FromPreset("explicit-gradient", ["model.n_embd=8"]);
        var e = Assert.Throws<ConfigException>(() => RunEvaluator.Evaluate(new SequenceModel<double>(config.Model), config, new EvalOptions(Batches: 1)));
        Assert.Equal("batches = 1: a 95% confidence interval needs at least 2 batches", e.Message);
    }
}

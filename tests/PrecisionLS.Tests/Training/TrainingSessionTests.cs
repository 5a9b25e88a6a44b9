using PrecisionLS.Config;
using PrecisionLS.Training;
using Xunit;

namespace PrecisionLS.Tests.Training;

/// <summary>End-to-end training on disk with a small batch: learning, checkpoints, exact resume.</summary>
public class TrainingSessionTests
{
    private sealed class NullObserver : ITrainingObserver
    {
        public List<TrainingRecord> Records { get; } = [];
        public void Started(long fromStep, long totalSteps, long parameters, string dtype) { }
        public void Report(TrainingRecord record) => Records.Add(record);
        public void Message(string text) { }
    }

    private static RunConfig Small(long steps, string dtype = "float64") => ConfigLoader.FromPreset("explicit-gradient",
    [
        $"training.train_steps={steps}", "training.batch_size=32", "training.eval_batch_size=64", "training.eval_every=20",
        "training.save_every_steps=15", "training.log_every=5", $"training.dtype={dtype}", "model.n_embd=16",
    ]);

    private static string TempDir() => Path.Combine(Path.GetTempPath(), "pls-test-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void Resumed_run_ends_with_the_same_parameters_as_a_straight_run()
    {
        string a = TempDir(), b = TempDir();
        try
        {
            var straight = TrainingSession.Run(new SessionOptions(Small(60), a, false), new NullObserver(), default);
            TrainingSession.Run(new SessionOptions(Small(30), b, false), new NullObserver(), default);
            var resumed = TrainingSession.Run(new SessionOptions(TrainingSession.LoadRunConfig(b) with
                { Training = Small(60).Training }, b, true), new NullObserver(), default);
            Assert.Equal(60, straight.Steps);
            Assert.Equal(60, resumed.Steps);
            Assert.Equal(straight.ParamChecksum, resumed.ParamChecksum);
            Assert.Equal(straight.FinalEvalMse, resumed.FinalEvalMse);
            var rowsA = MetricsLog.ReadJsonl(Path.Combine(a, MetricsLog.JsonlFileName));
            var rowsB = MetricsLog.ReadJsonl(Path.Combine(b, MetricsLog.JsonlFileName));
            Assert.Equal(rowsA.Select(r => (r.Step, r.Loss)), rowsB.Select(r => (r.Step, r.Loss)));
            Assert.True(File.Exists(Path.Combine(a, "config.yaml")));
            Assert.DoesNotContain(Directory.GetFiles(Path.Combine(a, "checkpoints")), f => AtomicFile.IsTempFileName(Path.GetFileName(f)));
        }
        finally { Cleanup(a); Cleanup(b); }
    }

    [Fact]
    public void Training_lowers_the_held_out_error_in_float64_and_float32()
    {
        foreach (var dtype in new[] { "float64", "float32" })
        {
            string dir = TempDir();
            try
            {
                var obs = new NullObserver();
                var summary = TrainingSession.Run(new SessionOptions(Small(200, dtype), dir, false), obs, default);
                var evals = obs.Records.Where(r => r.EvalMse is not null).ToList();
                Assert.True(evals[^1].EvalMse < 0.5 * evals[0].EvalMse, $"{dtype}: eval mse {evals[0].EvalMse} -> {evals[^1].EvalMse}");
                Assert.Equal(dtype, summary.Dtype);
            }
            finally { Cleanup(dir); }
        }
    }

    [Fact]
    public void Same_seed_same_result_and_a_new_run_refuses_an_existing_directory()
    {
        string a = TempDir(), b = TempDir();
        try
        {
            var s1 = TrainingSession.Run(new SessionOptions(Small(10), a, false), new NullObserver(), default);
            var s2 = TrainingSession.Run(new SessionOptions(Small(10), b, false), new NullObserver(), default);
            Assert.Equal(s1.ParamChecksum, s2.ParamChecksum);
            var e = Assert.Throws<ConfigException>(() => TrainingSession.Run(new SessionOptions(Small(10), a, false), new NullObserver(), default));
            Assert.Contains("--resume", e.Message);
        }
        finally { Cleanup(a); Cleanup(b); }
    }

    [Fact]
    public void A_corrupted_checkpoint_is_detected()
    {
        string dir = TempDir();
        try
        {
            TrainingSession.Run(new SessionOptions(Small(5), dir, false), new NullObserver(), default);
            string ckpt = TrainingSession.CheckpointPath(dir);
            var bytes = File.ReadAllBytes(ckpt);
            bytes[bytes.Length / 2] ^= 0x40;
            File.WriteAllBytes(ckpt, bytes);
            var e = Assert.Throws<InvalidDataException>(() => Checkpoint.ReadHeader(ckpt));
            Assert.Contains("corrupt", e.Message);
        }
        finally { Cleanup(dir); }
    }

    [Fact]
    public void Diverging_training_stops_with_the_step_and_a_hint()
    {
        string dir = TempDir();
        try
        {
            var cfg = Small(100);
            cfg = cfg with { Training = cfg.Training with { LearningRate = 1e300, ClipGradNorm = 1e308 } };
            var e = Assert.Throws<TrainingDivergedException>(() => TrainingSession.Run(new SessionOptions(cfg, dir, false), new NullObserver(), default));
            Assert.Contains("learning_rate", e.Message);
            Assert.True(e.Step > 0);
            var summary = RunSummary.Load(Path.Combine(dir, RunSummary.FileName));
            Assert.Equal(RunSummary.Diverged, summary.Status);
            Assert.Equal(RunSummary.Diverged, RunInfo.Load(dir).Status);
            Assert.False(File.Exists(Path.Combine(dir, RunLock.FileName)));   // the lock goes with the session
        }
        finally { Cleanup(dir); }
    }

    private static void Cleanup(string dir) { if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true); }
}

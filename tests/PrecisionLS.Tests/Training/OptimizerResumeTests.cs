using System.Security.Cryptography;
using System.Text.Json.Nodes;
using PrecisionLS.Config;
using PrecisionLS.Training;
using Xunit;

namespace PrecisionLS.Tests.Training;

/// <summary>Every optimizer and the adaptive scheduler resume bit-exactly; version-1 checkpoints still load.</summary>
public class OptimizerResumeTests
{
    private sealed class NullObserver : ITrainingObserver
    {
        public void Started(long fromStep, long totalSteps, long parameters, string dtype) { }
        public void Report(TrainingRecord record) { }
        public void Message(string text) { }
    }

    private static RunConfig Small(long steps, params string[] extra) => ConfigLoader.FromPreset("explicit-gradient",
    [
        $"training.train_steps={steps}", "training.batch_size=32", "training.eval_batch_size=64", "training.eval_every=20",
        "training.save_every_steps=15", "training.log_every=5", "model.n_embd=16", .. extra,
    ]);

    private static string TempDir() => Path.Combine(Path.GetTempPath(), "pls-test-" + Guid.NewGuid().ToString("N"));

    [Theory]
    [InlineData("training.optimizer=sgd", "training.learning_rate=1e-3", "training.weight_decay=1e-3")]
    [InlineData("training.optimizer=adamw", "training.weight_decay=1e-2", "training.l1_reg=1e-4")]
    [InlineData("training.scheduler=adaptive_threshold", "training.scheduler_metric_every=10", "training.step_rate=15")]
    [InlineData("training.decay_start_loss=1e9", "training.step_rate=5", "training.gamma=0.7")]   // the clock starts at step 1: resume must restore it
    [InlineData("training.optimizer=lbfgs", "training.refresh_every=7", "training.lbfgs_history=5")]
    [InlineData("training.optimizer=lbfgs", "training.adam_warmup_steps=10", "training.second_order_batch_size=48")]
    [InlineData("training.optimizer=gauss_newton", "training.refresh_every=4", "training.cg_max_iters=5")]
    [InlineData("training.optimizer=gauss_newton", "training.refresh_every=4", "training.gn_solver=direct")]
    [InlineData("training.group_lasso=20", "training.decay_start_loss=1e9", "training.step_rate=5")]     // the proximal step starts with the decay clock
    public void Resumed_run_ends_with_the_same_parameters_as_a_straight_run(string a1, string a2, string a3)
    {
        string a = TempDir(), b = TempDir();
        try
        {
            var straight = TrainingSession.Run(new SessionOptions(Small(60, a1, a2, a3), a, false), new NullObserver(), default);
            TrainingSession.Run(new SessionOptions(Small(30, a1, a2, a3), b, false), new NullObserver(), default);
            var resumed = TrainingSession.Run(new SessionOptions(TrainingSession.LoadRunConfig(b) with
                { Training = Small(60, a1, a2, a3).Training }, b, true), new NullObserver(), default);
            Assert.Equal(60, resumed.Steps);
            Assert.Equal(straight.ParamChecksum, resumed.ParamChecksum);
            Assert.Equal(straight.FinalEvalMse, resumed.FinalEvalMse);
        }
        finally { Cleanup(a); Cleanup(b); }
    }

    [Fact]
    public void Checkpoint_restores_the_adaptive_scheduler_and_refuses_another_optimizer()
    {
        string dir = TempDir();
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, "c.ckpt");
        try
        {
            var config = OptimizerTests.Config("training.scheduler=adaptive_threshold", "training.optimizer=sgd");
            var t = new Trainer<double>(config);
            t.TrainStep();
            var s = (AdaptiveThresholdScheduler)t.Scheduler;
            (s.Metric, s.Lr, s.Decrement) = (0.123456789012345, 3.3e-3, false);
            Checkpoint.Save(path, t, 0);
            var u = new Trainer<double>(config);
            Checkpoint.Load(path, u);
            var r = (AdaptiveThresholdScheduler)u.Scheduler;
            Assert.Equal((s.Metric, s.Lr, s.Decrement), (r.Metric, r.Lr, r.Decrement));
            Assert.Equal(((Sgd<double>)t.Optimizer).Buffer, ((Sgd<double>)u.Optimizer).Buffer);
            Assert.Equal(1, u.Optimizer.Steps);
            var e = Assert.Throws<ConfigException>(() => Checkpoint.Load(path, new Trainer<double>(OptimizerTests.Config("training.scheduler=adaptive_threshold"))));
            Assert.Contains("sgd", e.Message);
            var e2 = Assert.Throws<ConfigException>(() => Checkpoint.Load(path, new Trainer<double>(OptimizerTests.Config("training.optimizer=sgd"))));
            Assert.Contains("adaptive", e2.Message);
        }
        finally { Cleanup(dir); }
    }

    [Fact]
    public void A_version_1_checkpoint_still_loads_as_adam()
    {
        string dir = TempDir();
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, "c.ckpt");
        try
        {
            var config = OptimizerTests.Config();
            var t = new Trainer<double>(config);
            t.TrainStep(); t.TrainStep();
            Checkpoint.Save(path, t, 0);
            // Rewrite the header as version 1 wrote it: no optimizer, no scheduler; same arrays.
            byte[] all = File.ReadAllBytes(path);
            int len = BitConverter.ToInt32(all, 8);
            var header = JsonNode.Parse(all.AsSpan(12, len))!.AsObject();
            header.Remove("optimizer"); header.Remove("scheduler"); header["version"] = 1;
            byte[] h = System.Text.Encoding.UTF8.GetBytes(header.ToJsonString());
            byte[] body = [.. all.AsSpan(0, 8), .. BitConverter.GetBytes(h.Length), .. h, .. all.AsSpan(12 + len, all.Length - 32 - 12 - len)];
            File.WriteAllBytes(path, [.. body, .. SHA256.HashData(body)]);
            var u = new Trainer<double>(config);
            Assert.Equal(1, Checkpoint.Load(path, u).Version);
            Assert.Equal(t.Model.Store.Checksum(), u.Model.Store.Checksum());
            Assert.Equal(((Adam<double>)t.Optimizer).V, ((Adam<double>)u.Optimizer).V);
            Assert.Equal(t.TrainStep().Loss, u.TrainStep().Loss);
            Assert.Equal(t.Model.Store.Checksum(), u.Model.Store.Checksum());
        }
        finally { Cleanup(dir); }
    }

    private static void Cleanup(string dir) { if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true); }
}

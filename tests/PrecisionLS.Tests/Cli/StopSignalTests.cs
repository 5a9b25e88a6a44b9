using PrecisionLS.Cli;
using PrecisionLS.Training;
using Xunit;

namespace PrecisionLS.Tests.Cli;

/// <summary>A training process stopped by SIGTERM (kill, a scheduler's limit) checkpoints like Ctrl+C (resume is tested elsewhere).</summary>
public sealed class StopSignalTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "pls-sigterm-" + Guid.NewGuid().ToString("N"));

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    [Fact]
    public void Sigterm_stops_after_the_step_with_a_checkpoint_and_a_stopped_summary()
    {
        Assert.False(OperatingSystem.IsWindows(), "POSIX signals: this test runs on Linux and macOS");
        var log = new StringWriter();
        using var p = SelfLauncher.Start(["train", "--preset", "explicit-gradient", "--steps", "1000000", "--out", _dir, "--threads", "1",
            "--set", "model.n_embd=8", "--set", "training.batch_size=16", "--set", "training.eval_batch_size=16",
            "--set", "training.log_every=1", "--set", "training.save_every_steps=100000"], log);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (RunInfo.ReadMetricsSafe(_dir) < 3 && DateTime.UtcNow < deadline && !p.HasExited) Thread.Sleep(100);
        Assert.False(p.HasExited, log.ToString());
        SelfLauncher.Terminate(p);
        Assert.True(p.WaitForExit(60_000), "the process did not stop");
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, log.ToString());
        Assert.Contains("SIGTERM: stopping after the current step", log.ToString());
        var info = RunInfo.Load(_dir);
        Assert.Equal(RunSummary.Stopped, info.Status);
        Assert.True(File.Exists(TrainingSession.CheckpointPath(_dir)));
        Assert.True(info.Steps >= 3);
    }
}

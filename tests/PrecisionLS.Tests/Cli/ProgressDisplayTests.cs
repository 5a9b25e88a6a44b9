using PrecisionLS.Cli;
using PrecisionLS.Training;
using Xunit;

namespace PrecisionLS.Tests.Cli;

public sealed class ProgressDisplayTests
{
    /// <summary>A clock that only moves when told to.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private long _ticks;
        public override long TimestampFrequency => 1000;
        public override long GetTimestamp() => _ticks;
        public void Advance(TimeSpan by) => _ticks += (long)(by.TotalSeconds * 1000);
    }

    private static TrainingRecord Row(long step, double? eval = null) =>
        new(step, 3.14159e-9, 1e-2, 1.0, false, eval, null, null, step * 0.01);

    [Fact]
    public void Plain_PrintsEveryInterval_OnEvalSteps_AndAtCompletion()
    {
        var clock = new ManualClock();
        var output = new StringWriter();
        using (var display = new ProgressDisplay(1000, title: null, interactive: false, plainOutput: output,
                   printInterval: TimeSpan.FromSeconds(2), timeProvider: clock))
        {
            for (int s = 1; s <= 1000; s++)
            {
                clock.Advance(TimeSpan.FromMilliseconds(10)); // 100 steps/s
                display.Report(Row(s, eval: s == 450 ? 2.9e-9 : null));
            }
            display.Complete("done: 1000 steps");
        }

        string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal("done: 1000 steps", lines[^1]);
        // 10 s of training: lines at 2, 4, ... 10 s plus the eval step.
        Assert.Contains(lines, l => l.StartsWith("step 450/1000  loss 3.14e-09  eval_mse 2.90e-09  lr 1.0e-02  100.0 steps/s  ETA 00:00:05", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("step 200/1000  loss 3.14e-09  eval_mse -  lr 1.0e-02", StringComparison.Ordinal));
        Assert.Equal("step 1000/1000  loss 3.14e-09  eval_mse 2.90e-09  lr 1.0e-02  100.0 steps/s  ETA 00:00:00", lines[^2]);
        Assert.InRange(lines.Length, 6, 8);
        Assert.Single(lines, l => l.StartsWith("step 1000/", StringComparison.Ordinal));
    }

    [Fact]
    public void A_time_budget_caps_the_eta()
    {
        var clock = new ManualClock();
        var output = new StringWriter();
        using (var display = new ProgressDisplay(1_000_000, title: null, interactive: false, plainOutput: output,
                   printInterval: TimeSpan.FromSeconds(2), timeProvider: clock))
        {
            display.SetBudget(TimeSpan.FromSeconds(60));
            for (int s = 1; s <= 1000; s++)
            {
                clock.Advance(TimeSpan.FromMilliseconds(10));   // 100 steps/s: 10,000 s for the steps, but 60 s of budget
                display.Report(Row(s));
            }
        }
        string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Contains(lines, l => l.StartsWith("step 1000/1000000", StringComparison.Ordinal) && l.EndsWith("ETA 00:00:50", StringComparison.Ordinal));
    }

    [Fact]
    public void Plain_Complete_PrintsLastStateOnce()
    {
        var clock = new ManualClock();
        var output = new StringWriter();
        using var display = new ProgressDisplay(100, interactive: false, plainOutput: output, timeProvider: clock);
        display.Report(Row(1));
        clock.Advance(TimeSpan.FromSeconds(0.1));
        display.Report(Row(2));
        display.Complete("stopped");
        display.Complete("stopped again");
        string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("step 2/100", lines[0]);
        Assert.Equal("stopped", lines[1]);
    }
}

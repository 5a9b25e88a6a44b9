using PrecisionLS.Training;

namespace PrecisionLS.Cli;

/// <summary>Shows a training session's progress on the console through <see cref="ProgressDisplay"/>.</summary>
/// <param name="runDirectory">The run's folder (its name titles the display).</param>
/// <param name="budgetSeconds">The session's wall-clock budget, if any: the ETA stops there.</param>
public sealed class ConsoleObserver(string runDirectory, double? budgetSeconds = null) : ITrainingObserver, IDisposable
{
    private ProgressDisplay? _display;

    public void Started(long fromStep, long total, long parameters, string dtype)
    {
        Console.WriteLine($"{parameters:N0} trainable parameters, {dtype}, starting at step {fromStep} of {total}");
        _display = new ProgressDisplay(total, Path.GetFileName(runDirectory));
        if (budgetSeconds is double b) _display.SetBudget(TimeSpan.FromSeconds(b));
    }

    public void Report(TrainingRecord record) => _display?.Report(record);

    public void Message(string text) => Console.WriteLine(text);

    public void Dispose()
    {
        _display?.Complete($"done: {runDirectory}");
        _display?.Dispose();
    }
}

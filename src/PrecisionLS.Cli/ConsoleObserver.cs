using PrecisionLS.Training;

namespace PrecisionLS.Cli;

/// <summary>Shows a training session's progress on the console through <see cref="ProgressDisplay"/>.</summary>
public sealed class ConsoleObserver(string runDirectory) : ITrainingObserver, IDisposable
{
    private ProgressDisplay? _display;

    public void Started(long fromStep, long total, long parameters, string dtype)
    {
        Console.WriteLine($"{parameters:N0} trainable parameters, {dtype}, starting at step {fromStep} of {total}");
        _display = new ProgressDisplay(total, Path.GetFileName(runDirectory));
    }

    public void Report(TrainingRecord record) => _display?.Report(record);

    public void Message(string text) => Console.WriteLine(text);

    public void Dispose()
    {
        _display?.Complete($"done: {runDirectory}");
        _display?.Dispose();
    }
}

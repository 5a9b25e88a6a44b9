using System.Runtime.InteropServices;

namespace PrecisionLS.Cli;

/// <summary>
/// Turns Ctrl+C (SIGINT), SIGTERM (kill, a scheduler's time limit, docker stop) and SIGHUP (a closed terminal) into
/// a cancellation, so a training run stops after its current step and writes its checkpoint instead of dying.
/// </summary>
public sealed class StopSignals : IDisposable
{
    private readonly CancellationTokenSource _cancel = new();
    private readonly PosixSignalRegistration[] _registrations;

    public StopSignals()
    {
        _registrations = [.. new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP }.Select(s => PosixSignalRegistration.Create(s, Handle))];
    }

    /// <summary>Cancelled at the first stop signal.</summary>
    public CancellationToken Token => _cancel.Token;

    private void Handle(PosixSignalContext context)
    {
        context.Cancel = true;   // keep running: the session stops at the end of the step
        if (!_cancel.IsCancellationRequested)
            Console.Error.WriteLine($"{context.Signal}: stopping after the current step (checkpoint follows)");
        _cancel.Cancel();
    }

    public void Dispose()
    {
        foreach (var r in _registrations) r.Dispose();
        _cancel.Dispose();
    }
}

namespace PrecisionLS.Numerics;

/// <summary>
/// Runs a static kernel over [0, count) on <see cref="WorkerPool.Shared"/>, handing it a struct of arguments
/// (pointers and sizes). Function pointer plus struct state: no closure, no allocation per call.
/// </summary>
public static unsafe class ParallelFor
{
    /// <summary>Calls body(state, start, end) on disjoint pieces of [0, count); returns when all are done.</summary>
    public static void Run<TState>(int count, int minPerWorker, in TState state, delegate*<in TState, int, int, void> body)
        where TState : struct
    {
        var runner = Runner<TState>.Current;
        // A kernel that calls Run again (on the same thread) must not clobber the outer call's state.
        TState savedState = runner.State;
        delegate*<in TState, int, int, void> savedBody = runner.Body;
        runner.State = state; runner.Body = body;
        try { WorkerPool.Shared.For(count, minPerWorker, runner.Invoke); }
        finally { runner.State = savedState; runner.Body = savedBody; }
    }

    private sealed class Runner<TState> where TState : struct
    {
        [ThreadStatic] private static Runner<TState>? _current;
        public static Runner<TState> Current => _current ??= new Runner<TState>();
        public TState State;
        public delegate*<in TState, int, int, void> Body;
        public readonly Action<int, int> Invoke;
        private Runner() { Invoke = Execute; }
        private void Execute(int start, int end) => Body(in State, start, end);
    }
}

namespace PrecisionLS.Numerics;

/// <summary>
/// Runs MathNet.Numerics' managed linear algebra on the calling thread only, for the scope of a using block.
/// </summary>
/// <remarks>
/// MathNet's managed provider splits even a 20x5 QR or SVD over Parallel.For. On these small per-problem
/// factorisations that only adds scheduling cost, and on a busy 2-core machine a lot of it: 1000 QR solves of 20x5
/// took 1.9 s with MathNet's default (MaxDegreeOfParallelism = core count) and 4.4 ms with 1; 1000 SVD solves 470 ms
/// and 33 ms (measured here, with a training job running). PrecisionLS parallelises over problems or batches instead.
/// The setting is process-wide (MathNet has no per-call option), so the previous value is restored on dispose;
/// results do not depend on it.
/// </remarks>
public static class MathNetThreading
{
    /// <summary>Sets MathNet's MaxDegreeOfParallelism to 1 until the returned scope is disposed.</summary>
    public static IDisposable Serial()
    {
        int previous = MathNet.Numerics.Control.MaxDegreeOfParallelism;
        MathNet.Numerics.Control.MaxDegreeOfParallelism = 1;
        return new Scope(previous);
    }

    private sealed class Scope(int previous) : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            MathNet.Numerics.Control.MaxDegreeOfParallelism = previous;
        }
    }
}

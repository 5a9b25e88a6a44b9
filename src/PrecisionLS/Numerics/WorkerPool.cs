namespace PrecisionLS.Numerics;

/// <summary>
/// A fixed set of worker threads that split a range of independent items (rows, channels, batch entries).
/// Range [0, count) is cut into one contiguous piece per worker; the caller's thread runs the first piece.
/// </summary>
/// <remarks>
/// Why not Parallel.For: it allocates on every call and the training step must allocate nothing. Callers keep
/// their body delegates in fields. Kernels give each output element to exactly one worker and sum in a fixed
/// order, so results do not depend on the number of threads.
/// </remarks>
public sealed class WorkerPool : IDisposable
{
    private static WorkerPool? _shared;
    private static readonly object SharedLock = new();

    /// <summary>The process-wide pool, sized by <see cref="Configure"/> (default: all cores).</summary>
    public static WorkerPool Shared
    {
        get
        {
            if (_shared is not null) return _shared;
            lock (SharedLock) return _shared ??= new WorkerPool(Environment.ProcessorCount);
        }
    }

    /// <summary>Replaces the shared pool with one of <paramref name="threads"/> workers (1 = serial).</summary>
    public static void Configure(int threads)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "threads must be at least 1");
        lock (SharedLock)
        {
            if (_shared is not null && _shared.Threads == threads) return;
            _shared?.Dispose();
            _shared = new WorkerPool(threads);
        }
    }

    private readonly Thread[] _threads;
    private readonly SemaphoreSlim[] _go;
    private Action<int, int>? _body;
    private int _count;
    private int _workers;
    private int _pending;
    private volatile bool _stop;
    private int _busy;
    private Exception? _error;

    /// <summary>Number of workers including the calling thread.</summary>
    public int Threads { get; }

    public WorkerPool(int threads)
    {
        Threads = threads;
        _threads = new Thread[threads - 1];
        _go = new SemaphoreSlim[threads - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            int index = i + 1;
            _go[i] = new SemaphoreSlim(0);
            _threads[i] = new Thread(() => WorkerLoop(index)) { IsBackground = true, Name = $"precisionls-worker-{index}" };
            _threads[i].Start();
        }
    }

    /// <summary>Runs body(start, end) over [0, count) split across the workers; returns when all are done.</summary>
    /// <param name="count">Number of independent items.</param>
    /// <param name="minPerWorker">Below this many items per worker the work runs on the calling thread alone.</param>
    /// <param name="body">Work on items [start, end). Keep it in a field: a new lambda per call allocates.</param>
    public void For(int count, int minPerWorker, Action<int, int> body)
    {
        if (count <= 0) return;
        int workers = Math.Min(Threads, Math.Max(1, count / Math.Max(1, minPerWorker)));
        // One parallel job at a time: a second caller (another thread, or a nested call) runs serially.
        if (workers == 1 || Interlocked.CompareExchange(ref _busy, 1, 0) != 0) { body(0, count); return; }
        try { RunParallel(count, workers, body); }
        finally { Volatile.Write(ref _busy, 0); }
    }

    private void RunParallel(int count, int workers, Action<int, int> body)
    {
        _body = body; _count = count; _workers = workers; _error = null;
        Volatile.Write(ref _pending, workers - 1);
        for (int i = 1; i < workers; i++) _go[i - 1].Release();
        Exception? mine = null;
        try { (int s, int e) = Range(0, workers, count); body(s, e); }
        catch (Exception ex) { mine = ex; }
        var spin = new SpinWait();
        while (Volatile.Read(ref _pending) > 0) spin.SpinOnce(sleep1Threshold: -1);
        _body = null;
        if (mine is not null) throw mine;
        if (_error is not null) throw new AggregateException("a worker thread failed", _error);
    }

    private static (int, int) Range(int worker, int workers, int count)
    {
        long s = (long)count * worker / workers, e = (long)count * (worker + 1) / workers;
        return ((int)s, (int)e);
    }

    private void WorkerLoop(int index)
    {
        while (true)
        {
            _go[index - 1].Wait();
            if (_stop) return;
            try
            {
                (int s, int e) = Range(index, _workers, _count);
                if (s < e) _body!(s, e);
            }
            catch (Exception ex) { _error = ex; }
            finally { Interlocked.Decrement(ref _pending); }
        }
    }

    public void Dispose()
    {
        _stop = true;
        foreach (var g in _go) g.Release();
    }
}

using System.Diagnostics;
using PrecisionLS.Config;
using PrecisionLS.Monarch;
using PrecisionLS.Numerics;

namespace PrecisionLS.Bench;

/// <summary>
/// One width of `bench monarch`: a square Monarch multiply (nblocks = √n) of a [batch, n] float64 matrix against the
/// dense product with an (n × n) matrix through <see cref="Gemm"/>, timed in the same run.
/// </summary>
/// <param name="N">Width n (a perfect square).</param>
/// <param name="Batch">Rows multiplied.</param>
/// <param name="Nblocks">Blocks per factor, √n.</param>
/// <param name="DenseMs">Median milliseconds of the dense product.</param>
/// <param name="MonarchMs">Median milliseconds of the Monarch product.</param>
/// <param name="Speedup">dense_ms / monarch_ms.</param>
/// <param name="FlopRatio">Dense over Monarch floating-point operations, n / (2√n).</param>
/// <param name="SpeedupOverFlopRatio">speedup / flop_ratio: 1 when the Monarch product runs at the dense GEMM's rate.</param>
/// <param name="DenseGflops">2·batch·n² / dense time.</param>
/// <param name="MonarchGflops">2·batch·2n√n / Monarch time.</param>
/// <param name="DenseSamples">Timed dense products.</param>
/// <param name="MonarchSamples">Timed Monarch products.</param>
/// <param name="MaxRelativeDifference">Largest |monarch − dense| / max|dense| over the output, with the dense matrix
/// set to the Monarch matrix (a check that both compute the same product).</param>
/// <param name="Threads">Worker threads.</param>
public sealed record MonarchBenchReport(
    int N, int Batch, int Nblocks, double DenseMs, double MonarchMs, double Speedup, double FlopRatio, double SpeedupOverFlopRatio,
    double DenseGflops, double MonarchGflops, int DenseSamples, int MonarchSamples, double MaxRelativeDifference, int Threads);

/// <summary>Times the square Monarch multiply against the dense GEMM it replaces (`precisionls bench monarch`).</summary>
public static class MonarchBenchmark
{
    /// <summary>
    /// For each n: warm-up calls, then dense and Monarch products interleaved (so machine drift hits both alike)
    /// until about <paramref name="secondsPerSize"/> seconds are spent, at least 5 dense and 15 Monarch samples;
    /// medians are reported.
    /// </summary>
    public static IReadOnlyList<MonarchBenchReport> Run(IReadOnlyList<int> sizes, long batch, double secondsPerSize = 3.0)
    {
        if (batch < 1) throw new ConfigException($"--batch {batch} must be at least 1");
        foreach (int n in sizes)
        {
            int b = (int)Math.Round(Math.Sqrt(n));
            if (n < 4 || b * b != n) throw new ConfigException($"--n {n} is not a perfect square of at least 4; a square Monarch matrix needs n = b² (e.g. 256, 1024, 4096)");
            if (batch * n > Array.MaxLength || (long)n * n > Array.MaxLength)
                throw new ConfigException($"--batch {batch} with --n {n}: a [batch, n] or [n, n] matrix of {Math.Max(batch * n, (long)n * n)} values is more than one array holds");
        }
        return sizes.Select(n => RunOne(n, (int)batch, secondsPerSize)).ToList();
    }

    private static MonarchBenchReport RunOne(int n, int batch, double secondsPerSize)
    {
        var shape = MonarchShape.Square(n);
        var rng = new Rng((ulong)n);
        long len = (long)batch * n;
        var (xa, xo) = Aligned(len);
        var (yda, ydo) = Aligned(len);
        var (yma, ymo) = Aligned(len);
        var w1 = new double[shape.W1Length]; var w2 = new double[shape.W2Length];
        rng.FillGaussian(xa.AsSpan(xo, (int)len)); rng.FillGaussian(w1.AsSpan()); rng.FillGaussian(w2.AsSpan());
        // The dense matrix is the Monarch matrix, transposed to [in, out] so the dense product is one NN GEMM:
        // y = x·Dᵀ, the layout a Linear's forward would use after packing.
        var dense = new double[(long)n * n];
        var denseT = new double[(long)n * n];
        MonarchMultiply.ToDense<double>(w1, w2, shape, dense);
        for (int o = 0; o < n; o++)
            for (int i = 0; i < n; i++) denseT[(long)i * n + o] = dense[(long)o * n + i];
        void Dense() => Gemm.NN<double>(xa.AsSpan(xo, (int)len), denseT, yda.AsSpan(ydo, (int)len), batch, n, n, accumulate: false);
        void Monarch() => MonarchMultiply.Forward<double>(xa.AsSpan(xo, (int)len), w1, w2, yma.AsSpan(ymo, (int)len), shape, batch);

        double denseFirst = Time(Dense), monarchFirst = Time(Monarch);   // warm-up (JIT, page faults, scratch)
        for (int i = 0; i < 2; i++) { denseFirst = Math.Min(denseFirst, Time(Dense)); monarchFirst = Math.Min(monarchFirst, Time(Monarch)); }

        double scale = 0, diff = 0;
        for (long i = 0; i < len; i++) { scale = Math.Max(scale, Math.Abs(yda[ydo + i])); diff = Math.Max(diff, Math.Abs(yda[ydo + i] - yma[ymo + i])); }

        // Per round: one dense product and as many Monarch products as take about the same time (at least 3).
        int monarchPerRound = (int)Math.Clamp(denseFirst / Math.Max(1e-6, monarchFirst), 3, 50);
        var denseTimes = new List<double>(); var monarchTimes = new List<double>();
        var clock = Stopwatch.StartNew();
        while (denseTimes.Count < 5 || monarchTimes.Count < 15 || clock.Elapsed.TotalSeconds < secondsPerSize)
        {
            denseTimes.Add(Time(Dense));
            for (int i = 0; i < monarchPerRound; i++) monarchTimes.Add(Time(Monarch));
            if (denseTimes.Count >= 101) break;
        }
        double denseMs = Median(denseTimes), monarchMs = Median(monarchTimes);
        double flopRatio = n / (2.0 * Math.Sqrt(n));
        double denseFlop = 2.0 * batch * n * (double)n, monarchFlop = 2.0 * batch * shape.MultiplyAddsPerRow;
        double speedup = denseMs / monarchMs;
        return new MonarchBenchReport(n, batch, shape.K, denseMs, monarchMs, speedup, flopRatio, speedup / flopRatio,
            denseFlop / (denseMs * 1e6), monarchFlop / (monarchMs * 1e6), denseTimes.Count, monarchTimes.Count,
            scale > 0 ? diff / scale : diff, WorkerPool.Shared.Threads);
    }

    // A pinned array and the offset where its first 64-byte aligned element sits: the inputs and outputs of both
    // products start on a cache line (as numpy's and most BLAS callers' buffers do), so the Monarch product may stream
    // its 8-128 MB output past the caches (MonarchMultiply.StreamingBytes).
    private static unsafe (double[] Array, int Offset) Aligned(long length)
    {
        var a = GC.AllocateArray<double>((int)length + 8, pinned: true);
        fixed (double* p = a) return (a, (int)((64 - (nint)p % 64) % 64 / sizeof(double)));
    }

    private static double Time(Action f)
    {
        long t0 = Stopwatch.GetTimestamp();
        f();
        return Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        int c = sorted.Length;
        return c % 2 == 1 ? sorted[c / 2] : 0.5 * (sorted[c / 2 - 1] + sorted[c / 2]);
    }
}

using System.Diagnostics;
using PrecisionLS.Numerics;

namespace PrecisionLS.Bench;

/// <summary>GFLOP/s of the float64 GEMM kernels on given shapes (the measuring stick for kernel work).</summary>
public sealed record GemmReport(string Kind, int M, int N, int K, double MsMedian, double Gflops, int Threads);

public static class GemmBenchmark
{
    /// <summary>Times c = a·b (NN), a·bᵀ (NT) and aᵀ·b (TN) on the training step's shapes and a square 1024 one.</summary>
    public static IReadOnlyList<GemmReport> Run(int repeats = 21)
    {
        var rng = new Rng(1);
        var reports = new List<GemmReport>();
        foreach (var (kind, m, n, k) in new[] { ("NT", 21504, 64, 64), ("NN", 21504, 64, 64), ("TN", 64, 64, 21504), ("NN", 1024, 1024, 1024) })
        {
            var a = new double[(long)m * k]; var b = new double[(long)k * n]; var c = new double[(long)m * n];
            rng.FillGaussian(a.AsSpan()); rng.FillGaussian(b.AsSpan());
            void Once()
            {
                switch (kind)
                {
                    case "NN": Gemm.NN<double>(a, b, c, m, n, k, false); break;
                    case "NT": Gemm.NT<double>(a, b, c, m, n, k, false); break;
                    default: Gemm.TN<double>(a, b, c, m, n, k, false); break;
                }
            }
            for (int i = 0; i < 10; i++) Once();
            var t = new double[repeats];
            for (int i = 0; i < repeats; i++) { long t0 = Stopwatch.GetTimestamp(); Once(); t[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds; }
            Array.Sort(t);
            double med = t[repeats / 2];
            reports.Add(new GemmReport(kind, m, n, k, med, 2.0 * m * n * k / (med * 1e-3) / 1e9, WorkerPool.Shared.Threads));
        }
        return reports;
    }
}

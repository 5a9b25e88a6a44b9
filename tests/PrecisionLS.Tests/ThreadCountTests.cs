using PrecisionLS.Config;
using PrecisionLS.Numerics;
using PrecisionLS.Training;
using Xunit;

namespace PrecisionLS.Tests;

/// <summary>Tests that resize the shared worker pool run alone: no other test may use the pool meanwhile.</summary>
[CollectionDefinition(nameof(SharedPoolCollection), DisableParallelization = true)]
public class SharedPoolCollection;

/// <summary>Every kernel sums in a fixed order, so 1 and 2 threads give bit-identical results.</summary>
[Collection(nameof(SharedPoolCollection))]
public class ThreadCountTests
{
    private static double[] Random(int n, ulong seed) { var a = new double[n]; new Rng(seed).FillGaussian(a.AsSpan()); return a; }

    [Fact]
    public void Gemm_results_do_not_depend_on_the_thread_count()
    {
        int m = 70, n = 64, k = 9000;
        var a = Random(k * m, 5); var b = Random(k * n, 6);
        var c1 = new double[m * n]; var c2 = new double[m * n];
        WorkerPool.Configure(2);
        Gemm.TN<double>(a, b, c2, m, n, k, false);
        WorkerPool.Configure(1);
        try { Gemm.TN<double>(a, b, c1, m, n, k, false); }
        finally { WorkerPool.Configure(Environment.ProcessorCount); }
        Assert.Equal(c1, c2);
    }

    [Fact]
    public void Training_steps_do_not_depend_on_the_thread_count()
    {
        var cfg = ConfigLoader.FromPreset("explicit-gradient", ["training.batch_size=96", "model.n_embd=16"]);
        var t1 = new Trainer<double>(cfg);
        var t2 = new Trainer<double>(cfg);
        WorkerPool.Configure(1);
        try { for (int i = 0; i < 8; i++) t1.TrainStep(); }
        finally { WorkerPool.Configure(2); }
        try { for (int i = 0; i < 8; i++) t2.TrainStep(); }
        finally { WorkerPool.Configure(Environment.ProcessorCount); }
        Assert.Equal(t1.Model.Store.Checksum(), t2.Model.Store.Checksum());
    }

}

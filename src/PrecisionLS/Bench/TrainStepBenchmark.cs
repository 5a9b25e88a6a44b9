using System.Diagnostics;
using System.Numerics;
using PrecisionLS.Config;
using PrecisionLS.Numerics;
using PrecisionLS.Training;

namespace PrecisionLS.Bench;

/// <summary>Timing of training steps of one config (machine-readable figures for `bench train-step --json`).</summary>
public sealed record TrainStepReport(
    string Preset, string Dtype, int Batch, long Parameters, long FlopPerStep, int Threads,
    int StepsMeasured, double MsPerStepMedian, double MsPerStepMin, double GflopsAtMedian,
    long AllocatedBytesPerStep, long PeakWorkingSetBytes, string Simd, int ProcessorCount,
    IReadOnlyDictionary<string, double>? ProfileMsPerStep = null);

/// <summary>Runs warm-up steps, then times each of <c>steps</c> training steps separately.</summary>
public static class TrainStepBenchmark
{
    public static TrainStepReport Run(RunConfig config, int steps, int warmup, bool profile = false)
    {
        if (steps < 1) throw new ConfigException($"--steps {steps} must be at least 1");
        return config.Training.Dtype switch
        {
            "float64" => Run<double>(config, steps, warmup, profile),
            "float32" => Run<float>(config, steps, warmup, profile),
            var d => throw new ConfigException($"training.dtype '{d}' is unknown; accepted: float64, float32"),
        };
    }

    private static TrainStepReport Run<T>(RunConfig config, int steps, int warmup, bool profile) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var trainer = new Trainer<T>(config);
        for (int i = 0; i < warmup; i++) trainer.TrainStep();
        StepProfiler.Reset();
        StepProfiler.Enabled = profile;
        var times = new double[steps];
        long allocBefore = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < steps; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            trainer.TrainStep();
            times[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        }
        long allocated = (GC.GetAllocatedBytesForCurrentThread() - allocBefore) / steps;
        StepProfiler.Enabled = false;
        var phases = profile ? StepProfiler.Snapshot().ToDictionary(p => p.Phase, p => p.Ms / steps) : null;
        Array.Sort(times);
        double median = steps % 2 == 1 ? times[steps / 2] : 0.5 * (times[steps / 2 - 1] + times[steps / 2]);
        long flops = trainer.FlopsPerStep;
        return new TrainStepReport(config.Preset ?? "(config)", Checkpoint.DtypeName<T>(), config.Training.BatchSize,
            trainer.Model.Store.TrainableCount, flops, WorkerPool.Shared.Threads, steps, median, times[0],
            flops / (median * 1e-3) / 1e9, allocated, Process.GetCurrentProcess().PeakWorkingSet64,
            SimdInfo.Describe(), Environment.ProcessorCount, phases);
    }
}

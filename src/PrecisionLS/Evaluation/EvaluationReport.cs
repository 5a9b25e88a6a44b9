namespace PrecisionLS.Evaluation;

/// <summary>mse, rel and rel_l2 (the task's own metrics, REFERENCE §1) as means over batches with 95% intervals.</summary>
public sealed record MetricEstimates(Estimate Mse, Estimate Rel, Estimate RelL2);

/// <summary>The metrics under one shift value, and the generalisation gap against in distribution.</summary>
/// <param name="Shift">The shift.</param>
/// <param name="Metrics">Metrics under the shift.</param>
/// <param name="Gap">Shifted mse / in-distribution mse (mean over batches of each).</param>
public sealed record ShiftResult(DistributionShift Shift, MetricEstimates Metrics, double Gap);

/// <summary>What <c>eval</c> measured for one run.</summary>
/// <param name="Run">The run directory (as given).</param>
/// <param name="Task">training.task.</param>
/// <param name="Dtype">The model's element type, float64 or float32.</param>
/// <param name="Step">The checkpoint's training step.</param>
/// <param name="Batches">Held-out batches per condition.</param>
/// <param name="BatchSize">Examples per batch.</param>
/// <param name="Seed">The evaluation seed (stream <see cref="RunEvaluator.SeedLabel"/> derived from it).</param>
/// <param name="InDistribution">Metrics on the run's own distribution, at full size.</param>
/// <param name="Shifts">One result per shift value, in the order given.</param>
public sealed record EvaluationReport(string Run, string Task, string Dtype, long Step, int Batches, int BatchSize, ulong Seed,
    MetricEstimates InDistribution, IReadOnlyList<ShiftResult> Shifts);

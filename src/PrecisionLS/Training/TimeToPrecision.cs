namespace PrecisionLS.Training;

/// <summary>When a run first reached a held-out MSE: its step and training wall time (reproduce time-to-precision).</summary>
/// <param name="Threshold">The held-out MSE aimed at.</param>
/// <param name="Step">First evaluated step with eval_mse ≤ threshold; null when never reached.</param>
/// <param name="WallSeconds">Training wall time of that row (evaluations included); null when never reached.</param>
public readonly record struct ThresholdCrossing(double Threshold, long? Step, double? WallSeconds)
{
    public bool Reached => Step is not null;
}

/// <summary>Wall time to held-out MSE thresholds, from a run's metrics rows.</summary>
public static class TimeToPrecision
{
    /// <summary>The thresholds of issue 9: 1e-6, 1e-10, 1e-13 (the 10-minute target) and 1e-20 (the 60-minute target).</summary>
    public static readonly double[] Thresholds = [1e-6, 1e-10, 1e-13, 1e-20];

    /// <summary>The first evaluated row at or below each threshold (rows in step order, as metrics.jsonl holds them).</summary>
    public static IReadOnlyList<ThresholdCrossing> Crossings(IReadOnlyList<TrainingRecord> records, IEnumerable<double> thresholds)
    {
        var result = new List<ThresholdCrossing>();
        foreach (double threshold in thresholds)
        {
            var hit = records.FirstOrDefault(r => r.EvalMse is double m && m <= threshold);
            result.Add(hit is null ? new ThresholdCrossing(threshold, null, null) : new ThresholdCrossing(threshold, hit.Step, hit.WallSeconds));
        }
        return result;
    }
}

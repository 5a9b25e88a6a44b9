using MathNet.Numerics.Distributions;

namespace PrecisionLS.Evaluation;

/// <summary>A mean and the half-width of its two-sided 95% confidence interval: the interval is Mean ± HalfWidth.</summary>
/// <param name="Mean">Sample mean.</param>
/// <param name="HalfWidth">t_{0.975, n-1} · s / √n.</param>
public readonly record struct Estimate(double Mean, double HalfWidth);

/// <summary>
/// Confidence intervals for the mean of a few independent measurements (one per held-out batch).
/// </summary>
/// <remarks>
/// Student's t interval: mean ± t_{0.975, n-1} · s/√n with s the sample standard deviation (n - 1 in the
/// denominator). Each value is the metric of one whole batch, itself a mean over thousands of examples, so the
/// values are close to normal and independent (each batch is drawn from its own stretch of a seeded stream); with
/// the default 10 batches t_{0.975, 9} = 2.262, noticeably wider than the normal quantile 1.960, which would
/// understate the uncertainty. Equal batch sizes make the mean of per-batch MSEs the MSE of all examples pooled.
/// </remarks>
public static class ConfidenceInterval
{
    /// <summary>The two-sided 95% quantile of Student's t with <paramref name="degreesOfFreedom"/> degrees of freedom.</summary>
    public static double TQuantile95(int degreesOfFreedom)
    {
        if (degreesOfFreedom < 1) throw new ArgumentOutOfRangeException(nameof(degreesOfFreedom), degreesOfFreedom, "at least 1 degree of freedom");
        return StudentT.InvCDF(0, 1, degreesOfFreedom, 0.975);
    }

    /// <summary>Mean of <paramref name="values"/> and the half-width of its 95% t interval (at least two values).</summary>
    /// <exception cref="ArgumentException">Fewer than two values: no spread to estimate.</exception>
    public static Estimate Mean95(ReadOnlySpan<double> values)
    {
        int n = values.Length;
        if (n < 2) throw new ArgumentException($"a confidence interval needs at least 2 values, got {n}", nameof(values));
        double mean = 0;
        foreach (double v in values) mean += v;
        mean /= n;
        double ss = 0;
        foreach (double v in values) ss += (v - mean) * (v - mean);
        double s = Math.Sqrt(ss / (n - 1));
        return new Estimate(mean, TQuantile95(n - 1) * s / Math.Sqrt(n));
    }
}

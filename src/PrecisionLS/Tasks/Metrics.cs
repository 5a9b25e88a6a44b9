using System.Numerics;

namespace PrecisionLS.Tasks;

/// <summary>
/// Error metrics of a prediction against its target (REFERENCE §1; the authors' metrics.py): plain means over all
/// elements, with e = y - yPred. Sums run in double in index order whatever the element type is, so the
/// result does not depend on the element type's precision beyond the inputs' own rounding.
/// </summary>
/// <remarks>
/// Inputs are two spans of equal length; a length mismatch throws <see cref="ArgumentException"/>. Empty spans
/// give NaN (mean of nothing), as PyTorch does. NaN or infinite inputs propagate. rel and rel_l2 divide by mean|y|
/// and are infinite or NaN when every y is 0.
/// </remarks>
public static class Metrics
{
    /// <summary>mse = mean((y - yPred)²).</summary>
    public static double Mse<T>(ReadOnlySpan<T> yPred, ReadOnlySpan<T> y) where T : INumberBase<T>
    {
        CheckLengths(yPred, y);
        double se = 0;
        for (int i = 0; i < y.Length; i++)
        {
            double e = double.CreateChecked(y[i]) - double.CreateChecked(yPred[i]);
            se += e * e;
        }
        return se / y.Length;
    }

    /// <summary>mae = mean|y - yPred|.</summary>
    public static double Mae<T>(ReadOnlySpan<T> yPred, ReadOnlySpan<T> y) where T : INumberBase<T>
    {
        CheckLengths(yPred, y);
        double ae = 0;
        for (int i = 0; i < y.Length; i++) ae += Math.Abs(double.CreateChecked(y[i]) - double.CreateChecked(yPred[i]));
        return ae / y.Length;
    }

    /// <summary>rel = mean|y - yPred| / mean|y| (a ratio of means, not a mean of ratios).</summary>
    public static double Rel<T>(ReadOnlySpan<T> yPred, ReadOnlySpan<T> y) where T : INumberBase<T> =>
        Mae(yPred, y) / MeanAbs(y);

    /// <summary>rel_l2 = sqrt(mean((y - yPred)²)) / mean|y|.</summary>
    public static double RelL2<T>(ReadOnlySpan<T> yPred, ReadOnlySpan<T> y) where T : INumberBase<T> =>
        Math.Sqrt(Mse(yPred, y)) / MeanAbs(y);

    /// <summary>mse, rel and rel_l2 together (REFERENCE §1).</summary>
    public static TaskMetrics All<T>(ReadOnlySpan<T> yPred, ReadOnlySpan<T> y) where T : INumberBase<T> =>
        new(Mse(yPred, y), Rel(yPred, y), RelL2(yPred, y));

    /// <summary>dst[i] = (y[i] - yPred[i])², elementwise; dst at least as long as y; overwrites dst.</summary>
    public static void SquaredError<T>(ReadOnlySpan<T> yPred, ReadOnlySpan<T> y, Span<double> dst) where T : INumberBase<T>
    {
        CheckLengths(yPred, y);
        CheckDestination(dst, y.Length);
        for (int i = 0; i < y.Length; i++)
        {
            double e = double.CreateChecked(y[i]) - double.CreateChecked(yPred[i]);
            dst[i] = e * e;
        }
    }

    /// <summary>dst[i] = |y[i] - yPred[i]| / |y[i]|, elementwise; dst at least as long as y; overwrites dst.</summary>
    public static void RelativeError<T>(ReadOnlySpan<T> yPred, ReadOnlySpan<T> y, Span<double> dst) where T : INumberBase<T>
    {
        CheckLengths(yPred, y);
        CheckDestination(dst, y.Length);
        for (int i = 0; i < y.Length; i++)
        {
            double yi = double.CreateChecked(y[i]);
            dst[i] = Math.Abs(yi - double.CreateChecked(yPred[i])) / Math.Abs(yi);
        }
    }

    private static double MeanAbs<T>(ReadOnlySpan<T> y) where T : INumberBase<T>
    {
        double a = 0;
        for (int i = 0; i < y.Length; i++) a += Math.Abs(double.CreateChecked(y[i]));
        return a / y.Length;
    }

    private static void CheckLengths<T>(ReadOnlySpan<T> yPred, ReadOnlySpan<T> y)
    {
        if (yPred.Length != y.Length)
            throw new ArgumentException($"lengths differ: yPred has {yPred.Length}, y has {y.Length}", nameof(yPred));
    }

    private static void CheckDestination(Span<double> dst, int needed)
    {
        if (dst.Length < needed)
            throw new ArgumentException($"dst has {dst.Length} elements, needs at least {needed}", nameof(dst));
    }
}

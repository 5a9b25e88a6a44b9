using Xunit;

namespace PrecisionLS.Tests.Fixtures;

/// <summary>Element-wise comparison that reports the worst index and difference on failure.</summary>
public static class Compare
{
    /// <summary>
    /// Asserts |actual - expected| &lt;= tol · max(1, |expected|) everywhere (1e-12 relative for O(1) values,
    /// the fixtures' suggested tolerance).
    /// </summary>
    public static void Close(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, double tol, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: length {actual.Length}, expected {expected.Length}");
        if (expected.Length == 0) return;
        int worst = 0; double worstErr = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double err = Math.Abs(actual[i] - expected[i]) / Math.Max(1.0, Math.Abs(expected[i]));
            if (!(err <= worstErr) || double.IsNaN(err)) { worstErr = double.IsNaN(err) ? double.PositiveInfinity : err; worst = i; }
        }
        Assert.True(worstErr <= tol,
            $"{what}: worst scaled difference {worstErr:E3} at index {worst} (expected {expected[worst]:R}, got {actual[worst]:R}), tolerance {tol:E1}");
    }

    public static void Close(FixtureTensor expected, ReadOnlySpan<double> actual, double tol, string what) =>
        Close(expected.Data, actual, tol, what);
}

using PrecisionLS.Evaluation;
using Xunit;

namespace PrecisionLS.Tests.Evaluation;

/// <summary>The 95% Student-t interval on hand-computed values.</summary>
public class ConfidenceIntervalTests
{
    [Fact]
    public void T_quantiles_match_the_tables()
    {
        Assert.Equal(12.7062047362, ConfidenceInterval.TQuantile95(1), 1e-9);
        Assert.Equal(2.7764451052, ConfidenceInterval.TQuantile95(4), 1e-9);
        Assert.Equal(2.2621571628, ConfidenceInterval.TQuantile95(9), 1e-9);
        Assert.Equal(1.959963985, ConfidenceInterval.TQuantile95(1_000_000), 1e-5);   // tends to the normal quantile
    }

    [Fact]
    public void Interval_of_one_to_five()
    {
        // mean 3; s² = (4 + 1 + 0 + 1 + 4)/4 = 2.5; s/√5 = √0.5; half-width t_{0.975,4}·√0.5 = 2.776445105·0.707106781 = 1.963233...
        var e = ConfidenceInterval.Mean95([1.0, 2, 3, 4, 5]);
        Assert.Equal(3.0, e.Mean, 15);
        Assert.Equal(2.7764451051977987 * Math.Sqrt(0.5), e.HalfWidth, 12);
        Assert.Equal(1.9632, e.HalfWidth, 4);
    }

    [Fact]
    public void Two_values_and_equal_values()
    {
        // n = 2: s = |a - b|/√2, half-width t_{0.975,1}·s/√2 = 12.7062·|a - b|/2.
        var e = ConfidenceInterval.Mean95([1.0, 3.0]);
        Assert.Equal(2.0, e.Mean, 15);
        Assert.Equal(12.706204736174705, e.HalfWidth, 10);
        Assert.Equal(new Estimate(0.25, 0), ConfidenceInterval.Mean95([0.25, 0.25, 0.25]));
    }

    [Fact]
    public void Fewer_than_two_values_have_no_interval()
    {
        Assert.Throws<ArgumentException>(() => ConfidenceInterval.Mean95([1.0]));
        Assert.Throws<ArgumentException>(() => ConfidenceInterval.Mean95([]));
    }
}

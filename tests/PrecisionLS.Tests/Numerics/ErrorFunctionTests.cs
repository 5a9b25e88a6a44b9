using PrecisionLS.Numerics;
using Xunit;

namespace PrecisionLS.Tests.Numerics;

/// <summary>erf, erfc and the normal cdf against high-precision values (mpmath, 50 digits, rounded to float64).</summary>
public class ErrorFunctionTests
{
    // Worst relative error measured on 45 000 points in [-6, 6] and [1e-12, 1]: 2.2e-16 (erf), 4.2e-16 (erfc).
    private const double Tol = 5e-16;

    private static void AssertRelative(double expected, double actual, double tol, string what)
    {
        double err = expected == 0 ? Math.Abs(actual) : Math.Abs(actual - expected) / Math.Abs(expected);
        Assert.True(err <= tol, $"{what}: got {actual:R}, expected {expected:R} (relative error {err:E2}, tolerance {tol:E1})");
    }

    [Theory]
    // One or more points in each of fdlibm's regions: [0, 0.84375), [0.84375, 1.25), [1.25, 1/0.35), [1/0.35, 6), >= 6.
    [InlineData(1e-10, 1.1283791670955126e-10, 0.999999999887162)]
    [InlineData(0.1, 0.1124629160182849, 0.887537083981715)]
    [InlineData(0.3, 0.3286267594591274, 0.6713732405408726)]
    [InlineData(0.5, 0.5204998778130465, 0.4795001221869535)]
    [InlineData(0.8, 0.7421009647076605, 0.2578990352923395)]
    [InlineData(0.84375, 0.7672256612323416, 0.23277433876765838)]
    [InlineData(0.9, 0.7969082124228322, 0.20309178757716786)]
    [InlineData(1.0, 0.8427007929497149, 0.15729920705028513)]
    [InlineData(1.2, 0.9103139782296353, 0.08968602177036464)]
    [InlineData(1.25, 0.9229001282564583, 0.07709987174354177)]
    [InlineData(1.5, 0.9661051464753108, 0.033894853524689274)]
    [InlineData(2.0, 0.9953222650189527, 0.004677734981047266)]
    [InlineData(2.5, 0.999593047982555, 0.0004069520174449589)]
    [InlineData(2.857142857142857, 0.9999466876886117, 5.3312311388322795e-05)]
    [InlineData(3.0, 0.9999779095030014, 2.209049699858544e-05)]
    [InlineData(4.0, 0.9999999845827421, 1.541725790028002e-08)]
    [InlineData(5.0, 0.9999999999984626, 1.537459794428035e-12)]
    [InlineData(5.9, 0.9999999999999999, 7.190409783550478e-17)]
    [InlineData(6.0, 1.0, 2.1519736712498913e-17)]
    [InlineData(-0.5, -0.5204998778130465, 1.5204998778130465)]
    [InlineData(-1.0, -0.8427007929497149, 1.8427007929497148)]
    [InlineData(-2.0, -0.9953222650189527, 1.9953222650189528)]
    [InlineData(-3.0, -0.9999779095030014, 1.9999779095030015)]
    [InlineData(-5.0, -0.9999999999984626, 1.9999999999984626)]
    public void Erf_and_erfc_match_high_precision_values(double x, double erf, double erfc)
    {
        AssertRelative(erf, ErrorFunction.Erf(x), Tol, $"erf({x})");
        AssertRelative(erfc, ErrorFunction.Erfc(x), Tol, $"erfc({x})");
    }

    [Theory]
    [InlineData(8.0, 1.1224297172982926e-29)]
    [InlineData(10.0, 2.088487583762545e-45)]
    [InlineData(20.0, 5.395865611607901e-176)]
    [InlineData(26.0, 5.663192408856143e-296)]
    public void Erfc_keeps_relative_accuracy_far_in_the_tail(double x, double erfc) =>
        AssertRelative(erfc, ErrorFunction.Erfc(x), Tol, $"erfc({x})");

    [Fact]
    public void Brief_reference_values()
    {
        // The values quoted in the task: erf(0.5), erf(1), erf(2), erf(-3) to 16 significant digits.
        AssertRelative(0.5204998778130465, ErrorFunction.Erf(0.5), Tol, "erf(0.5)");
        AssertRelative(0.8427007929497149, ErrorFunction.Erf(1), Tol, "erf(1)");
        AssertRelative(0.9953222650189527, ErrorFunction.Erf(2), Tol, "erf(2)");
        AssertRelative(-0.9999779095030014, ErrorFunction.Erf(-3), Tol, "erf(-3)");
    }

    [Fact]
    public void Special_values_and_symmetry()
    {
        Assert.Equal(0.0, ErrorFunction.Erf(0.0));
        Assert.Equal(1.0, ErrorFunction.Erfc(0.0));
        Assert.Equal(1.0, ErrorFunction.Erf(double.PositiveInfinity));
        Assert.Equal(-1.0, ErrorFunction.Erf(double.NegativeInfinity));
        Assert.Equal(0.0, ErrorFunction.Erfc(double.PositiveInfinity));
        Assert.Equal(2.0, ErrorFunction.Erfc(double.NegativeInfinity));
        Assert.Equal(0.0, ErrorFunction.Erfc(30.0));
        Assert.True(double.IsNaN(ErrorFunction.Erf(double.NaN)));
        Assert.True(double.IsNaN(ErrorFunction.Erfc(double.NaN)));
        var rng = new Rng(11);
        for (int i = 0; i < 1000; i++)
        {
            double x = 8 * rng.NextUniform(-1, 1);
            Assert.Equal(-ErrorFunction.Erf(x), ErrorFunction.Erf(-x));
            double sum = ErrorFunction.Erf(x) + ErrorFunction.Erfc(x);
            Assert.True(Math.Abs(sum - 1) <= 4e-16, $"erf + erfc at {x:R} = {sum:R}");
        }
    }

    [Theory]
    [InlineData(-10.0, 7.619853024160525e-24)]
    [InlineData(-5.0, 2.866515718791939e-07)]
    [InlineData(-1.0, 0.15865525393145705)]
    [InlineData(0.5, 0.6914624612740131)]
    [InlineData(3.0, 0.9986501019683699)]
    public void NormalCdf_is_accurate_in_both_tails(double x, double cdf) =>
        // Rounding x/√2 to float64 alone moves erfc by a relative ~x²·1e-16 in the left tail.
        AssertRelative(cdf, ErrorFunction.NormalCdf(x), 1e-15 * Math.Max(1, x * x), $"Phi({x})");
}

using PrecisionLS.Bench;
using PrecisionLS.Cli;
using PrecisionLS.Config;
using Xunit;

namespace PrecisionLS.Tests.Bench;

/// <summary>`bench monarch`: report fields on a tiny run, and its argument errors.</summary>
public class MonarchBenchmarkTests
{
    [Fact]
    public void Reports_both_products_and_their_ratios()
    {
        var reports = MonarchBenchmark.Run([16, 64], batch: 8, secondsPerSize: 0.01);
        Assert.Equal([16, 64], reports.Select(r => r.N));
        foreach (var r in reports)
        {
            Assert.Equal(8, r.Batch);
            Assert.Equal((int)Math.Sqrt(r.N), r.Nblocks);
            Assert.True(r.DenseMs > 0 && r.MonarchMs > 0);
            Assert.Equal(r.DenseMs / r.MonarchMs, r.Speedup, 12);
            Assert.Equal(r.N / (2 * Math.Sqrt(r.N)), r.FlopRatio, 12);
            Assert.Equal(r.Speedup / r.FlopRatio, r.SpeedupOverFlopRatio, 12);
            Assert.True(r.DenseSamples >= 5 && r.MonarchSamples >= 15);
            Assert.True(r.MaxRelativeDifference < 1e-13, $"n = {r.N}: the two products differ by {r.MaxRelativeDifference}");
        }
        Assert.Throws<ConfigException>(() => MonarchBenchmark.Run([15], 8));
    }

    [Theory]
    [InlineData(new[] { "bench", "monarch", "--n", "1000" }, "--n 1000 is not a perfect square")]
    [InlineData(new[] { "bench", "monarch", "--n", "256,abc" }, "--n 'abc' is not a positive integer")]
    [InlineData(new[] { "bench", "monarch", "--batch", "0" }, "--batch")]
    public void Bad_arguments_end_with_one_line(string[] args, string expected)
    {
        var err = new StringWriter();
        int code = Program.Run(args, err);
        Assert.NotEqual(0, code);
        Assert.Contains(expected, err.ToString());
        Assert.Single(err.ToString().Trim().Split('\n'));
    }
}

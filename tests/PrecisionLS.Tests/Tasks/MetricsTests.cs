using PrecisionLS.Tasks;
using PrecisionLS.Tests.Fixtures;
using Xunit;

namespace PrecisionLS.Tests.Tasks;

public class MetricsTests
{
    [Fact]
    public void MatchesFixture()
    {
        var fx = FixtureCase.Load("task_metrics");
        double[] yPred = fx.Inputs["y_pred"].Data, y = fx.Inputs["y"].Data;

        Compare.Close(fx.Outputs["mse"].Data, [Metrics.Mse<double>(yPred, y)], 1e-12, "mse");
        Compare.Close(fx.Outputs["rel"].Data, [Metrics.Rel<double>(yPred, y)], 1e-12, "rel");
        Compare.Close(fx.Outputs["rel_l2"].Data, [Metrics.RelL2<double>(yPred, y)], 1e-12, "rel_l2");
        Compare.Close(fx.Outputs["mae"].Data, [Metrics.Mae<double>(yPred, y)], 1e-12, "mae");

        var all = Metrics.All<double>(yPred, y);
        Compare.Close([fx.Outputs["mse"].Data[0], fx.Outputs["rel"].Data[0], fx.Outputs["rel_l2"].Data[0]],
            [all.Mse, all.Rel, all.RelL2], 1e-12, "All");

        var se = new double[y.Length];
        Metrics.SquaredError<double>(yPred, y, se);
        Compare.Close(fx.Outputs["squared_error"], se, 1e-12, "squared_error");
        var re = new double[y.Length];
        Metrics.RelativeError<double>(yPred, y, re);
        Compare.Close(fx.Outputs["relative_error"], re, 1e-12, "relative_error");
    }

    [Fact]
    public void RelIsRatioOfMeansNotMeanOfRatios()
    {
        // e = [1, 1], |y| = [1, 3]: ratio of means 1/2; the mean of ratios would be (1 + 1/3)/2 = 2/3.
        double[] y = [1, -3], yPred = [0, -2];
        Assert.Equal(0.5, Metrics.Rel<double>(yPred, y), 15);
        Assert.Equal(1.0 / 2.0, Metrics.RelL2<double>(yPred, y), 15);   // sqrt(1) / 2
        Assert.Equal(1.0, Metrics.Mse<double>(yPred, y), 15);
        Assert.Equal(1.0, Metrics.Mae<double>(yPred, y), 15);
    }

    [Fact]
    public void FloatInputsAccumulateInDouble()
    {
        var rng = new PrecisionLS.Numerics.Rng(3);
        var yd = new double[1001]; var pd = new double[1001];
        rng.FillGaussian(yd.AsSpan()); rng.FillGaussian(pd.AsSpan());
        float[] yf = yd.Select(v => (float)v).ToArray(), pf = pd.Select(v => (float)v).ToArray();
        // The float overload equals the double formula on the float values exactly (same order, double sums).
        double[] yw = yf.Select(v => (double)v).ToArray(), pw = pf.Select(v => (double)v).ToArray();
        Assert.Equal(Metrics.Mse<double>(pw, yw), Metrics.Mse<float>(pf, yf));
        Assert.Equal(Metrics.Rel<double>(pw, yw), Metrics.Rel<float>(pf, yf));
        Assert.Equal(Metrics.RelL2<double>(pw, yw), Metrics.RelL2<float>(pf, yf));
        Assert.Equal(Metrics.Mae<double>(pw, yw), Metrics.Mae<float>(pf, yf));
    }

    [Fact]
    public void LengthMismatchThrows()
    {
        var ex = Assert.Throws<ArgumentException>(() => Metrics.Mse<double>(new double[3], new double[4]));
        Assert.Contains("lengths differ", ex.Message);
        Assert.True(double.IsNaN(Metrics.Mse<double>([], [])));
    }
}

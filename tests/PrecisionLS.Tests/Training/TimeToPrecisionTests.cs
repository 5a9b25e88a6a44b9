using PrecisionLS.Training;
using Xunit;

namespace PrecisionLS.Tests.Training;

public class TimeToPrecisionTests
{
    private static TrainingRecord Row(long step, double? eval, double wall) => new(step, 1, 1e-2, 1, false, eval, eval, eval, wall);

    [Fact]
    public void The_first_evaluated_row_at_or_below_each_threshold_counts()
    {
        var rows = new[] { Row(10, 1e-3, 5), Row(15, null, 7), Row(20, 1e-7, 9), Row(30, 1e-6, 12), Row(40, 1e-13, 20) };
        var c = TimeToPrecision.Crossings(rows, [1e-6, 1e-10, 1e-13, 1e-20]);
        Assert.Equal((20L, 9.0), (c[0].Step!.Value, c[0].WallSeconds!.Value));
        Assert.Equal(40, c[1].Step);
        Assert.Equal(20.0, c[2].WallSeconds);
        Assert.False(c[3].Reached);
        Assert.Null(c[3].WallSeconds);
    }
}

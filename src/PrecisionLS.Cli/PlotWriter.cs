using PrecisionLS.Training;
using ScottPlot;
using ScottPlot.TickGenerators;

namespace PrecisionLS.Cli;

/// <summary>
/// PNG plots of a run's metrics for <c>runs/&lt;name&gt;/plots/</c>: loss.png (training loss and held-out mse, with the
/// learning rate on a second y axis), lr.png (learning rate) and grad_norm.png (gradient norm), all against step
/// on log10 y axes, 800x500; and compare.png, held-out mse and training loss of several runs overlaid.
/// </summary>
/// <remarks>
/// ScottPlot 5 has no logarithmic axis, so log10 of each value is plotted and ticks are labelled as powers of ten
/// (1e-3). NaN, infinite and non-positive values are left out. Skipped steps are marked along the bottom of
/// loss.png. Files are written atomically.
/// </remarks>
public static class PlotWriter
{
    /// <summary>Image width in pixels.</summary>
    public const int Width = 800;

    /// <summary>Image height in pixels.</summary>
    public const int Height = 500;

    /// <summary>Writes loss.png, lr.png and grad_norm.png into <paramref name="directory"/>; returns the paths written.</summary>
    public static IReadOnlyList<string> WriteAll(IReadOnlyList<TrainingRecord> records, string directory, string? runName = null)
    {
        ArgumentNullException.ThrowIfNull(records);
        Directory.CreateDirectory(directory);
        string loss = Path.Combine(directory, "loss.png");
        string lr = Path.Combine(directory, "lr.png");
        string gn = Path.Combine(directory, "grad_norm.png");
        WriteLoss(records, loss, runName);
        WriteLearningRate(records, lr, runName);
        WriteGradNorm(records, gn, runName);
        return [loss, lr, gn];
    }

    /// <summary>Writes training loss and held-out mse against step (log y) to <paramref name="path"/>.</summary>
    public static void WriteLoss(IReadOnlyList<TrainingRecord> records, string path, string? runName = null)
    {
        ArgumentNullException.ThrowIfNull(records);
        var plot = NewPlot(Title("Loss", runName), "mse (log scale)");

        var train = Log10Series(records, r => r.Loss);
        var eval = Log10Series(records, r => r.EvalMse ?? double.NaN);
        var range = new LogRange();
        range.Include(train.Ys);
        range.Include(eval.Ys);

        if (train.Xs.Length > 0)
        {
            var s = plot.Add.ScatterLine(train.Xs, train.Ys);
            s.LegendText = "train loss";
            s.LineWidth = 1;
            s.Color = Colors.SteelBlue.WithAlpha(0.75);
        }
        if (eval.Xs.Length > 0)
        {
            var s = plot.Add.Scatter(eval.Xs, eval.Ys);
            s.LegendText = "eval mse";
            s.LineWidth = 2;
            s.MarkerSize = eval.Xs.Length <= 200 ? 5 : 0;
            s.Color = Colors.OrangeRed;
        }

        var (lo, hi) = range.Limits();
        var skipped = records.Where(r => r.Skipped).Select(r => (double)r.Step).ToArray();
        if (skipped.Length > 0)
        {
            // A rug along the bottom: skipped steps often have no finite loss to place them by.
            double y = lo + 0.03 * (hi - lo);
            var m = plot.Add.Markers(skipped, Enumerable.Repeat(y, skipped.Length).ToArray());
            m.MarkerShape = MarkerShape.Eks;
            m.MarkerSize = 7;
            m.Color = Colors.Crimson;
            m.LegendText = $"skipped step ({skipped.Length})";
        }

        // The learning rate on the right axis: steps in the schedule line up with bends in the loss.
        var lr = Log10Series(records, r => r.LearningRate);
        if (lr.Xs.Length > 0 && train.Xs.Length + eval.Xs.Length > 0)
        {
            var s = plot.Add.ScatterLine(lr.Xs, lr.Ys);
            s.LegendText = "learning rate (right axis)";
            s.LineWidth = 1.5f;
            s.LinePattern = LinePattern.Dashed;
            s.Color = Colors.SeaGreen;
            s.Axes.YAxis = plot.Axes.Right;
            var lrRange = new LogRange();
            lrRange.Include(lr.Ys);
            var (lrLo, lrHi) = lrRange.Limits();
            plot.Axes.Right.Label.Text = "learning rate (log scale)";
            plot.Axes.Right.TickGenerator = LogTicks();
            plot.Axes.SetLimitsY(lrLo, lrHi, plot.Axes.Right);
        }

        Finish(plot, path, lo, hi, train.Xs.Length + eval.Xs.Length > 0);
    }

    /// <summary>
    /// Writes held-out mse (thick, with markers) and training loss (thin, faint, same colour) of several runs against
    /// step on one log axis to <paramref name="path"/>; each run's label goes in the legend.
    /// </summary>
    public static void WriteOverlay(IReadOnlyList<(string Label, IReadOnlyList<TrainingRecord> Records)> runs, string path, string title)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var plot = NewPlot(title, "mse (log scale)");
        var palette = new ScottPlot.Palettes.Category10();
        var range = new LogRange();
        bool any = false;
        for (int i = 0; i < runs.Count; i++)
        {
            var (label, records) = runs[i];
            var color = palette.GetColor(i);
            var train = Log10Series(records, r => r.Loss);
            var eval = Log10Series(records, r => r.EvalMse ?? double.NaN);
            range.Include(train.Ys);
            range.Include(eval.Ys);
            if (train.Xs.Length > 0)
            {
                var t = plot.Add.ScatterLine(train.Xs, train.Ys);
                t.LineWidth = 1;
                t.Color = color.WithAlpha(eval.Xs.Length > 0 ? 0.3 : 0.9);
                if (eval.Xs.Length == 0) t.LegendText = label + " (train)";
                any = true;
            }
            if (eval.Xs.Length > 0)
            {
                var e = plot.Add.Scatter(eval.Xs, eval.Ys);
                e.LineWidth = 2;
                e.MarkerSize = eval.Xs.Length <= 100 ? 5 : 0;
                e.Color = color;
                e.LegendText = label;
                any = true;
            }
        }
        if (any) plot.Add.Annotation("thick: held-out mse   faint: training loss", Alignment.LowerLeft);
        var (lo, hi) = range.Limits();
        Finish(plot, path, lo, hi, any);
    }

    /// <summary>
    /// Writes the held-out mse of several runs against training wall time in minutes (log y) to <paramref name="path"/>,
    /// with a dashed horizontal line at each threshold (reproduce time-to-precision).
    /// </summary>
    public static void WriteEvalAgainstTime(IReadOnlyList<(string Label, IReadOnlyList<TrainingRecord> Records)> runs, IReadOnlyList<double> thresholds,
        string path, string title)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var plot = NewPlot(title, "held-out mse (log scale)");
        plot.XLabel("training wall time (minutes)");
        var palette = new ScottPlot.Palettes.Category10();
        var range = new LogRange();
        bool any = false;
        for (int i = 0; i < runs.Count; i++)
        {
            var xs = new List<double>(); var ys = new List<double>();
            foreach (var r in runs[i].Records)
                if (r.EvalMse is double m && double.IsFinite(m) && m > 0) { xs.Add(r.WallSeconds / 60); ys.Add(Math.Log10(m)); }
            if (xs.Count == 0) continue;
            range.Include(ys.ToArray());
            var s = plot.Add.Scatter(xs.ToArray(), ys.ToArray());
            s.LineWidth = 2;
            s.MarkerSize = xs.Count <= 100 ? 4 : 0;
            s.Color = palette.GetColor(i);
            s.LegendText = runs[i].Label;
            any = true;
        }
        foreach (double t in thresholds)
        {
            var line = plot.Add.HorizontalLine(Math.Log10(t));
            line.LineWidth = 1;
            line.LinePattern = LinePattern.Dashed;
            line.Color = Colors.Gray;
            range.Include([Math.Log10(t)]);
        }
        var (lo, hi) = range.Limits();
        Finish(plot, path, lo, hi, any);
    }

    /// <summary>
    /// Writes MSE to x* against iteration (log y) for a learned solver and exact gradient descent with the same steps
    /// (iterate); index 0 is the starting point.
    /// </summary>
    public static void WriteIteration(IReadOnlyList<double> modelMse, IReadOnlyList<double> gdMse, string path, string title)
    {
        var plot = NewPlot(title, "mse to x* (log scale)");
        plot.XLabel("iteration");
        var range = new LogRange();
        bool any = false;
        foreach (var (values, label, color, width) in new[] { (gdMse, "exact gradient descent", Colors.Black, 4f), (modelMse, "model (trained or constructed)", Colors.OrangeRed, 2f) })
        {
            var xs = new List<double>(); var ys = new List<double>();
            for (int i = 0; i < values.Count; i++)
                if (double.IsFinite(values[i]) && values[i] > 0) { xs.Add(i); ys.Add(Math.Log10(values[i])); }
            if (xs.Count == 0) continue;
            range.Include(ys.ToArray());
            var s = plot.Add.ScatterLine(xs.ToArray(), ys.ToArray());
            s.LegendText = label;
            s.LineWidth = width;
            s.Color = width > 3 ? color.WithAlpha(0.35) : color;
            any = true;
        }
        var (lo, hi) = range.Limits();
        Finish(plot, path, lo, hi, any);
    }

    /// <summary>Writes the learning rate against step (log y) to <paramref name="path"/>.</summary>
    public static void WriteLearningRate(IReadOnlyList<TrainingRecord> records, string path, string? runName = null) =>
        WriteSingle(records, r => r.LearningRate, "learning rate", Colors.SeaGreen, Title("Learning rate", runName), path);

    /// <summary>Writes the global gradient norm (before clipping) against step (log y) to <paramref name="path"/>.</summary>
    public static void WriteGradNorm(IReadOnlyList<TrainingRecord> records, string path, string? runName = null) =>
        WriteSingle(records, r => r.GradNorm, "grad norm", Colors.MediumPurple, Title("Gradient norm", runName), path);

    private static void WriteSingle(
        IReadOnlyList<TrainingRecord> records, Func<TrainingRecord, double> select, string label, Color color,
        string title, string path)
    {
        ArgumentNullException.ThrowIfNull(records);
        var plot = NewPlot(title, label + " (log scale)");
        var series = Log10Series(records, select);
        var range = new LogRange();
        range.Include(series.Ys);
        if (series.Xs.Length > 0)
        {
            var s = plot.Add.ScatterLine(series.Xs, series.Ys);
            s.LegendText = label;
            s.LineWidth = 2;
            s.Color = color;
        }
        var (lo, hi) = range.Limits();
        Finish(plot, path, lo, hi, series.Xs.Length > 0);
    }

    private static string Title(string what, string? runName) =>
        string.IsNullOrEmpty(runName) ? what : $"{what} - {runName}";

    private static Plot NewPlot(string title, string yLabel)
    {
        var plot = new Plot();
        plot.Title(title);
        plot.XLabel("step");
        plot.YLabel(yLabel);
        plot.Grid.MajorLineColor = Colors.Black.WithAlpha(0.15);
        plot.Grid.MinorLineColor = Colors.Black.WithAlpha(0.05);
        plot.Grid.MinorLineWidth = 1;
        plot.Axes.Left.TickGenerator = LogTicks();
        return plot;
    }

    // Ticks at powers of ten labelled 1e-3, with log-spaced minor ticks (the axis holds log10 values).
    private static NumericAutomatic LogTicks() => new()
    {
        MinorTickGenerator = new LogMinorTickGenerator(),
        IntegerTicksOnly = true,
        LabelFormatter = PowerOfTenLabel,
    };

    private static void Finish(Plot plot, string path, double lo, double hi, bool hasData)
    {
        if (hasData)
        {
            plot.ShowLegend(Alignment.UpperRight);
            plot.Axes.AutoScaleX();
        }
        else
        {
            plot.Add.Annotation("no positive finite values to plot");
            plot.Axes.SetLimitsX(0, 1);
        }
        plot.Axes.SetLimitsY(lo, hi);
        byte[] png = plot.GetImage(Width, Height).GetImageBytes(ImageFormat.Png);
        AtomicFile.WriteAllBytes(path, png);
    }

    /// <summary>Label for a tick at log10 value <paramref name="exponent"/>: 1, 10, 1e-3, 1e5.</summary>
    public static string PowerOfTenLabel(double exponent)
    {
        long e = (long)Math.Round(exponent);
        if (Math.Abs(exponent - e) > 1e-9)
            return ""; // not a power of ten: leave unlabelled
        return e switch
        {
            0 => "1",
            1 => "10",
            _ => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"1e{e}"),
        };
    }

    private static (double[] Xs, double[] Ys) Log10Series(IReadOnlyList<TrainingRecord> records, Func<TrainingRecord, double> select)
    {
        var xs = new List<double>(records.Count);
        var ys = new List<double>(records.Count);
        foreach (var r in records)
        {
            double v = select(r);
            if (double.IsFinite(v) && v > 0)
            {
                xs.Add(r.Step);
                ys.Add(Math.Log10(v));
            }
        }
        return (xs.ToArray(), ys.ToArray());
    }

    /// <summary>Y limits in log10 units that show at least one labelled power of ten.</summary>
    private sealed class LogRange
    {
        private double _min = double.PositiveInfinity;
        private double _max = double.NegativeInfinity;

        public void Include(double[] ys)
        {
            foreach (double y in ys)
            {
                _min = Math.Min(_min, y);
                _max = Math.Max(_max, y);
            }
        }

        public (double Lo, double Hi) Limits()
        {
            if (_min > _max)
                return (-1, 1);
            double lo = Math.Floor(_min), hi = Math.Ceiling(_max);
            if (hi - lo < 1)
            {
                // All values on one power of ten: show the decade either side so minor ticks give scale.
                lo -= 1;
                hi += 1;
            }
            double pad = 0.04 * (hi - lo);
            return (lo - pad, hi + pad);
        }
    }
}

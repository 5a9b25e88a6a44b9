using PrecisionLS.Cli;
using PrecisionLS.Training;
using Xunit;

namespace PrecisionLS.Tests.Cli;

public sealed class PlotWriterTests : IDisposable
{
    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "pls-plots-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
            Directory.Delete(_dir, recursive: true);
    }

    /// <summary>A converging run: loss decays over ~9 decades with noise, step-decayed lr, eval every 100 steps.</summary>
    internal static List<TrainingRecord> SyntheticRun(int steps = 2000)
    {
        var rng = new Random(7);
        var rows = new List<TrainingRecord>(steps);
        for (int s = 1; s <= steps; s++)
        {
            double clean = Math.Pow(10, -9.0 * s / steps);
            double loss = clean * Math.Exp(0.6 * (rng.NextDouble() - 0.5));
            bool skipped = s is 700 or 1333;
            if (s == 700)
                loss = double.NaN;
            double lr = s <= 100 ? 1e-2 * s / 100 : s <= 1000 ? 1e-2 : s <= 1500 ? 1e-3 : 1e-4;
            bool eval = s % 100 == 0;
            rows.Add(new TrainingRecord(
                s, loss, lr, GradNorm: Math.Sqrt(loss) * 3, skipped,
                EvalMse: eval ? clean * 0.9 : null, EvalRel: null, EvalRelL2: null, WallSeconds: s * 0.002));
        }
        return rows;
    }

    private static void AssertPng(string path)
    {
        Assert.True(File.Exists(path), path);
        byte[] bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 5_000, $"{path} is only {bytes.Length} bytes");
        Assert.Equal(PngSignature, bytes[..8]);
        // IHDR width and height (big-endian) at offsets 16 and 20.
        int w = (bytes[16] << 24) | (bytes[17] << 16) | (bytes[18] << 8) | bytes[19];
        int h = (bytes[20] << 24) | (bytes[21] << 16) | (bytes[22] << 8) | bytes[23];
        Assert.Equal((PlotWriter.Width, PlotWriter.Height), (w, h));
    }

    [Fact]
    public void WriteAll_ProducesValidPngs()
    {
        var written = PlotWriter.WriteAll(SyntheticRun(), _dir, "synthetic");
        Assert.Equal(["loss.png", "lr.png", "grad_norm.png"], written.Select(Path.GetFileName));
        foreach (string path in written)
            AssertPng(path);
        Assert.Equal(3, Directory.GetFiles(_dir).Length); // no temp files left
    }

    [Fact]
    public void Write_ToleratesEmptyConstantAndNonPositiveData()
    {
        Directory.CreateDirectory(_dir);
        PlotWriter.WriteLoss([], Path.Combine(_dir, "empty.png"));
        AssertPng(Path.Combine(_dir, "empty.png"));

        var constant = Enumerable.Range(1, 50)
            .Select(s => new TrainingRecord(s, s % 2 == 0 ? 0.0 : -1.0, 1e-2, double.NaN, false, null, null, null, s))
            .ToList();
        PlotWriter.WriteLoss(constant, Path.Combine(_dir, "nonpositive.png"));
        PlotWriter.WriteLearningRate(constant, Path.Combine(_dir, "constant_lr.png"));
        AssertPng(Path.Combine(_dir, "nonpositive.png"));
        AssertPng(Path.Combine(_dir, "constant_lr.png"));
    }

    [Theory]
    [InlineData(-3.0, "1e-3")]
    [InlineData(0.0, "1")]
    [InlineData(1.0, "10")]
    [InlineData(5.0, "1e5")]
    [InlineData(-12.0, "1e-12")]
    [InlineData(-2.5, "")]
    public void PowerOfTenLabel_FormatsExponents(double exponent, string expected) =>
        Assert.Equal(expected, PlotWriter.PowerOfTenLabel(exponent));
}

using PrecisionLS.Cli;
using Xunit;

namespace PrecisionLS.Tests.Cli;

/// <summary>reproduce end to end at a smoke-test budget: the report, its tables and plots are written.</summary>
[Collection(nameof(SharedPoolCollection))]   // Console.SetOut and the worker pool are process-wide
public sealed class ReproduceCommandTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "pls-reproduce-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        PrecisionLS.Numerics.WorkerPool.Configure(Environment.ProcessorCount);
        if (Directory.Exists(_root)) Directory.Delete(_root, true);
    }

    private static (int Code, string Output, string Error) Run(params string[] args) => PrecisionLS.Tests.Cli.CliRunner.Run(args);

    [Theory]
    [InlineData("precision", new[] { "softmax Transformer, end to end", "exact gradient descent, 50 steps", "QR (MathNet, float64)", "Transformer / iterated model" }, new[] { "transformer-loss.png", "baseconv-loss.png", "iterate.png" })]
    [InlineData("dtype", new[] { "| float32 |", "| float64 |", "iterated MSE to x*" }, new[] { "float32-loss.png", "float64-loss.png" })]
    [InlineData("time-to-precision", new[] { "| explicit-gradient-fast |", "| explicit-gradient (paper's Adam) |", "to 1.00e-13", "not reached" }, new[] { "mse-vs-time.png", "fast-loss.png", "adam-loss.png" })]
    public void A_smoke_budget_writes_the_report_with_its_tables_and_plots(string name, string[] rows, string[] plots)
    {
        string dir = Path.Combine(_root, name);
        var (code, output, error) = Run("reproduce", name, "--budget", "0.1", "--out", dir, "--threads", "2");
        Assert.True(code == 0, error);
        string report = File.ReadAllText(Path.Combine(dir, "report.md"));
        foreach (var r in rows) Assert.Contains(r, report);
        Assert.Contains("## Where this differs from the paper", report);
        Assert.Contains("- Budget: 0.1 min", report);
        Assert.Contains("- Machine: ", report);
        foreach (var p in plots)
        {
            Assert.Contains($"]({p})", report);
            Assert.True(new FileInfo(Path.Combine(dir, p)).Length > 5_000, p);
        }
        Assert.Contains("report: ", output);
    }

    [Theory]
    [InlineData("reproduce", "name a comparison, one of: precision, ood-gap, primitives, dtype, time-to-precision")]
    [InlineData("reproduce speed", "unknown comparison 'speed'")]
    [InlineData("reproduce precision --budget none", "--budget 'none' must be a positive number of minutes")]
    public void Bad_reproduce_commands_fail_with_one_line(string command, string expected)
    {
        var (code, _, error) = Run(command.Split(' '));
        Assert.NotEqual(0, code);
        Assert.Contains(expected, error);
    }
}

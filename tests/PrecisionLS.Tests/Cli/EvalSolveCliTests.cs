using System.Text.Json;
using PrecisionLS.Cli;
using Xunit;

namespace PrecisionLS.Tests.Cli;

/// <summary>`eval` and `solve` from the command line: tables, JSON, --set, and one-line refusals.</summary>
[Collection(nameof(SharedPoolCollection))]   // Console.SetOut and the worker pool are process-wide
public class EvalSolveCliTests
{
    private static (int Code, string Output, string Error) Run(params string[] args) => PrecisionLS.Tests.Cli.CliRunner.Run(args);

    private static readonly string[] Tiny = ["--set", "training.batch_size=16", "--set", "training.eval_batch_size=32", "--set", "training.eval_every=10",
                                             "--set", "model.n_embd=8"];

    private static void AssertOneLineError((int Code, string Output, string Error) r, string expected)
    {
        Assert.Equal(2, r.Code);
        Assert.Equal("error: " + expected + Environment.NewLine, r.Error);
    }

    [Fact]
    public void Eval_prints_a_table_and_json_and_refuses_bad_shifts()
    {
        string root = Path.Combine(Path.GetTempPath(), "pls-evalcli-" + Guid.NewGuid().ToString("N"));
        string eg = Path.Combine(root, "eg"), lin = Path.Combine(root, "lin");
        try
        {
            var r = Run(["train", "--preset", "explicit-gradient", "--steps", "10", "--out", eg, .. Tiny]);
            Assert.True(r.Code == 0, r.Error);

            r = Run("eval", "--run", eg, "--batches", "3", "--batch-size", "16", "--shift", "cond=1,100", "--shift", "points=12",
                    "--threads", Environment.ProcessorCount.ToString(System.Globalization.CultureInfo.InvariantCulture));   // the default: leaves the shared pool as it was
            Assert.True(r.Code == 0, r.Error);
            Assert.Contains($"run {eg}: task explicit_gradient, float64, step 10; 3 batches of 16, seed 0", r.Output);
            foreach (var row in new[] { "in distribution", "cond=1 ", "cond=100", "points=12", "gap" }) Assert.Contains(row, r.Output);

            r = Run("eval", "--run", eg, "--batches", "3", "--shift", "scale=0.1,10", "--seed", "4", "--json");
            Assert.True(r.Code == 0, r.Error);
            using (var doc = JsonDocument.Parse(r.Output))
            {
                var j = doc.RootElement;
                Assert.Equal(eg, j.GetProperty("run").GetString());
                Assert.Equal("explicit_gradient", j.GetProperty("task").GetString());
                Assert.Equal("float64", j.GetProperty("dtype").GetString());
                Assert.Equal(3, j.GetProperty("batches").GetInt32());
                Assert.Equal(32, j.GetProperty("batch_size").GetInt32());           // the run's eval_batch_size
                Assert.Equal(4, j.GetProperty("seed").GetInt32());
                var inDist = j.GetProperty("in_distribution");
                foreach (var k in new[] { "mse", "mse_ci95", "rel", "rel_ci95", "rel_l2", "rel_l2_ci95" }) Assert.True(inDist.GetProperty(k).GetDouble() > 0, k);
                var shifts = j.GetProperty("shifts").EnumerateArray().ToList();
                Assert.Equal(2, shifts.Count);
                Assert.Equal("scale", shifts[1].GetProperty("shift").GetString());
                Assert.Equal(10, shifts[1].GetProperty("value").GetDouble());
                Assert.Equal(shifts[1].GetProperty("mse").GetDouble() / inDist.GetProperty("mse").GetDouble(), shifts[1].GetProperty("gap").GetDouble(), 1e-12);
            }

            AssertOneLineError(Run("eval", "--run", eg, "--shift", "noise=1"),
                "--shift 'noise=1': unknown shift 'noise'; accepted: cond, scale, points, dims (as KIND=V1,V2,...)");
            AssertOneLineError(Run("eval", "--run", eg, "--shift", "points=30"),
                "shift points=30: task 'explicit_gradient' prompts would have 31 tokens but the model has model.n_positions = 21; points up to 20 fit");
            AssertOneLineError(Run("eval", "--run", eg, "--batches", "1"), "--batches 1 must be at least 2");
            AssertOneLineError(Run("eval", "--shift", "cond=10"), "eval: give --run DIR (a run directory with config.yaml and checkpoints/latest.ckpt)");

            r = Run(["train", "--preset", "primitives-linear", "--steps", "1", "--out", lin, .. Tiny]);
            Assert.True(r.Code == 0, r.Error);
            AssertOneLineError(Run("eval", "--run", lin, "--shift", "cond=10"),
                "shift 'cond' does not apply to task 'linear' (data 'gaussian': Gaussian tokens, no matrix to condition); it accepts: scale, points, dims");
        }
        finally { if (Directory.Exists(root)) Directory.Delete(root, true); }
    }

    [Fact]
    public void Solve_reports_every_method_as_a_table_and_json()
    {
        var r = Run("solve", "--preset", "explicit-gradient", "--problems", "50", "--json");
        Assert.True(r.Code == 0, r.Error);
        using (var doc = JsonDocument.Parse(r.Output))
        {
            var rows = doc.RootElement.EnumerateArray().ToList();
            Assert.Equal(["qr", "normal", "cg", "gd"], rows.Select(x => x.GetProperty("method").GetString()));
            foreach (var row in rows)
            {
                Assert.Equal(50, row.GetProperty("problems").GetInt32());
                Assert.True(row.GetProperty("mse").GetDouble() < 1e-27, row.ToString());
                Assert.True(row.GetProperty("max_abs_error").GetDouble() < 1e-12, row.ToString());
                Assert.True(row.GetProperty("ms").GetDouble() >= 0);
            }
            Assert.Equal(1000, rows[3].GetProperty("iters").GetInt32());
            Assert.Equal(JsonValueKind.Null, rows[0].GetProperty("rate").ValueKind);
        }

        r = Run("solve", "--preset", "explicit-gradient", "--method", "gd", "--iters", "10", "--problems", "20", "--seed", "3",
                "--set", "training.data_kwargs.scale_cond=100");
        Assert.True(r.Code == 0, r.Error);
        Assert.Contains("20 problems of 20 equations in 5 unknowns (preset explicit-gradient; data_kwargs scale_cond=100), seed 3, float64", r.Output);
        Assert.Contains("│ gd ", r.Output);
        Assert.DoesNotContain("│ qr ", r.Output);
        Assert.Contains("in 10 iterations", r.Output);
    }

    [Fact]
    public void Solve_refuses_bad_methods_and_sources_with_one_line()
    {
        AssertOneLineError(Run("solve", "--preset", "explicit-gradient", "--method", "lsqr"),
            "solve: unknown --method 'lsqr'; accepted: qr, normal, cg, gd, all");
        var r = Run("solve", "--method", "qr");
        Assert.Equal(2, r.Code);
        Assert.StartsWith("error: solve: give exactly one of --run DIR, --preset NAME", r.Error);
        AssertOneLineError(Run("solve", "--preset", "primitives-linear"),
            "training.task 'linear' does not draw least-squares problems; accepted: least_squares, least_squares_icl, explicit_gradient, multistep_gd");
        AssertOneLineError(Run("solve", "--run", "/nonexistent/run"), "run directory '/nonexistent/run' does not exist");
    }
}

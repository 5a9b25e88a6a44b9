using System.Globalization;
using System.Text.Json;
using PrecisionLS.Evaluation;
using Spectre.Console;

namespace PrecisionLS.Cli;

/// <summary>
/// `eval --run DIR [--shift KIND=V1,V2,...]... [--batches N] [--batch-size B] [--seed S] [--threads N] [--json]`:
/// a trained run's model on seeded held-out batches, in distribution and under each shift
/// (<see cref="RunEvaluator"/>), as a table or JSON.
/// </summary>
public static class EvalCommand
{
    public static int Run(string[] args)
    {
        var cl = new CommandLine(args, "eval", ["--run", "--shift", "--batches", "--batch-size", "--seed", "--threads"], ["--json"]);
        string run = cl.Get("--run") ?? throw new CommandLine.UsageException("eval: give --run DIR (a run directory with config.yaml and checkpoints/latest.ckpt)");
        var shifts = cl.GetAll("--shift").SelectMany(DistributionShift.Parse).ToList();
        int batches = (int)(cl.GetLong("--batches", 2) ?? 10);
        int? batchSize = cl.GetLong("--batch-size", 1) is long b ? (int)b : null;
        ulong seed = (ulong)(cl.GetLong("--seed", 0) ?? 0);
        if (cl.GetLong("--threads", 1) is long threads) Numerics.WorkerPool.Configure((int)threads);

        var report = RunEvaluator.EvaluateRun(run, new EvalOptions(batches, batchSize, seed, shifts));
        if (cl.Has("--json")) { Console.WriteLine(Json(report)); return 0; }

        Console.WriteLine($"run {report.Run}: task {report.Task}, {report.Dtype}, step {report.Step}; " +
                          $"{report.Batches} batches of {report.BatchSize}, seed {report.Seed}");
        var table = new Table().Title("held-out metrics: mean ± 95% CI over batches")
            .AddColumns("condition", "mse", "± 95%", "rel", "± 95%", "rel_l2", "± 95%", "gap");
        void Row(string name, MetricEstimates m, double? gap) => table.AddRow(Markup.Escape(name),
            Sci(m.Mse.Mean), Sci(m.Mse.HalfWidth), Sci(m.Rel.Mean), Sci(m.Rel.HalfWidth), Sci(m.RelL2.Mean), Sci(m.RelL2.HalfWidth),
            gap is double g ? Sci(g) : "1");
        Row("in distribution", report.InDistribution, null);
        foreach (var s in report.Shifts) Row(s.Shift.Label, s.Metrics, s.Gap);
        TasksCommand.Out().Write(table);
        Console.WriteLine("± 95%: Student-t interval half-width of the mean of per-batch metrics; gap = shifted mse / in-distribution mse");
        return 0;
    }

    /// <summary>The report as one JSON object (snake_case keys; non-finite values as null).</summary>
    public static string Json(EvaluationReport report)
    {
        static Dictionary<string, object?> Metrics(MetricEstimates m) => new()
        {
            ["mse"] = SolveCommand.Finite(m.Mse.Mean), ["mse_ci95"] = SolveCommand.Finite(m.Mse.HalfWidth),
            ["rel"] = SolveCommand.Finite(m.Rel.Mean), ["rel_ci95"] = SolveCommand.Finite(m.Rel.HalfWidth),
            ["rel_l2"] = SolveCommand.Finite(m.RelL2.Mean), ["rel_l2_ci95"] = SolveCommand.Finite(m.RelL2.HalfWidth),
        };
        var root = new Dictionary<string, object?>
        {
            ["run"] = report.Run,
            ["task"] = report.Task,
            ["dtype"] = report.Dtype,
            ["step"] = report.Step,
            ["batches"] = report.Batches,
            ["batch_size"] = report.BatchSize,
            ["seed"] = report.Seed,
            ["ci"] = "95% Student-t interval of the mean of per-batch metrics; *_ci95 is its half-width",
            ["in_distribution"] = Metrics(report.InDistribution),
            ["shifts"] = report.Shifts.Select(s =>
            {
                var d = new Dictionary<string, object?> { ["shift"] = s.Shift.Kind, ["value"] = s.Shift.Value };
                foreach (var kv in Metrics(s.Metrics)) d[kv.Key] = kv.Value;
                d["gap"] = SolveCommand.Finite(s.Gap);
                return d;
            }).ToList(),
        };
        return JsonSerializer.Serialize(root, new JsonSerializerOptions { WriteIndented = true });
    }

    private static string Sci(double v) => v.ToString("0.00e+00", CultureInfo.InvariantCulture);
}

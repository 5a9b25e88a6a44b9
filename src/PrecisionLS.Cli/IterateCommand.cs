using System.Globalization;
using System.Text.Json;
using PrecisionLS.Config;
using PrecisionLS.Numerics;
using PrecisionLS.Solvers;
using Spectre.Console;

namespace PrecisionLS.Cli;

/// <summary>
/// `iterate --run DIR --iters K [--eta E] [--problems N] [--seed S] [--threads N] [--out PNG] [--json]`: uses a
/// trained or constructed gradient model as a solver and compares it with exact gradient descent (plots/iterate.png).
/// </summary>
public static class IterateCommand
{
    public static int Run(string[] args)
    {
        var cl = new CommandLine(args, "iterate", ["--run", "--iters", "--eta", "--problems", "--seed", "--threads", "--out"], ["--json"]);
        string dir = cl.Get("--run") ?? throw new CommandLine.UsageException("iterate: give --run DIR (a run of task explicit_gradient or multistep_gd, trained or from construct)");
        if (cl.GetLong("--threads", 1) is long threads) WorkerPool.Configure((int)threads);
        int iters = (int)(cl.GetLong("--iters", 1) ?? 100);
        int count = (int)(cl.GetLong("--problems", 1) ?? 256);
        ulong seed = (ulong)(cl.GetLong("--seed", 0) ?? 0);
        double? eta = null;
        if (cl.Get("--eta") is { } e)
        {
            if (!double.TryParse(e, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !(v > 0) || !double.IsFinite(v))
                throw new CommandLine.UsageException($"--eta '{e}' must be a positive number (or leave it out for each problem's optimal step 2/(λmin+λmax))");
            eta = v;
        }
        var dtype = Training.TrainingSession.LoadRunConfig(dir).Training.Dtype;
        var report = dtype == "float32" ? Iterate<float>(dir, count, seed, iters, eta, cl.Has("--json")) : Iterate<double>(dir, count, seed, iters, eta, cl.Has("--json"));

        string png = cl.Get("--out") ?? Path.Combine(dir, "plots", "iterate.png");
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(png))!);
        PlotWriter.WriteIteration(report.ModelMse, report.GdMse, png, $"Iterated model vs exact GD - {Path.GetFileName(Path.TrimEndingDirectorySeparator(dir))}");
        if (cl.Has("--json"))
        {
            var json = new Dictionary<string, object?>
            {
                ["run"] = dir, ["task"] = report.Task, ["problems"] = report.Problems, ["iters"] = report.Iters,
                ["eta"] = report.Eta is double et ? et : "optimal per problem", ["steps_per_iter"] = report.StepsPerIter,
                ["final_mse"] = report.FinalMse, ["gd_final_mse"] = report.GdFinalMse,
                ["mse"] = report.ModelMse, ["gd_mse"] = report.GdMse, ["plot"] = png,
            };
            Console.WriteLine(JsonSerializer.Serialize(json, new JsonSerializerOptions { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
            return 0;
        }
        var table = new Table().Title($"{report.Problems} problems, {(report.Eta is double s ? $"step {s}" : "each problem's optimal step")}")
            .AddColumns("iteration", "model mse", "exact GD mse", "ratio");
        foreach (int i in LogSpaced(report.Iters))
            table.AddRow($"{i}", Sci(report.ModelMse[i]), Sci(report.GdMse[i]), report.GdMse[i] > 0 ? $"{report.ModelMse[i] / report.GdMse[i]:0.0e+00}" : "-");
        TasksCommand.Out().Write(table);
        Console.WriteLine($"final mse {Sci(report.FinalMse)} after {report.Iters} iterations ({report.Iters * report.StepsPerIter} gradient steps); exact GD {Sci(report.GdFinalMse)}");
        Console.WriteLine($"plot: {png}");
        return 0;
    }

    private static IterationReport Iterate<T>(string dir, int count, ulong seed, int iters, double? eta, bool quiet)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var (cfg, model) = RunModel.Load<T>(dir);
        var problems = ProblemSet.ForRun(cfg, count, seed);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        double lastPrint = 0;
        return LearnedIteration.Run(model, cfg, problems, iters, eta, (it, mse) =>
        {
            if (quiet || clock.Elapsed.TotalSeconds - lastPrint < 5) return;
            lastPrint = clock.Elapsed.TotalSeconds;
            Console.WriteLine($"iteration {it}/{iters}  mse {Sci(mse)}  {it / clock.Elapsed.TotalSeconds:F0} it/s");
        });
    }

    private static string Sci(double v) => v.ToString("0.00e+00", CultureInfo.InvariantCulture);

    // 0, 1, 2, 5, 10, 20, 50, ... and the last.
    private static IEnumerable<int> LogSpaced(int last)
    {
        var s = new SortedSet<int> { 0, last };
        for (int p = 1; p <= last; p *= 10)
            foreach (int m in new[] { 1, 2, 5 }) if (p * m <= last) s.Add(p * m);
        return s;
    }
}

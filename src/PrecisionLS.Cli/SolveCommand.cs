using System.Globalization;
using System.Text.Json;
using PrecisionLS.Config;
using PrecisionLS.Solvers;
using PrecisionLS.Training;
using Spectre.Console;

namespace PrecisionLS.Cli;

/// <summary>
/// `solve --run DIR | --preset NAME | --config FILE [--method qr|normal|cg|gd|all] [--problems N] [--iters K] [--seed S]
/// [--set section.key=value ...] [--json]`: the classical float64 baselines (<see cref="Baselines"/>) on the seeded
/// problems of <see cref="ProblemSet"/>, one row per method.
/// </summary>
public static class SolveCommand
{
    /// <summary>Problems solved when --problems is not given.</summary>
    public const int DefaultProblems = 1000;

    public static int Run(string[] args)
    {
        var cl = new CommandLine(args, "solve", ["--run", "--preset", "--config", "--method", "--problems", "--iters", "--seed", "--set"], ["--json"]);
        var (config, source) = LoadConfig(cl);
        string method = cl.Get("--method") ?? "all";
        if (method != "all" && !Baselines.Names.Contains(method))
            throw new CommandLine.UsageException($"solve: unknown --method '{method}'; accepted: {string.Join(", ", Baselines.Names)}, all");
        int problems = (int)(cl.GetLong("--problems", 1) ?? DefaultProblems);
        int iters = (int)(cl.GetLong("--iters", 1) ?? Baselines.DefaultIterations);
        ulong seed = (ulong)(cl.GetLong("--seed", 0) ?? 0);

        var set = ProblemSet.ForRun(config, problems, seed);
        var results = Baselines.Compare(set, [method], iters);
        if (cl.Has("--json")) { Console.WriteLine(Json(results)); return 0; }

        var kwargs = config.Training.DataKwargs.Count == 0 ? "defaults"
            : string.Join(", ", config.Training.DataKwargs.Select(kv => $"{kv.Key}={kv.Value}"));
        Console.WriteLine($"{Program.Plural(set.Count, "problem")} of {set.Points} equations in {set.Dims} unknowns ({source}; data_kwargs {kwargs}), seed {seed}, float64");
        var table = new Table().Title("classical baselines").AddColumns("method", "mse to x*", "max |x - x*|", "iters", "ms");
        foreach (var r in results)
            table.AddRow(r.Method, Sci(r.Mse), Sci(r.MaxAbsError),
                r.Direct ? "1 (direct)" : r.Method == "cg" ? $"{r.Iterations} (most)" : $"{r.Iterations}", r.Milliseconds.ToString("F1", CultureInfo.InvariantCulture));
        TasksCommand.Out().Write(table);
        foreach (var r in results.Where(r => r.Method == "gd"))
            Console.WriteLine($"gd: step eta* = 2/(lambda_min + lambda_max) of (1/L) A^T A per problem; worst contraction (kappa-1)/(kappa+1) = " +
                              $"{r.Rate.ToString("F4", CultureInfo.InvariantCulture)}, so the error shrinks by at least {Sci(Math.Pow(r.Rate, r.Iterations))} in {r.Iterations} iterations");
        foreach (var r in results.Where(r => r.Method == "cg"))
            Console.WriteLine($"cg: CGLS from x_init, stops at |A^T r| <= {ConjugateGradientSolver.DefaultTolerance.ToString("0.#e+00", CultureInfo.InvariantCulture)} |A^T r0| or {iters} iterations; iters is the most any problem took (D = {set.Dims})");
        return 0;
    }

    private static (RunConfig Config, string Source) LoadConfig(CommandLine cl)
    {
        var overrides = cl.GetAll("--set");
        string? run = cl.Get("--run"), preset = cl.Get("--preset"), file = cl.Get("--config");
        if ((run is null ? 0 : 1) + (preset is null ? 0 : 1) + (file is null ? 0 : 1) != 1)
            throw new CommandLine.UsageException($"solve: give exactly one of --run DIR, --preset NAME (one of: {string.Join(", ", Presets.Names)}) or --config FILE");
        if (preset is not null) return (ConfigLoader.FromPreset(preset, overrides), $"preset {preset}");
        if (file is not null) return (ConfigLoader.FromFile(file, overrides), $"config {file}");
        // A run's resolved config; no checkpoint is needed, the baselines only use its data settings.
        string path = Path.Combine(run!, TrainingSession.ConfigFileName);
        if (!Directory.Exists(run)) throw new ConfigException($"run directory '{run}' does not exist");
        if (!File.Exists(path)) throw new ConfigException($"'{run}' is not a run directory: {TrainingSession.ConfigFileName} is missing");
        return (ConfigLoader.FromYaml(File.ReadAllText(path), $"file '{path}'", overrides), $"run {run}");
    }

    /// <summary>The results as a JSON array of {method, problems, mse, max_abs_error, iters, ms, rate}.</summary>
    public static string Json(IEnumerable<BaselineResult> results) => JsonSerializer.Serialize(results.Select(r => new Dictionary<string, object?>
    {
        ["method"] = r.Method,
        ["problems"] = r.Problems,
        ["mse"] = Finite(r.Mse),
        ["max_abs_error"] = Finite(r.MaxAbsError),
        ["iters"] = r.Iterations,
        ["ms"] = r.Milliseconds,
        ["rate"] = Finite(r.Rate),
    }), new JsonSerializerOptions { WriteIndented = true });

    // JSON has no NaN or infinity: such a value is written as null.
    internal static double? Finite(double v) => double.IsFinite(v) ? v : null;

    internal static string Sci(double v) => v.ToString("0.00e+00", CultureInfo.InvariantCulture);
}

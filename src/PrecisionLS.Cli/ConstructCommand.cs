using PrecisionLS.Config;
using PrecisionLS.Solvers;
using PrecisionLS.Training;

namespace PrecisionLS.Cli;

/// <summary>
/// `construct baseconv-gd|linear-attention-gd [--dims D] [--points L] [--dtype T] [--out DIR] [--set ...]`: writes
/// a run folder whose weights compute one exact least-squares gradient step (see GradientStepConstruction).
/// </summary>
public static class ConstructCommand
{
    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0].StartsWith("--", StringComparison.Ordinal))
            throw new CommandLine.UsageException($"construct: name a construction, one of: {string.Join(", ", GradientStepConstruction.Names)}");
        string name = args[0];
        if (!GradientStepConstruction.Names.Contains(name))
            throw new CommandLine.UsageException($"construct: unknown construction '{name}'; accepted: {string.Join(", ", GradientStepConstruction.Names)}");
        var cl = new CommandLine(args.Skip(1).ToArray(), "construct", ["--dims", "--points", "--dtype", "--out", "--set", "--seed"], []);
        int dims = (int)(cl.GetLong("--dims", 1) ?? 5), points = (int)(cl.GetLong("--points", 1) ?? 20);
        var overrides = cl.GetAll("--set").ToList();
        if (cl.Get("--dtype") is { } dtype) overrides.Add($"training.dtype={dtype}");
        if (cl.Get("--seed") is { } seed) overrides.Add($"training.seed={seed}");
        var cfg = GradientStepConstruction.Config(name, dims, points, overrides);
        string dir = cl.Get("--out") ?? Path.Combine(cfg.OutDir ?? "runs", $"{name}-{DateTime.Now:yyyyMMdd-HHmmss}");
        var summary = cfg.Training.Dtype switch
        {
            "float64" => Save<double>(name, cfg, dir),
            "float32" => Save<float>(name, cfg, dir),
            var d => throw new ConfigException($"training.dtype '{d}' is unknown; accepted: float64, float32"),
        };
        Console.WriteLine($"{name}: {PresetCheck.DescribeModel(cfg.Model)}, D {dims}, L {points}, {summary.Parameters:N0} parameters, {summary.Dtype}");
        Console.WriteLine($"held-out mse of one gradient (batch {cfg.Training.EvalBatchSize}): {summary.FinalEvalMse:0.000e+00}");
        Console.WriteLine($"run folder: {dir}   (iterate it: precisionls iterate --run {dir} --iters 1000)");
        return 0;
    }

    private static RunSummary Save<T>(string name, RunConfig cfg, string dir) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var trainer = new Trainer<T>(cfg);
        GradientStepConstruction.Apply(name, trainer.Model);
        return RunModel.Save(trainer, cfg, dir, RunSummary.Constructed);
    }
}

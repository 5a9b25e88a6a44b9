using PrecisionLS.Config;
using PrecisionLS.Solvers;
using PrecisionLS.Training;

namespace PrecisionLS.Cli;

/// <summary>
/// `construct baseconv-gd|linear-attention-gd [--dims D] [--points L] [--dtype T] [--out DIR] [--set ...]
/// [--perturb EPS [--perturb-support]] [--seed S]`: writes a run folder whose weights compute one exact least-squares
/// gradient step (see GradientStepConstruction), optionally moved by Gaussian noise of size EPS (a start for training
/// experiments near an exact solution).
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
        var cl = new CommandLine(args.Skip(1).ToArray(), "construct", ["--dims", "--points", "--dtype", "--out", "--set", "--seed", "--perturb"], ["--perturb-support"]);
        double perturb = 0;
        if (cl.Get("--perturb") is { } ps && (!double.TryParse(ps, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out perturb) || !(perturb >= 0) || !double.IsFinite(perturb)))
            throw new CommandLine.UsageException($"construct: --perturb '{ps}' is not a size; give a finite number >= 0, e.g. --perturb 1e-4");
        bool supportOnly = cl.Has("--perturb-support");
        if (supportOnly && perturb == 0) throw new CommandLine.UsageException("construct: --perturb-support needs --perturb EPS");
        int dims = (int)(cl.GetLong("--dims", 1) ?? 5), points = (int)(cl.GetLong("--points", 1) ?? 20);
        var overrides = cl.GetAll("--set").ToList();
        if (cl.Get("--dtype") is { } dtype) overrides.Add($"training.dtype={dtype}");
        if (cl.Get("--seed") is { } seed) overrides.Add($"training.seed={seed}");
        var cfg = GradientStepConstruction.Config(name, dims, points, overrides);
        string dir = cl.Get("--out") ?? Path.Combine(cfg.OutDir ?? "runs", $"{name}-{DateTime.Now:yyyyMMdd-HHmmss}");
        var summary = cfg.Training.Dtype switch
        {
            "float64" => Save<double>(name, cfg, dir, perturb, supportOnly),
            "float32" => Save<float>(name, cfg, dir, perturb, supportOnly),
            var d => throw new ConfigException($"training.dtype '{d}' is unknown; accepted: float64, float32"),
        };
        Console.WriteLine($"{name}: {PresetCheck.DescribeModel(cfg.Model)}, D {dims}, L {points}, {summary.Parameters:N0} parameters, {summary.Dtype}");
        if (perturb > 0) Console.WriteLine($"perturbed by {perturb:G3} x N(0, 1) on {(supportOnly ? "the construction's nonzero weights" : "every trainable weight")} (seed {cfg.Training.Seed})");
        Console.WriteLine($"held-out mse of one gradient (batch {cfg.Training.EvalBatchSize}): {summary.FinalEvalMse:0.000e+00}");
        Console.WriteLine($"run folder: {dir}   (iterate it: precisionls iterate --run {dir} --iters 1000; train from it: " +
                          $"precisionls export --run {dir} --format safetensors --out W.safetensors, then train --init-from W.safetensors)");
        return 0;
    }

    private static RunSummary Save<T>(string name, RunConfig cfg, string dir, double perturb, bool supportOnly) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var trainer = new Trainer<T>(cfg);
        GradientStepConstruction.Apply(name, trainer.Model);
        if (perturb > 0) GradientStepConstruction.Perturb(trainer.Model, perturb, supportOnly, cfg.Training.Seed);
        return RunModel.Save(trainer, cfg, dir, RunSummary.Constructed);
    }
}

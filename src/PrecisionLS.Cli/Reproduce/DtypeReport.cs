using PrecisionLS.Config;
using PrecisionLS.Solvers;
using PrecisionLS.Training;

namespace PrecisionLS.Cli.Reproduce;

/// <summary>`reproduce dtype`: the explicit-gradient recipe trained in float32 and in float64, then iterated.</summary>
public static class DtypeReport
{
    public static string Run(Reproduction rep, ulong seed, string command, CancellationToken cancel)
    {
        var rows = new List<string[]>();
        foreach (var dtype in new[] { "float32", "float64" })
        {
            var cfg = ConfigLoader.FromPreset("explicit-gradient", [$"training.dtype={dtype}", "training.train_steps=2500000",
                "training.eval_every=500", "training.save_every_steps=1000", $"training.seed={seed}"]);
            rep.Train(dtype, cfg, Math.Min(rep.BudgetMinutes * 0.45, rep.MinutesLeft - 0.05 * rep.BudgetMinutes), cancel);
            var info = RunInfo.Load(rep.RunDirectory(dtype));
            var report = dtype == "float32" ? Iterate<float>(rep, rep.RunDirectory(dtype), seed) : Iterate<double>(rep, rep.RunDirectory(dtype), seed);
            rows.Add([dtype, $"{info.Steps}", Reproduction.Sci(info.FinalEvalMse ?? double.NaN), Reproduction.Sci(info.BestEvalMse ?? double.NaN),
                Reproduction.Sci(report.FinalMse), Reproduction.Sci(report.GdFinalMse)]);
        }
        rep.Line("The paper's explicit-gradient BaseConv recipe (3 layers, width 64, batch 1024, lr 1e-2, EMA filter), the same");
        rep.Line($"seed and wall time in each precision. Held-out MSE of the learned gradient, then the model iterated {rep.Iterations} times");
        rep.Line($"as a solver on {rep.Problems} problems (optimal fixed step per problem), exact GD in float64 alongside.");
        rep.Line();
        rep.Table(["dtype", "steps", "final gradient mse", "best gradient mse", "iterated MSE to x*", "exact GD MSE"], rows);
        rep.Line(rep.RunPlot("float32", "float32-loss.png", "float32 training") + " " + rep.RunPlot("float64", "float64-loss.png", "float64 training"));
        rep.Line();
        rep.Line("## Where this differs from the paper");
        rep.Line();
        rep.Line($"- About {rep.BudgetMinutes * 0.45:0.#} min per precision instead of 2.5M steps; float32 steps run about twice as fast, so it gets more of them.");
        rep.Line();
        return rep.Write("Reproduce: float32 vs float64", command);
    }

    private static IterationReport Iterate<T>(Reproduction rep, string dir, ulong seed) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var (cfg, model) = RunModel.Load<T>(dir);
        return LearnedIteration.Run(model, cfg, ProblemSet.ForRun(cfg, rep.Problems, seed), rep.Iterations, eta: null);
    }
}

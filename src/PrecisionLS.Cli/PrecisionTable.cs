using PrecisionLS.Training;
using Spectre.Console;

namespace PrecisionLS.Cli;

/// <summary>The end-of-run table: held-out precision at roughly log-spaced steps, then the summary figures.</summary>
public static class PrecisionTable
{
    public static void Print(IReadOnlyList<TrainingRecord> records, RunSummary summary)
    {
        var evals = records.Where(r => r.EvalMse is not null).ToList();
        var table = new Table().Title("held-out precision").AddColumns("step", "train loss", "eval mse", "eval rel", "eval rel_l2", "lr", "wall s");
        foreach (var r in Pick(evals, 10))
            table.AddRow($"{r.Step}", $"{r.Loss:0.00e+00}", $"{r.EvalMse:0.00e+00}", $"{r.EvalRel:0.00e+00}", $"{r.EvalRelL2:0.00e+00}", $"{r.LearningRate:0.0e+00}", $"{r.WallSeconds:F1}");
        AnsiConsole.Write(table);
        Console.WriteLine($"steps {summary.Steps}, final train loss {summary.FinalTrainLoss:0.000e+00}, final eval mse {summary.FinalEvalMse:0.000e+00}, " +
                          $"best eval mse {summary.BestEvalMse:0.000e+00}, {summary.WallSeconds:F1} s ({summary.StepsPerSecond:F1} steps/s)");
    }

    // About n rows spread evenly in log(step), always including the first and last evaluation.
    private static IEnumerable<TrainingRecord> Pick(List<TrainingRecord> evals, int n)
    {
        if (evals.Count <= n) return evals;
        var picked = new SortedSet<int> { 0, evals.Count - 1 };
        double lo = Math.Log(evals[0].Step), hi = Math.Log(evals[^1].Step);
        for (int i = 1; i < n - 1; i++)
        {
            double target = Math.Exp(lo + (hi - lo) * i / (n - 1));
            int best = 0;
            for (int j = 1; j < evals.Count; j++)
                if (Math.Abs(evals[j].Step - target) < Math.Abs(evals[best].Step - target)) best = j;
            picked.Add(best);
        }
        return picked.Select(i => evals[i]);
    }
}

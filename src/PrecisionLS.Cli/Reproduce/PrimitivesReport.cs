using PrecisionLS.Config;
using PrecisionLS.Training;

namespace PrecisionLS.Cli.Reproduce;

/// <summary>`reproduce primitives`: softmax attention against BaseConv on the multiply, read and linear primitives.</summary>
public static class PrimitivesReport
{
    private static readonly (string Task, string Preset)[] Tasks =
        [("elementwise_multiply", "primitives-multiply"), ("read", "primitives-read"), ("linear", "primitives-linear")];

    public static string Run(Reproduction rep, ulong seed, string command, CancellationToken cancel)
    {
        double each = rep.BudgetMinutes * 0.92 / (2 * Tasks.Length);
        var rows = new List<string[]>();
        foreach (var (task, preset) in Tasks)
        {
            var results = new Dictionary<string, RunInfo>();
            foreach (var (mixer, sets) in new[] { ("attention", new[] { "model.seq_op=attn", "model.n_head=2" }), ("baseconv", new[] { "model.seq_op=base_conv" }) })
            {
                var cfg = ConfigLoader.FromPreset(preset, [.. sets, "training.train_steps=1000000", "training.eval_every=250", $"training.seed={seed}"]);
                string name = $"{preset}-{mixer}";
                rep.Train(name, cfg, Math.Min(each, rep.MinutesLeft - 0.05 * rep.BudgetMinutes), cancel);
                results[mixer] = RunInfo.Load(rep.RunDirectory(name));
            }
            var (a, b) = (results["attention"], results["baseconv"]);
            rows.Add([task, $"{Reproduction.Sci(a.FinalEvalMse ?? double.NaN)} ({a.Steps} steps)", $"{Reproduction.Sci(b.FinalEvalMse ?? double.NaN)} ({b.Steps} steps)",
                Reproduction.Ratio(a.FinalEvalMse ?? double.NaN, b.FinalEvalMse ?? double.NaN)]);
        }
        rep.Line("Final held-out MSE of each primitive (REFERENCE §1: D 20, L 40; loss over all positions), both mixers in the");
        rep.Line("same 2-layer, width-64 model with MLPs (the presets), the same steps budget each, float64.");
        rep.Line();
        rep.Table(["task", "softmax attention", "BaseConv", "attention / BaseConv"], rows);
        foreach (var (_, preset) in Tasks)
            rep.Line(rep.RunPlot($"{preset}-baseconv", $"{preset}-baseconv.png", $"{preset} BaseConv") + " " +
                     rep.RunPlot($"{preset}-attention", $"{preset}-attention.png", $"{preset} attention"));
        rep.Line();
        rep.Line("## Where this differs from the paper");
        rep.Line();
        rep.Line($"- About {each:0.#} min per model on this CPU instead of the paper's step counts (lr 1e-3, step schedule every 10k steps).");
        rep.Line("- float64 (the authors train in float32).");
        rep.Line();
        return rep.Write("Reproduce: primitives, softmax attention vs BaseConv", command);
    }
}

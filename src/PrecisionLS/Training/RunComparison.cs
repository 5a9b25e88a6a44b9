using System.Globalization;
using System.Text;
using PrecisionLS.Config;

namespace PrecisionLS.Training;

/// <summary>
/// Runs side by side for <c>runs compare</c> and the end of a sweep: sorted by final held-out mse (best first,
/// runs without an evaluation last), with the config keys whose values differ between the runs.
/// </summary>
public sealed class RunComparison
{
    private readonly Dictionary<RunInfo, SortedDictionary<string, string>> _flat;

    private RunComparison(IReadOnlyList<RunInfo> runs, IReadOnlyList<string> differingKeys, Dictionary<RunInfo, SortedDictionary<string, string>> flat)
    {
        Runs = runs;
        DifferingKeys = differingKeys;
        _flat = flat;
    }

    /// <summary>The runs, best final held-out mse first.</summary>
    public IReadOnlyList<RunInfo> Runs { get; }

    /// <summary>Config keys ("section.key") whose values are not the same in every run, in key order.</summary>
    public IReadOnlyList<string> DifferingKeys { get; }

    /// <summary>Compares <paramref name="runs"/>.</summary>
    public static RunComparison Of(IEnumerable<RunInfo> runs)
    {
        var list = runs.OrderBy(r => r.FinalEvalMse is double m && !double.IsNaN(m) ? 0 : 1)
            .ThenBy(r => r.FinalEvalMse ?? 0)
            .ThenBy(r => r.Directory, StringComparer.Ordinal)
            .ToList();
        var flat = list.Where(r => r.Config is not null).ToDictionary(r => r, r => ConfigLoader.Flatten(r.Config!));
        var keys = flat.Values.SelectMany(f => f.Keys).Distinct().Order(StringComparer.Ordinal);
        var differing = list.Count < 2 ? [] : keys.Where(k => flat.Values.Select(f => f.GetValueOrDefault(k, "")).Distinct().Count() > 1).ToList();
        return new RunComparison(list, differing, flat);
    }

    /// <summary>The value of config key <paramref name="key"/> in <paramref name="run"/> ("" when absent).</summary>
    public string Value(RunInfo run, string key) =>
        _flat.TryGetValue(run, out var f) ? f.GetValueOrDefault(key, "") : "";

    /// <summary>A short label of a run: its differing key values ("learning_rate=0.01 n_layer=2"), else its name.</summary>
    public string Label(RunInfo run) =>
        DifferingKeys.Count == 0 ? run.Name : string.Join(" ", DifferingKeys.Select(k => $"{k[(k.LastIndexOf('.') + 1)..]}={Value(run, k)}"));

    /// <summary>The table as CSV: run, status, steps, target_steps, final_loss, final_eval_mse, best_eval_mse, wall_seconds, then the differing keys.</summary>
    public string ToCsv()
    {
        var sb = new StringBuilder();
        sb.AppendJoin(',', new[] { "run", "status", "steps", "target_steps", "final_loss", "final_eval_mse", "best_eval_mse", "wall_seconds" }.Concat(DifferingKeys));
        sb.Append('\n');
        foreach (var r in Runs)
        {
            var cells = new[]
            {
                r.Directory, r.Status, r.Steps.ToString(CultureInfo.InvariantCulture), r.TargetSteps.ToString(CultureInfo.InvariantCulture),
                Number(r.FinalLoss), Number(r.FinalEvalMse), Number(r.BestEvalMse), r.WallSeconds.ToString("R", CultureInfo.InvariantCulture),
            }.Concat(DifferingKeys.Select(k => Value(r, k)));
            sb.AppendJoin(',', cells.Select(Quote));
            sb.Append('\n');
        }
        return sb.ToString();
    }

    private static string Number(double? v) => v is double d ? d.ToString("R", CultureInfo.InvariantCulture) : "";

    private static string Quote(string cell) =>
        cell.IndexOfAny([',', '"', '\n']) >= 0 ? "\"" + cell.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : cell;
}

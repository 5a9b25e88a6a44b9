using System.Globalization;
using PrecisionLS.Training;
using Spectre.Console;

namespace PrecisionLS.Cli;

/// <summary>Runs as a console table (runs list, runs compare, the end of a sweep) or as JSON.</summary>
public static class RunsTable
{
    /// <summary>Prints one row per run: name, the differing config keys, steps, metrics, wall time, status.</summary>
    public static void Print(RunComparison comparison, string? title = null, Func<RunInfo, string>? name = null)
    {
        name ??= r => r.Name;
        var table = new Table();
        if (title is not null) table.Title(Markup.Escape(title));
        table.AddColumn("run");
        foreach (var k in comparison.DifferingKeys) table.AddColumn(Markup.Escape(k));
        table.AddColumns("steps", "final loss", "final eval mse", "best eval mse", "wall", "status");
        foreach (var r in comparison.Runs)
        {
            var cells = new List<string> { Markup.Escape(name(r)) };
            cells.AddRange(comparison.DifferingKeys.Select(k => Markup.Escape(comparison.Value(r, k))));
            cells.Add($"{r.Steps}/{r.TargetSteps}");
            cells.Add(Sci(r.FinalLoss));
            cells.Add(Sci(r.FinalEvalMse));
            cells.Add(Sci(r.BestEvalMse));
            cells.Add(Duration(r.WallSeconds));
            cells.Add(Markup.Escape(r.Problem is null ? r.Status : $"{r.Status}: {r.Problem}"));
            table.AddRow(cells.ToArray());
        }
        TasksCommand.Out().Write(table);
    }

    /// <summary>The runs as a JSON array (one object per run, snake_case keys, config keys that differ under "config").</summary>
    public static string Json(RunComparison comparison)
    {
        var rows = comparison.Runs.Select(r => new Dictionary<string, object?>
        {
            ["run"] = r.Directory,
            ["status"] = r.Status,
            ["steps"] = r.Steps,
            ["target_steps"] = r.TargetSteps,
            ["final_loss"] = Finite(r.FinalLoss),
            ["final_eval_mse"] = Finite(r.FinalEvalMse),
            ["best_eval_mse"] = Finite(r.BestEvalMse),
            ["wall_seconds"] = r.WallSeconds,
            ["config"] = comparison.DifferingKeys.ToDictionary(k => k, k => comparison.Value(r, k)),
            ["problem"] = r.Problem,
        });
        return System.Text.Json.JsonSerializer.Serialize(rows, new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
    }

    // JSON has no NaN: a diverged loss is written as null.
    private static double? Finite(double? v) => v is double d && double.IsFinite(d) ? d : null;

    /// <summary>1.23e-04, or "-" when there is no value.</summary>
    internal static string Sci(double? v) => v is double d ? d.ToString("0.00e+00", CultureInfo.InvariantCulture) : "-";

    /// <summary>"42 s", "3 m 05 s", "2 h 04 m".</summary>
    public static string Duration(double seconds) => seconds switch
    {
        < 60 => $"{seconds:F0} s",
        < 3600 => $"{(int)(seconds / 60)} m {(int)seconds % 60:00} s",
        _ => $"{(int)(seconds / 3600)} h {(int)(seconds / 60) % 60:00} m",
    };
}

using PrecisionLS.Training;
using Spectre.Console;

namespace PrecisionLS.Cli;

/// <summary>`runs list [DIR]` shows every run under a folder; `runs compare DIR...` puts chosen runs side by side.</summary>
public static class RunsCommand
{
    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0] is not ("list" or "compare"))
            throw new CommandLine.UsageException("runs: accepted actions: list [DIR] [--json], compare DIR... [--json]");
        var (dirs, cl) = SplitPositional(args.Skip(1).ToArray(), $"runs {args[0]}", [], ["--json"]);
        if (args[0] == "list")
        {
            if (dirs.Count > 1) throw new CommandLine.UsageException($"runs list takes one folder, got {dirs.Count}; use runs compare for several");
            string root = dirs.Count == 1 ? dirs[0] : "runs";
            if (!Directory.Exists(root))
                throw new CommandLine.UsageException(dirs.Count == 1 ? $"runs list: folder '{root}' does not exist" : "runs list: no runs/ folder here yet; train something first or name a folder: runs list DIR");
            var found = RunInfo.Find(root);
            if (found.Count == 0) { Console.WriteLine($"no runs under '{root}'"); return 0; }
            // list: newest first, no config columns (runs of different presets share few keys worth showing)
            var infos = found.Select(RunInfo.Load).OrderByDescending(r => Directory.GetLastWriteTimeUtc(r.Directory)).ToList();
            if (cl.Has("--json")) { Console.WriteLine(RunsTable.Json(RunComparison.Of(infos))); return 0; }
            PrintList(infos, root);
            return 0;
        }

        if (dirs.Count == 0) throw new CommandLine.UsageException("runs compare: name one or more run or sweep folders");
        var runs = ExpandRuns(dirs);
        var comparison = RunComparison.Of(runs.Select(RunInfo.Load));
        if (cl.Has("--json")) Console.WriteLine(RunsTable.Json(comparison));
        else RunsTable.Print(comparison, $"{comparison.Runs.Count} runs, best final eval mse first");
        return 0;
    }

    private static void PrintList(List<RunInfo> infos, string root)
    {
        var table = new Table().AddColumns("run", "task", "model", "steps", "final loss", "final eval mse", "best eval mse", "wall", "status");
        foreach (var r in infos)
        {
            string rel = Path.GetRelativePath(root, r.Directory);
            string model = r.Config is { } c ? Config.PresetCheck.DescribeModel(c.Model) : "?";
            table.AddRow(Esc(rel), Esc(r.Config?.Training.Task ?? "?"), Esc(model), $"{r.Steps}/{r.TargetSteps}",
                RunsTable.Sci(r.FinalLoss), RunsTable.Sci(r.FinalEvalMse), RunsTable.Sci(r.BestEvalMse), RunsTable.Duration(r.WallSeconds),
                Esc(r.Problem is null ? r.Status : $"{r.Status}: {r.Problem}"));
        }
        TasksCommand.Out().Write(table);
    }

    private static string Esc(string s) => Markup.Escape(s);

    /// <summary>Each argument as runs: a run folder itself, or every run below a sweep or runs folder.</summary>
    public static List<string> ExpandRuns(IEnumerable<string> dirs)
    {
        var runs = new List<string>();
        foreach (var d in dirs)
        {
            if (!Directory.Exists(d)) throw new CommandLine.UsageException($"'{d}' does not exist (give run or sweep folders)");
            var found = RunInfo.Find(d);
            if (found.Count == 0) throw new CommandLine.UsageException($"'{d}' holds no runs (a run folder has config.yaml)");
            runs.AddRange(found.Where(f => !runs.Contains(f)));
        }
        return runs;
    }

    /// <summary>Splits leading/trailing folder names from --flags.</summary>
    public static (List<string> Positional, CommandLine Flags) SplitPositional(string[] args, string verb, string[] valued, string[] switches)
    {
        var positional = new List<string>();
        var flags = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i].StartsWith("--", StringComparison.Ordinal))
            {
                flags.Add(args[i]);
                if (valued.Contains(args[i]) && i + 1 < args.Length) flags.Add(args[++i]);
            }
            else positional.Add(args[i]);
        }
        return (positional, new CommandLine(flags, verb, valued, switches));
    }
}

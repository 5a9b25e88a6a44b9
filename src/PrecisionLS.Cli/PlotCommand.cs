using PrecisionLS.Training;

namespace PrecisionLS.Cli;

/// <summary>
/// `plot DIR... [--out FILE]`: redraws each run's plots/ (loss with learning rate, lr, grad norm) and, for two or more
/// runs, an overlay of their curves (a sweep folder's goes to its plots/compare.png).
/// </summary>
public static class PlotCommand
{
    public static int Run(string[] args)
    {
        var (dirs, cl) = RunsCommand.SplitPositional(args, "plot", ["--out"], []);
        if (dirs.Count == 0) throw new CommandLine.UsageException("plot: name one or more run or sweep folders, e.g. plot runs/explicit-gradient-20261125-120000");
        var runs = RunsCommand.ExpandRuns(dirs);
        foreach (var run in runs)
        {
            var written = WriteRunPlots(run);
            Console.WriteLine($"{run}: {string.Join(", ", written.Select(Path.GetFileName))}");
        }
        if (runs.Count >= 2 || cl.Has("--out"))
        {
            string? sweepDir = dirs.Count == 1 && File.Exists(Path.Combine(dirs[0], SweepPlan.FileName)) ? dirs[0] : null;
            string path = cl.Get("--out") ?? (sweepDir is not null ? Path.Combine(sweepDir, "plots", "compare.png") : "compare.png");
            WriteOverlay(runs, path, sweepDir is not null ? $"Sweep {Path.GetFileName(Path.TrimEndingDirectorySeparator(sweepDir))}" : "Runs compared");
            Console.WriteLine($"overlay: {path}");
        }
        return 0;
    }

    /// <summary>Writes a run's plots/ from its metrics.jsonl; returns the files written.</summary>
    public static IReadOnlyList<string> WriteRunPlots(string runDir) =>
        PlotWriter.WriteAll(RunInfo.ReadMetrics(runDir), Path.Combine(runDir, "plots"), Path.GetFileName(Path.TrimEndingDirectorySeparator(runDir)));

    /// <summary>Writes the overlay of <paramref name="runDirs"/>, labelled by the config keys that differ between them.</summary>
    public static void WriteOverlay(IReadOnlyList<string> runDirs, string path, string title)
    {
        var comparison = RunComparison.Of(runDirs.Select(RunInfo.Load));
        var series = comparison.Runs.Select(r => (comparison.Label(r), RunInfo.ReadMetrics(r.Directory))).ToList();
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        PlotWriter.WriteOverlay(series, path, title);
    }
}

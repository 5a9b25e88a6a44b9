using System.Diagnostics;
using System.Globalization;
using System.Text;
using PrecisionLS.Config;
using PrecisionLS.Numerics;
using PrecisionLS.Training;

namespace PrecisionLS.Cli.Reproduce;

/// <summary>
/// Shared machinery of one `reproduce` report: its folder (report.md, PNG plots, runs/), its wall-clock budget,
/// training under a time share, and the Markdown it writes.
/// </summary>
public sealed class Reproduction
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly StringBuilder _md = new();

    public Reproduction(string name, string directory, double budgetMinutes)
    {
        Name = name; Directory = directory; BudgetMinutes = budgetMinutes;
        System.IO.Directory.CreateDirectory(directory);
        System.IO.Directory.CreateDirectory(Path.Combine(directory, "runs"));
    }

    /// <summary>precision, ood-gap, primitives or dtype.</summary>
    public string Name { get; }
    /// <summary>The report folder.</summary>
    public string Directory { get; }
    /// <summary>The whole report's budget.</summary>
    public double BudgetMinutes { get; }
    /// <summary>Problems the solvers are compared on (fewer for a budget under 2 minutes, a smoke test).</summary>
    public int Problems => BudgetMinutes >= 2 ? 1024 : 64;

    /// <summary>Iterations of a learned gradient step (and of exact GD alongside).</summary>
    public int Iterations => BudgetMinutes >= 2 ? 500 : 50;

    /// <summary>Minutes left of the budget.</summary>
    public double MinutesLeft => BudgetMinutes - _clock.Elapsed.TotalMinutes;
    /// <summary>Minutes spent so far.</summary>
    public double MinutesSpent => _clock.Elapsed.TotalMinutes;

    /// <summary>Appends Markdown text (a line break is added).</summary>
    public void Line(string text = "") => _md.Append(text).Append('\n');

    /// <summary>Appends a Markdown table.</summary>
    public void Table(string[] header, IEnumerable<string[]> rows)
    {
        Line("| " + string.Join(" | ", header) + " |");
        Line("|" + string.Concat(header.Select(_ => "---|")));
        foreach (var r in rows) Line("| " + string.Join(" | ", r) + " |");
        Line();
    }

    /// <summary>
    /// Trains <paramref name="config"/> as runs/<paramref name="runName"/> for at most <paramref name="minutes"/>
    /// (or until train_steps), writes its plots, and returns its summary. Progress goes to the console.
    /// </summary>
    public RunSummary Train(string runName, RunConfig config, double minutes, CancellationToken cancel)
    {
        string dir = Path.Combine(Directory, "runs", runName);
        if (System.IO.Directory.Exists(dir)) System.IO.Directory.Delete(dir, recursive: true);   // a report retrains from scratch
        Console.WriteLine($"[{Name}] training {runName}: {PresetCheck.DescribeModel(config.Model)}, task {config.Training.Task}, " +
                          $"batch {config.Training.BatchSize}, {config.Training.Dtype}, for {minutes:0.0} min");
        RunSummary summary;
        double budget = Math.Max(5, minutes * 60);
        using (var observer = new ConsoleObserver(dir, budget))
            summary = TrainingSession.Run(new SessionOptions(config, dir, false) { MaxWallSeconds = budget }, observer, cancel);
        PlotCommand.WriteRunPlots(dir);
        return summary;
    }

    /// <summary>The folder of a run trained by <see cref="Train"/>.</summary>
    public string RunDirectory(string runName) => Path.Combine(Directory, "runs", runName);

    /// <summary>Copies a run's loss plot next to report.md under <paramref name="file"/> and returns the Markdown image line.</summary>
    public string RunPlot(string runName, string file, string caption)
    {
        File.Copy(Path.Combine(RunDirectory(runName), "plots", "loss.png"), Path.Combine(Directory, file), overwrite: true);
        return $"![{caption}]({file})";
    }

    /// <summary>Writes report.md: a header (budget, time spent, machine, command) then the body.</summary>
    public string Write(string title, string command)
    {
        var head = new StringBuilder();
        head.Append($"# {title}\n\n");
        head.Append($"- Command: `{command}`\n");
        head.Append($"- Budget: {BudgetMinutes:0.#} min; used {MinutesSpent:0.0} min\n");
        head.Append($"- Machine: {Machine()}\n");
        head.Append($"- Date: {DateTime.Now:yyyy-MM-dd HH:mm}\n\n");
        string path = Path.Combine(Directory, "report.md");
        AtomicFile.WriteAllText(path, head + _md.ToString());
        return path;
    }

    /// <summary>CPU model, cores used, OS and runtime, e.g. "AMD EPYC 9B14, 2 threads (2 cores), Linux, .NET 10.0.0".</summary>
    public static string Machine()
    {
        string cpu = "unknown CPU";
        try
        {
            if (File.Exists("/proc/cpuinfo"))
                cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? cpu;
        }
        catch (IOException) { }
        return $"{cpu}, {Program.Plural(WorkerPool.Shared.Threads, "thread")} ({Environment.ProcessorCount} cores), " +
               $"{System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}";
    }

    /// <summary>1.23e-04 style.</summary>
    public static string Sci(double v) => double.IsFinite(v) ? v.ToString("0.00e+00", CultureInfo.InvariantCulture) : v.ToString(CultureInfo.InvariantCulture);

    /// <summary>A ratio a/b as "1.2e+05x", or "-" when undefined.</summary>
    public static string Ratio(double a, double b) => b > 0 && double.IsFinite(a / b) ? $"{Sci(a / b)}x" : "-";
}

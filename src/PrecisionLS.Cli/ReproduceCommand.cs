using System.Globalization;
using PrecisionLS.Cli.Reproduce;
using PrecisionLS.Numerics;

namespace PrecisionLS.Cli;

/// <summary>
/// `reproduce precision|ood-gap|primitives|dtype|time-to-precision [--budget MINUTES] [--out DIR] [--seed S] [--threads N]`: regenerates a
/// comparison of the paper at reduced scale within the budget and writes report.md with tables and PNG plots.
/// </summary>
public static class ReproduceCommand
{
    /// <summary>Reports by name.</summary>
    public static readonly IReadOnlyList<string> Names = ["precision", "ood-gap", "primitives", "dtype", "time-to-precision"];

    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0].StartsWith("--", StringComparison.Ordinal))
            throw new CommandLine.UsageException($"reproduce: name a comparison, one of: {string.Join(", ", Names)}");
        string name = args[0];
        if (!Names.Contains(name)) throw new CommandLine.UsageException($"reproduce: unknown comparison '{name}'; accepted: {string.Join(", ", Names)}");
        var cl = new CommandLine(args.Skip(1).ToArray(), "reproduce", ["--budget", "--out", "--seed", "--threads"], []);
        double budget = 20;
        if (cl.Get("--budget") is { } b && (!double.TryParse(b, NumberStyles.Float, CultureInfo.InvariantCulture, out budget) || !(budget > 0) || !double.IsFinite(budget)))
            throw new CommandLine.UsageException($"--budget '{b}' must be a positive number of minutes (20 by default; under 2 is a smoke test)");
        if (cl.GetLong("--threads", 1) is long threads) WorkerPool.Configure((int)threads);
        ulong seed = (ulong)(cl.GetLong("--seed", 0) ?? 0);
        string dir = cl.Get("--out") ?? Path.Combine("reports", $"{name}-{DateTime.Now:yyyyMMdd-HHmmss}");
        string command = "precisionls reproduce " + string.Join(" ", args);
        using var cancel = new StopSignals();   // Ctrl+C, SIGTERM, SIGHUP: stop after the step, checkpoint
        var rep = new Reproduction(name, dir, budget);
        Console.WriteLine($"reproduce {name}: budget {budget:0.#} min, report in {dir}");
        string report = name switch
        {
            "precision" => PrecisionReport.Run(rep, seed, command, cancel.Token),
            "ood-gap" => OodGapReport.Run(rep, seed, command, cancel.Token),
            "primitives" => PrimitivesReport.Run(rep, seed, command, cancel.Token),
            "time-to-precision" => TimeToPrecisionReport.Run(rep, seed, command, cancel.Token),
            _ => DtypeReport.Run(rep, seed, command, cancel.Token),
        };
        Console.WriteLine();
        Console.WriteLine(File.ReadAllText(report));
        Console.WriteLine($"report: {report} ({rep.MinutesSpent:0.0} min)");
        return 0;
    }
}

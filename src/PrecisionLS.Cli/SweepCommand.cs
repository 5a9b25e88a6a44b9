using System.Diagnostics;
using PrecisionLS.Config;
using PrecisionLS.Numerics;
using PrecisionLS.Training;

namespace PrecisionLS.Cli;

/// <summary>
/// `sweep`: trains every point of a grid of config values as its own run under one sweep folder, one after another
/// or several at once (child processes, each with its share of the threads), skips runs that already finished,
/// resumes stopped ones, and ends with a comparison table, comparison.csv and an overlay plot.
/// </summary>
public static class SweepCommand
{
    private static readonly string[] Valued = ["--preset", "--config", "--grid", "--set", "--steps", "--dtype", "--seed", "--batch", "--parallel", "--threads", "--out", "--resume"];

    public static int Run(string[] args)
    {
        var cl = new CommandLine(args, "sweep", Valued, []);
        int total = (int)(cl.GetLong("--threads", 1) ?? Environment.ProcessorCount);
        int parallel = (int)(cl.GetLong("--parallel", 1) ?? 1);

        string sweepDir;
        SweepPlan plan;
        if (cl.Get("--resume") is { } resume)
        {
            foreach (var f in new[] { "--preset", "--config", "--grid", "--set", "--steps", "--dtype", "--seed", "--batch", "--out" })
                if (cl.Has(f)) throw new CommandLine.UsageException($"sweep --resume takes the sweep's own plan ({SweepPlan.FileName}); {f} cannot change it (only --parallel and --threads)");
            sweepDir = resume;
            plan = SweepPlan.Load(sweepDir);
        }
        else
        {
            plan = PlanFrom(cl);
            string name = plan.Preset ?? Path.GetFileNameWithoutExtension(plan.ConfigFile!);
            var first = plan.ConfigFor(plan.Runs()[0]);
            sweepDir = cl.Get("--out") ?? Path.Combine(first.OutDir ?? "runs", $"sweep-{name}-{DateTime.Now:yyyyMMdd-HHmmss}");
            if (File.Exists(Path.Combine(sweepDir, SweepPlan.FileName)))
            {
                var existing = SweepPlan.Load(sweepDir);
                if (!existing.SameAs(plan))
                    throw new CommandLine.UsageException($"'{sweepDir}' holds a different sweep; continue it with sweep --resume {sweepDir}, or choose another --out");
            }
        }

        // Resolve every run's config before training any, so a bad grid value fails at once.
        var runs = plan.Runs();
        var configs = runs.Select(plan.ConfigFor).ToList();
        plan.Save(sweepDir);
        parallel = Math.Min(parallel, runs.Count);
        Console.WriteLine($"sweep {sweepDir}: {runs.Count} runs ({string.Join(" x ", plan.Axes.Select(a => $"{a.Key} {a.Values.Count}"))}), " +
                          (parallel > 1 ? $"{parallel} at a time, {Program.Plural(Math.Max(1, total / parallel), "thread")} each" : $"one at a time, {Program.Plural(total, "thread")}"));

        using var cancel = new StopSignals();   // Ctrl+C, SIGTERM, SIGHUP: stop after the step, checkpoint
        var outcomes = parallel > 1
            ? RunChildren(plan, runs, configs, sweepDir, parallel, Math.Max(1, total / parallel), cancel.Token)
            : RunInProcess(runs, configs, sweepDir, total, cancel.Token);

        var dirs = runs.Select(r => Path.Combine(sweepDir, r.Name)).Where(RunInfo.IsRunDirectory).ToList();
        if (dirs.Count > 0)
        {
            var comparison = RunComparison.Of(dirs.Select(RunInfo.Load));
            RunsTable.Print(comparison, $"sweep {Path.GetFileName(Path.TrimEndingDirectorySeparator(sweepDir))}: best final eval mse first");
            AtomicFile.WriteAllText(Path.Combine(sweepDir, "comparison.csv"), comparison.ToCsv());
            string overlay = Path.Combine(sweepDir, "plots", "compare.png");
            PlotCommand.WriteOverlay(dirs, overlay, $"Sweep {Path.GetFileName(Path.TrimEndingDirectorySeparator(sweepDir))}");
            Console.WriteLine($"table: {Path.Combine(sweepDir, "comparison.csv")}  overlay: {overlay}");
        }
        var unfinished = outcomes.Where(o => o.Value != RunSummary.Finished).ToList();
        if (cancel.Token.IsCancellationRequested) Console.WriteLine($"sweep stopped; continue it with: sweep --resume {sweepDir}");
        if (unfinished.Count == 0) return 0;
        Console.Error.WriteLine($"error: {unfinished.Count} of {runs.Count} runs did not finish: " +
                                string.Join("; ", unfinished.Select(o => $"{o.Key} {o.Value}")));
        return 1;
    }

    private static SweepPlan PlanFrom(CommandLine cl)
    {
        var overrides = new List<string>(cl.GetAll("--set"));
        if (cl.Get("--steps") is { } steps) { cl.GetLong("--steps", 1); overrides.Add($"training.train_steps={steps}"); }
        if (cl.Get("--dtype") is { } dtype) overrides.Add($"training.dtype={dtype}");
        if (cl.Get("--seed") is { } seed) overrides.Add($"training.seed={seed}");
        if (cl.Get("--batch") is { } batch) overrides.Add($"training.batch_size={batch}");
        string? preset = cl.Get("--preset"), file = cl.Get("--config");
        if ((preset is null) == (file is null))
            throw new CommandLine.UsageException($"sweep: give --preset NAME (one of: {string.Join(", ", Presets.Names)}) or --config FILE, not both");
        if (preset is not null && !Presets.Names.Contains(preset))
            throw new CommandLine.UsageException($"sweep: unknown preset '{preset}'; accepted: {string.Join(", ", Presets.Names)}");
        if (file is not null && !File.Exists(file)) throw new ConfigException($"config file '{file}' does not exist");
        if (!cl.Has("--grid")) throw new CommandLine.UsageException("sweep: give at least one --grid section.key=v1,v2 (e.g. --grid training.learning_rate=1e-2,3e-3)");
        var plan = new SweepPlan(preset, file is null ? null : Path.GetFullPath(file), overrides, cl.GetAll("--grid").Select(SweepPlan.ParseAxis).ToList());
        plan.Validate();
        return plan;
    }

    // What to do with a run folder now: skip it (finished, diverged, or another process trains it), resume, or start.
    private static (string Action, RunInfo? Info) Decide(string dir)
    {
        if (!RunInfo.IsRunDirectory(dir)) return ("start", null);
        var info = RunInfo.Load(dir);
        return info.Status switch
        {
            RunSummary.Finished or RunSummary.Diverged or RunInfo.Running => ("skip", info),
            _ when File.Exists(TrainingSession.CheckpointPath(dir)) => ("resume", info),
            _ => ("start", info),
        };
    }

    private static Dictionary<string, string> RunInProcess(IReadOnlyList<SweepRun> runs, IReadOnlyList<RunConfig> configs, string sweepDir, int threads, CancellationToken cancel)
    {
        WorkerPool.Configure(threads);
        var outcomes = new Dictionary<string, string>();
        for (int i = 0; i < runs.Count && !cancel.IsCancellationRequested; i++)
        {
            string dir = Path.Combine(sweepDir, runs[i].Name);
            var (action, info) = Decide(dir);
            string head = $"[{i + 1}/{runs.Count}] {runs[i].Name}";
            if (action == "skip") { Console.WriteLine($"{head}: {info!.Status}, skipped"); outcomes[runs[i].Name] = info.Status; continue; }
            var cfg = action == "resume"
                ? TrainingSession.LoadRunConfig(dir) with { Training = TrainingSession.LoadRunConfig(dir).Training with { TrainSteps = configs[i].Training.TrainSteps } }
                : configs[i];
            Console.WriteLine($"{head}: {(action == "resume" ? $"resuming at step {info!.Steps}" : "starting")}");
            try
            {
                RunSummary summary;
                using (var observer = new ConsoleObserver(dir))
                    summary = TrainingSession.Run(new SessionOptions(cfg, dir, action == "resume"), observer, cancel);
                PlotCommand.WriteRunPlots(dir);
                outcomes[runs[i].Name] = summary.Status ?? RunSummary.Finished;
                Console.WriteLine($"{head}: {outcomes[runs[i].Name]} at step {summary.Steps}, final eval mse {summary.FinalEvalMse:0.00e+00}, {RunsTable.Duration(summary.WallSeconds)}");
            }
            catch (TrainingDivergedException e)
            {
                PlotCommand.WriteRunPlots(dir);
                outcomes[runs[i].Name] = RunSummary.Diverged;
                Console.WriteLine($"{head}: {e.Message}");
            }
        }
        return outcomes;
    }

    private static Dictionary<string, string> RunChildren(SweepPlan plan, IReadOnlyList<SweepRun> runs, IReadOnlyList<RunConfig> configs,
        string sweepDir, int parallel, int threadsEach, CancellationToken cancel)
    {
        var outcomes = new Dictionary<string, string>();
        var pending = new Queue<int>(Enumerable.Range(0, runs.Count));
        var running = new List<(int Index, Process Process, StreamWriter Log)>();
        var lastStatus = Stopwatch.StartNew();
        bool forwarded = false;
        while (pending.Count > 0 || running.Count > 0)
        {
            while (running.Count < parallel && pending.Count > 0 && !cancel.IsCancellationRequested)
            {
                int i = pending.Dequeue();
                string dir = Path.Combine(sweepDir, runs[i].Name);
                string head = $"[{i + 1}/{runs.Count}] {runs[i].Name}";
                var (action, info) = Decide(dir);
                if (action == "skip") { Console.WriteLine($"{head}: {info!.Status}, skipped"); outcomes[runs[i].Name] = info.Status; continue; }
                var args = new List<string> { "train" };
                if (action == "resume") args.AddRange(["--resume", dir, "--steps", configs[i].Training.TrainSteps.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                else
                {
                    args.AddRange(plan.Preset is not null ? ["--preset", plan.Preset] : ["--config", plan.ConfigFile!]);
                    foreach (var o in plan.Overrides.Concat(runs[i].Overrides)) args.AddRange(["--set", o]);
                    args.AddRange(["--out", dir]);
                }
                args.AddRange(["--threads", threadsEach.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                Directory.CreateDirectory(dir);
                var log = new StreamWriter(Path.Combine(dir, "train.log"), append: true) { AutoFlush = true };
                var process = SelfLauncher.Start(args, log);
                running.Add((i, process, log));
                Console.WriteLine($"{head}: {(action == "resume" ? $"resuming at step {info!.Steps}" : "started")} (pid {process.Id}, log {Path.Combine(dir, "train.log")})");
            }
            if (cancel.IsCancellationRequested && pending.Count + running.Count > 0 && !forwarded)
            {
                // A terminal's Ctrl+C reaches the children too; a kill of this process does not: pass it on, so each
                // child stops after its step and checkpoints (a second signal is harmless).
                pending.Clear();
                foreach (var r in running) SelfLauncher.Terminate(r.Process);
                forwarded = true;
            }

            foreach (var r in running.Where(r => r.Process.WaitForExit(0)).ToList())
            {
                r.Process.WaitForExit();   // drain the output handlers
                r.Log.Dispose();
                running.Remove(r);
                string dir = Path.Combine(sweepDir, runs[r.Index].Name);
                var info = RunInfo.IsRunDirectory(dir) ? RunInfo.Load(dir) : null;
                string status = info?.Status ?? "failed";
                if (r.Process.ExitCode != 0 && status is RunSummary.Finished or RunInfo.NotStarted) status = "failed";
                outcomes[runs[r.Index].Name] = status;
                string detail = r.Process.ExitCode == 0 || status == RunSummary.Stopped
                    ? $"final eval mse {info?.FinalEvalMse:0.00e+00}, {RunsTable.Duration(info?.WallSeconds ?? 0)}"
                    : $"exit code {r.Process.ExitCode}: {LastError(Path.Combine(dir, "train.log"))}";
                Console.WriteLine($"[{r.Index + 1}/{runs.Count}] {runs[r.Index].Name}: {status} at step {info?.Steps ?? 0}, {detail}");
                if (info is not null) PlotCommand.WriteRunPlots(dir);
                r.Process.Dispose();
            }

            if (running.Count > 0 && lastStatus.Elapsed.TotalSeconds >= 30)
            {
                lastStatus.Restart();
                foreach (var r in running)
                {
                    var rows = RunInfo.ReadMetrics(Path.Combine(sweepDir, runs[r.Index].Name));
                    string at = rows.Count == 0 ? "starting" : $"step {rows[^1].Step}/{configs[r.Index].Training.TrainSteps}, loss {rows[^1].Loss:0.00e+00}";
                    Console.WriteLine($"  running {runs[r.Index].Name}: {at}");
                }
            }
            Thread.Sleep(200);
        }
        return outcomes;
    }

    private static string LastError(string logPath)
    {
        if (!File.Exists(logPath)) return "(no log)";
        var lines = File.ReadAllLines(logPath);
        return lines.LastOrDefault(l => l.StartsWith("error:", StringComparison.Ordinal)) ?? lines.LastOrDefault(l => l.Trim().Length > 0) ?? "(empty log)";
    }
}

using PrecisionLS.Config;

namespace PrecisionLS.Training;

/// <summary>
/// What a run directory says about its run, for <c>runs list</c>, <c>runs compare</c>, sweeps and plots: its config,
/// how far it got, its latest and best metrics, wall time and status.
/// </summary>
/// <param name="Directory">The run directory.</param>
/// <param name="Config">The resolved config it was started with (config.yaml); null when unreadable.</param>
/// <param name="Status">running, finished, stopped, diverged, interrupted (killed; resumable), not started, or broken.</param>
/// <param name="Steps">Last step logged (summary.json, else the last metrics row).</param>
/// <param name="TargetSteps">training.train_steps.</param>
/// <param name="FinalLoss">Training loss of the last logged row.</param>
/// <param name="FinalEvalMse">Held-out mse of the last evaluation.</param>
/// <param name="BestEvalMse">Lowest held-out mse over the run.</param>
/// <param name="WallSeconds">Training wall time so far, over all sessions.</param>
/// <param name="Problem">Why the directory could not be read fully (Status "broken"), else null.</param>
public sealed record RunInfo(
    string Directory,
    RunConfig? Config,
    string Status,
    long Steps,
    long TargetSteps,
    double? FinalLoss,
    double? FinalEvalMse,
    double? BestEvalMse,
    double WallSeconds,
    string? Problem = null)
{
    /// <summary>Status of a run some process is training now (it holds run.lock).</summary>
    public const string Running = "running";

    /// <summary>Status of a run whose process died before writing a summary; continue it with --resume.</summary>
    public const string Interrupted = "interrupted";

    /// <summary>Status of a run directory with a config but no step yet.</summary>
    public const string NotStarted = "not started";

    /// <summary>Status of a run directory whose files could not be read.</summary>
    public const string Broken = "broken";

    /// <summary>The directory's name (the run's name).</summary>
    public string Name => Path.GetFileName(Path.TrimEndingDirectorySeparator(Directory));

    /// <summary>True when <paramref name="directory"/> holds a run (its config.yaml).</summary>
    public static bool IsRunDirectory(string directory) =>
        File.Exists(Path.Combine(directory, TrainingSession.ConfigFileName));

    /// <summary>Reads a run directory; unreadable files give Status "broken" with the reason, never an exception.</summary>
    public static RunInfo Load(string directory)
    {
        if (!IsRunDirectory(directory))
            throw new ConfigException($"'{directory}' is not a run directory ({TrainingSession.ConfigFileName} is missing)");
        RunConfig? config = null;
        try
        {
            string path = Path.Combine(directory, TrainingSession.ConfigFileName);
            config = ConfigLoader.FromYaml(File.ReadAllText(path), $"file '{path}'");
            long target = config.Training.TrainSteps;

            var records = ReadMetrics(directory);
            var last = records.Count > 0 ? records[^1] : null;
            double? finalMse = null, bestMse = null;
            foreach (var r in records)
                if (r.EvalMse is double m)
                {
                    finalMse = m;
                    if (bestMse is null || m < bestMse) bestMse = m;
                }

            string summaryPath = Path.Combine(directory, RunSummary.FileName);
            var summary = File.Exists(summaryPath) ? RunSummary.Load(summaryPath) : null;
            long steps = last?.Step ?? 0;
            string status;
            if (RunLock.IsHeld(directory)) status = Running;
            else if (summary is not null && summary.Steps == steps)
                status = summary.Status ?? (summary.Steps >= target ? RunSummary.Finished : RunSummary.Stopped);
            else if (File.Exists(TrainingSession.CheckpointPath(directory))) status = Interrupted;
            else status = steps > 0 ? Interrupted : NotStarted;
            // A finished run resumed with a larger train_steps is stopped, not finished, until it gets there.
            if (status == RunSummary.Finished && steps < target) status = RunSummary.Stopped;

            if (records.Count == 0 && summary is not null)   // a constructed run: its evaluation is in the summary only
                (finalMse, bestMse) = (summary.FinalEvalMse, summary.BestEvalMse);
            return new RunInfo(directory, config, status, steps, target, last?.Loss, finalMse, bestMse,
                last?.WallSeconds ?? 0);
        }
        catch (Exception e) when (e is ConfigException or InvalidDataException or FormatException or IOException)
        {
            return new RunInfo(directory, config, Broken, 0, config?.Training.TrainSteps ?? 0, null, null, null, 0, e.Message);
        }
    }

    /// <summary>Rows in a run's metrics.jsonl now, or 0 when it is missing or unreadable (for polling a running run).</summary>
    public static int ReadMetricsSafe(string directory)
    {
        try { return ReadMetrics(directory).Count; }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException) { return 0; }
    }

    /// <summary>The run's metrics rows (metrics.jsonl; empty when there is none yet).</summary>
    public static IReadOnlyList<TrainingRecord> ReadMetrics(string directory)
    {
        string path = Path.Combine(directory, MetricsLog.JsonlFileName);
        return File.Exists(path) ? MetricsLog.ReadJsonl(path) : [];
    }

    /// <summary>
    /// Run directories at or below <paramref name="root"/> (a run, a sweep folder, or a folder of runs), at most
    /// <paramref name="maxDepth"/> levels down, in path order. A run's own subfolders are not searched.
    /// </summary>
    public static IReadOnlyList<string> Find(string root, int maxDepth = 3)
    {
        if (!System.IO.Directory.Exists(root))
            throw new ConfigException($"directory '{root}' does not exist");
        var found = new List<string>();
        void Walk(string dir, int depth)
        {
            if (IsRunDirectory(dir)) { found.Add(dir); return; }
            if (depth >= maxDepth) return;
            foreach (var sub in System.IO.Directory.GetDirectories(dir).Order(StringComparer.Ordinal))
                Walk(sub, depth + 1);
        }
        Walk(root, 0);
        return found;
    }
}

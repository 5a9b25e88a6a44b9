using System.Diagnostics;
using System.Numerics;
using PrecisionLS.Config;
using PrecisionLS.Interop;

namespace PrecisionLS.Training;

/// <summary>Receives progress from a running <see cref="TrainingSession"/> (the CLI's display).</summary>
public interface ITrainingObserver
{
    /// <summary>Called once before the first step with the step the run starts from and the target.</summary>
    void Started(long fromStep, long totalSteps, long parameters, string dtype);
    /// <summary>Called for every logged row (every log_every steps and every evaluation).</summary>
    void Report(TrainingRecord record);
    /// <summary>A one-line message (checkpoint written, resumed, ...).</summary>
    void Message(string text);
}

/// <summary>What to run: a new run from a config, or the continuation of a run directory.</summary>
/// <param name="Config">Resolved config (for a resume: the run's own config, with train_steps possibly raised).</param>
/// <param name="RunDirectory">runs/&lt;name&gt;: config.yaml, metrics, checkpoints/, summary.json.</param>
/// <param name="Resume">Continue from the directory's latest checkpoint.</param>
public sealed record SessionOptions(RunConfig Config, string RunDirectory, bool Resume)
{
    /// <summary>Wall-clock budget of this session in seconds (train --max-minutes); null: none. At the budget the
    /// run stops cleanly as if cancelled: checkpoint, summary (status "stopped"), plots.</summary>
    public double? MaxWallSeconds { get; init; }
}

/// <summary>
/// Runs training end to end on disk (DESIGN "Runs on disk"): writes the resolved config, logs metrics,
/// evaluates on the held-out batch, checkpoints atomically, and writes summary.json. A resumed run
/// continues bit-exactly from its last checkpoint. Cancellation saves a checkpoint and stops cleanly.
/// </summary>
public static class TrainingSession
{
    public const string ConfigFileName = "config.yaml";
    public const string CheckpointDir = "checkpoints";
    public const string LatestCheckpoint = "latest.ckpt";

    public static string CheckpointPath(string runDir) => Path.Combine(runDir, CheckpointDir, LatestCheckpoint);

    /// <summary>Reads the config a run directory was started with (for --resume).</summary>
    public static RunConfig LoadRunConfig(string runDir)
    {
        string path = Path.Combine(runDir, ConfigFileName);
        if (!Directory.Exists(runDir)) throw new ConfigException($"run directory '{runDir}' does not exist");
        if (!File.Exists(path)) throw new ConfigException($"'{runDir}' is not a run directory: {ConfigFileName} is missing");
        if (!File.Exists(CheckpointPath(runDir)))
            throw new ConfigException($"run directory '{runDir}' has no checkpoint yet ({CheckpointDir}/{LatestCheckpoint}); start it again without --resume");
        return ConfigLoader.FromYaml(File.ReadAllText(path), $"file '{path}'");
    }

    /// <summary>Runs (or resumes) training and returns the summary it wrote.</summary>
    public static RunSummary Run(SessionOptions options, ITrainingObserver observer, CancellationToken cancel)
    {
        return options.Config.Training.Dtype switch
        {
            "float64" => Run<double>(options, observer, cancel),
            "float32" => Run<float>(options, observer, cancel),
            var d => throw new ConfigException($"training.dtype '{d}' is unknown; accepted: float64, float32"),
        };
    }

    private static RunSummary Run<T>(SessionOptions options, ITrainingObserver observer, CancellationToken cancel)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var cfg = options.Config;
        var t = cfg.Training;
        if (t.TrainSteps < 1) throw new ConfigException($"training.train_steps = {t.TrainSteps} must be at least 1");
        string dir = options.RunDirectory;
        string ckpt = CheckpointPath(dir);
        if (!options.Resume && File.Exists(ckpt))
            throw new ConfigException($"'{dir}' already holds a run; continue it with --resume {dir}, or choose another --out");

        var trainer = new Trainer<T>(cfg);
        if (!options.Resume && t.InitFrom.Length > 0)
        {
            // Before the run directory is made: a bad file fails the command without leaving a half-made run.
            var loaded = StateDict.Load(trainer.Model, t.InitFrom);
            observer.Message($"initialised from {loaded.Path}: {loaded.Tensors} tensors, {loaded.Parameters:N0} values");
            foreach (var note in loaded.Notes) observer.Message("note: " + note);
        }
        using var runLock = RunLock.Acquire(dir);   // only now: a config error above leaves no folder behind
        double wallBefore = 0;
        Directory.CreateDirectory(Path.Combine(dir, CheckpointDir));
        if (options.Resume)
        {
            var header = Checkpoint.Load(ckpt, trainer);
            wallBefore = header.WallSeconds;
            observer.Message($"resumed {dir} at step {trainer.Step}");
        }
        AtomicFile.WriteAllText(Path.Combine(dir, ConfigFileName), ConfigLoader.ToYaml(cfg));
        using var log = MetricsLog.Open(dir, options.Resume ? trainer.Step : null);

        long parameters = trainer.Model.Store.TrainableCount;
        observer.Started(trainer.Step, t.TrainSteps, parameters, Checkpoint.DtypeName<T>());
        var clock = Stopwatch.StartNew();
        double Wall() => wallBefore + clock.Elapsed.TotalSeconds;
        bool cancelled = false, budgetNoted = false;
        StepResult? lastStep = null;
        bool BudgetSpent()
        {
            if (options.MaxWallSeconds is not double budget || clock.Elapsed.TotalSeconds < budget) return false;
            if (!budgetNoted) observer.Message($"time budget of {budget / 60:0.##} min reached at step {trainer.Step}");
            budgetNoted = true;
            return true;
        }

        try
        {
            while (trainer.Step < t.TrainSteps)
            {
                if (cancel.IsCancellationRequested || BudgetSpent()) { cancelled = true; break; }
                var r = trainer.TrainStep();
                lastStep = r;
                bool last = r.Step == t.TrainSteps;
                // Decide about stopping before this step's row is written, so the row that ends a stopped run
                // carries the held-out evaluation (a row already logged without one cannot be amended).
                bool stopping = !last && (cancel.IsCancellationRequested || BudgetSpent());
                // Second-order iterations take seconds each: every one is evaluated and checkpointed (eval_every,
                // save_every_steps > 0), so the curve shows them all and a stop loses none.
                bool secondOrder = trainer.Optimizer is SecondOrderOptimizer<T> so && r.Step > so.WarmupSteps;
                bool eval = last || stopping || (t.EvalEvery > 0 && (r.Step % t.EvalEvery == 0 || secondOrder));
                if (eval || r.Step % Math.Max(1, t.LogEvery) == 0 || r.Skipped)
                {
                    var m = eval ? trainer.Evaluate() : default;
                    var rec = new TrainingRecord(r.Step, r.Loss, r.LearningRate, r.GradNorm, r.Skipped,
                        eval ? m.Mse : null, eval ? m.Rel : null, eval ? m.RelL2 : null, Wall());
                    log.Append(rec);
                    observer.Report(rec);
                    if (eval && !secondOrder && trainer.GroupLasso is { } lasso) observer.Message($"group lasso at step {r.Step}: {lasso.ZeroSummary(trainer.Model.Store.Values)}");
                }
                if (stopping) { cancelled = true; break; }
                if (!last && t.SaveEverySteps > 0 && (r.Step % t.SaveEverySteps == 0 || secondOrder))
                {
                    log.Flush(toDisk: true);
                    Checkpoint.Save(ckpt, trainer, Wall());
                }
            }
        }
        catch (TrainingDivergedException)
        {
            // Keep the last good checkpoint (the parameters now hold NaN); record why the run ended.
            log.Flush(toDisk: true);
            WriteSummary(dir, trainer, cfg, parameters, RunSummary.Diverged);
            throw;
        }
        if (cancelled && lastStep is StepResult final && final.Step > log.LastStep)
        {
            // A stop that arrived after the in-loop check of an unlogged step: that step's row, with the held-out
            // evaluation, is written here. (A stop arriving while a logged row is being written ends without one.)
            var m = trainer.Evaluate();
            var rec = new TrainingRecord(final.Step, final.Loss, final.LearningRate, final.GradNorm, final.Skipped, m.Mse, m.Rel, m.RelL2, Wall());
            log.Append(rec);
            observer.Report(rec);
        }
        log.Flush(toDisk: true);
        Checkpoint.Save(ckpt, trainer, Wall());
        if (cancelled) observer.Message($"stopped at step {trainer.Step}; checkpoint written, continue with --resume {dir}");
        return WriteSummary(dir, trainer, cfg, parameters, cancelled ? RunSummary.Stopped : RunSummary.Finished);
    }

    private static RunSummary WriteSummary<T>(string dir, Trainer<T> trainer, RunConfig cfg, long parameters, string status)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var all = MetricsLog.ReadJsonl(Path.Combine(dir, MetricsLog.JsonlFileName));
        var summary = RunSummary.FromRecords(all, trainer.Model.Store.Checksum(), Checkpoint.DtypeName<T>(),
            cfg.Preset ?? "(config file)", parameters, status, cfg.Training.TrainSteps);
        summary.Save(Path.Combine(dir, RunSummary.FileName));
        return summary;
    }
}

using System.Numerics;
using PrecisionLS.Config;
using PrecisionLS.Nn;
using PrecisionLS.Training;

namespace PrecisionLS.Solvers;

/// <summary>Loads the model of a run folder (config.yaml and checkpoints/latest.ckpt) for inference.</summary>
public static class RunModel
{
    /// <summary>The run's config and its model with the checkpoint's parameters, in <typeparamref name="T"/>.</summary>
    public static (RunConfig Config, SequenceModel<T> Model) Load<T>(string runDir) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var cfg = TrainingSession.LoadRunConfig(runDir);
        var model = new SequenceModel<T>(cfg.Model);
        Checkpoint.LoadParameters(TrainingSession.CheckpointPath(runDir), model.Store);
        return (cfg, model);
    }

    /// <summary>
    /// Writes <paramref name="trainer"/>'s model as a run folder that eval, iterate, export and train --resume accept:
    /// config.yaml, checkpoints/latest.ckpt at its current step and summary.json (status <paramref name="status"/>,
    /// the held-out evaluation as its final eval mse). No metrics rows: nothing was trained.
    /// </summary>
    public static RunSummary Save<T>(Trainer<T> trainer, RunConfig config, string runDir, string status) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (File.Exists(TrainingSession.CheckpointPath(runDir)))
            throw new ConfigException($"'{runDir}' already holds a run; choose another --out");
        using var runLock = RunLock.Acquire(runDir);
        Directory.CreateDirectory(Path.Combine(runDir, TrainingSession.CheckpointDir));
        AtomicFile.WriteAllText(Path.Combine(runDir, TrainingSession.ConfigFileName), ConfigLoader.ToYaml(config));
        Checkpoint.Save(TrainingSession.CheckpointPath(runDir), trainer, 0);
        var m = trainer.Evaluate();
        var record = new TrainingRecord(trainer.Step, double.NaN, 0, double.NaN, false, m.Mse, m.Rel, m.RelL2, 0);
        var summary = RunSummary.FromRecords([record], trainer.Model.Store.Checksum(), Checkpoint.DtypeName<T>(),
            config.Preset ?? "(constructed)", trainer.Model.Store.TrainableCount, status, config.Training.TrainSteps);
        summary.Save(Path.Combine(runDir, RunSummary.FileName));
        return summary;
    }
}

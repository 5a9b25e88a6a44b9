using System.Numerics;
using PrecisionLS.Config;
using PrecisionLS.Nn;
using PrecisionLS.Numerics;
using PrecisionLS.Solvers;
using PrecisionLS.Tasks;
using PrecisionLS.Training;

namespace PrecisionLS.Evaluation;

/// <summary>Settings of one <c>eval</c>.</summary>
/// <param name="Batches">Held-out batches per condition (at least 2, for a confidence interval).</param>
/// <param name="BatchSize">Examples per batch; null: the run's training.eval_batch_size.</param>
/// <param name="Seed">Evaluation seed; the batches come from stream <see cref="RunEvaluator.SeedLabel"/> derived from it.</param>
/// <param name="Shifts">Out-of-distribution conditions, each measured on its own batches.</param>
public sealed record EvalOptions(int Batches = 10, int? BatchSize = null, ulong Seed = 0, IReadOnlyList<DistributionShift>? Shifts = null);

/// <summary>
/// Evaluates a trained model, in its own dtype, in and out of distribution (DESIGN "Evaluation"): the task's own
/// mse, rel and rel_l2, as <see cref="Trainer{T}.Evaluate"/> computes them, on seeded held-out batches, with 95%
/// confidence intervals over the batches (<see cref="ConfidenceInterval"/>) and the generalisation gap per shift.
/// </summary>
/// <remarks>
/// <para>Batches: condition by condition, a fresh generator <c>Rng.Derive(seed, "problems")</c> draws batch 1, then
/// batch 2, ... with the task's own sampler at full size (or the truncated dims of a dims shift). It is the stream
/// <see cref="ProblemSet"/> draws from, so for a least-squares task the in-distribution batches hold exactly the
/// problems <c>solve</c> and <c>iterate</c> use with the same seed (batch k = problems k·B .. k·B + B - 1), and it is
/// independent of the training ("train-data") and held-out ("eval-data") streams. Every condition restarts the same
/// stream, so a shift changes the distribution but not the underlying random draws: differences between conditions
/// are not blurred by fresh sampling noise.</para>
/// <para>The model runs batch-parallel over the worker pool (<see cref="BatchGroups{T}"/>); results do not depend on
/// the thread count.</para>
/// </remarks>
public static class RunEvaluator
{
    /// <summary>Label of the evaluation stream: the one <see cref="ProblemSet"/> draws from.</summary>
    public const string SeedLabel = ProblemSet.SeedLabel;

    /// <summary>Loads the run's config and latest checkpoint and evaluates it.</summary>
    /// <exception cref="ConfigException">Not a run directory, bad options or a shift that does not apply.</exception>
    public static EvaluationReport EvaluateRun(string runDirectory, EvalOptions options)
    {
        var config = TrainingSession.LoadRunConfig(runDirectory);
        foreach (var s in options.Shifts ?? []) s.Apply(config);     // fail on a bad shift before loading anything
        return config.Training.Dtype switch
        {
            "float64" => EvaluateCheckpoint<double>(runDirectory, config, options),
            "float32" => EvaluateCheckpoint<float>(runDirectory, config, options),
            var d => throw new ConfigException($"run '{runDirectory}' has training.dtype '{d}'; accepted: float64, float32"),
        };
    }

    private static EvaluationReport EvaluateCheckpoint<T>(string runDirectory, RunConfig config, EvalOptions options)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var model = new SequenceModel<T>(config.Model);
        var header = Checkpoint.LoadParameters(TrainingSession.CheckpointPath(runDirectory), model.Store);
        return Evaluate(model, config, options, runDirectory, header.Step);
    }

    /// <summary>Evaluates <paramref name="model"/> (with its current parameters) on the tasks of <paramref name="config"/>.</summary>
    /// <exception cref="ConfigException">Bad options, a shift that does not apply, or a model that does not fit the task.</exception>
    public static EvaluationReport Evaluate<T>(SequenceModel<T> model, RunConfig config, EvalOptions options, string run = "", long step = 0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        if (options.Batches < 2) throw new ConfigException($"batches = {options.Batches}: a 95% confidence interval needs at least 2 batches");
        int batchSize = options.BatchSize ?? config.Training.EvalBatchSize;
        if (batchSize < 1) throw new ConfigException($"batch size = {batchSize}: must be at least 1");
        var conditions = (options.Shifts ?? []).Select(s => (Shift: s, Config: s.Apply(config))).ToList();   // all checked first

        var groups = new BatchGroups<T>(model);
        using var serial = MathNetThreading.Serial();      // scale_cond's per-example SVDs: MathNet's threads only cost time
        var inDistribution = Summarise(Measure(model, groups, new ShiftedConfig(config, null), options.Batches, batchSize, options.Seed));
        var shifts = new List<ShiftResult>();
        foreach (var (shift, shifted) in conditions)
        {
            var m = Summarise(Measure(model, groups, shifted, options.Batches, batchSize, options.Seed));
            shifts.Add(new ShiftResult(shift, m, m.Mse.Mean / inDistribution.Mse.Mean));
        }
        return new EvaluationReport(run, config.Training.Task, Checkpoint.DtypeName<T>(), step, options.Batches, batchSize, options.Seed,
            inDistribution, shifts);
    }

    /// <summary>
    /// The task's metrics on each of <paramref name="batches"/> seeded batches of one condition (see the class
    /// remarks for the stream), computed as <see cref="Trainer{T}.Evaluate"/> does: model output at the task's read
    /// positions, then <see cref="ITask{T}.Evaluate"/>.
    /// </summary>
    public static TaskMetrics[] Measure<T>(SequenceModel<T> model, ShiftedConfig condition, int batches, int batchSize, ulong seed)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Measure(model, new BatchGroups<T>(model), condition, batches, batchSize, seed);

    private static TaskMetrics[] Measure<T>(SequenceModel<T> model, BatchGroups<T> groups, ShiftedConfig condition, int batches, int batchSize, ulong seed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var task = TaskCatalog.Create<T>(condition.Config);
        if (task.TokenDims != model.InDims || task.OutputDims != model.OutDims)
            throw new ConfigException($"task '{task.Name}' makes tokens of width {task.TokenDims} and reads {task.OutputDims} output channels; " +
                                      $"the model has in_dims {model.InDims} and out_dims {model.OutDims}");
        if (task.MaxPromptLength > model.Config.NPositions)
            throw new ConfigException($"task '{task.Name}' prompts have {task.MaxPromptLength} tokens but model.n_positions is {model.Config.NPositions}");
        if (condition.Dims is int dims) task.SetSize(task.MaxPoints, dims);

        var prompt = new T[(long)batchSize * task.PromptLength * task.TokenDims];
        var target = new T[(long)batchSize * task.TargetSize];
        var output = new T[(long)batchSize * task.ReadPositions.Length * model.OutDims];
        var rng = Rng.Derive(seed, SeedLabel);
        var result = new TaskMetrics[batches];
        for (int k = 0; k < batches; k++)
        {
            task.Sample(rng, batchSize, prompt, target);
            groups.Forward(prompt, batchSize, task.PromptLength, task.ReadPositions, output);
            result[k] = task.Evaluate(output, target, batchSize);
        }
        return result;
    }

    /// <summary>Means and 95% intervals of per-batch metrics.</summary>
    public static MetricEstimates Summarise(IReadOnlyList<TaskMetrics> perBatch) => new(
        ConfidenceInterval.Mean95(perBatch.Select(m => m.Mse).ToArray()),
        ConfidenceInterval.Mean95(perBatch.Select(m => m.Rel).ToArray()),
        ConfidenceInterval.Mean95(perBatch.Select(m => m.RelL2).ToArray()));
}

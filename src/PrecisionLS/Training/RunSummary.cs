using System.Text.Json;
using System.Text.Json.Serialization;

namespace PrecisionLS.Training;

/// <summary>
/// End-of-run figures written to <c>runs/&lt;name&gt;/summary.json</c> (indented JSON, snake_case keys).
/// </summary>
/// <param name="Steps">Steps completed.</param>
/// <param name="FinalTrainLoss">Training loss of the last step (NaN when no step ran).</param>
/// <param name="FinalEvalMse">Held-out mse of the last evaluation; null when none ran.</param>
/// <param name="BestEvalMse">Lowest held-out mse over the run; null when none ran.</param>
/// <param name="WallSeconds">Training wall time, summed over resumed sessions.</param>
/// <param name="ParamChecksum">Checksum of the final parameters (identifies bit-identical runs).</param>
/// <param name="Dtype">Scalar type trained in, e.g. "float64".</param>
/// <param name="Preset">Preset or config file the run was built from.</param>
/// <param name="Parameters">Trainable parameter count.</param>
/// <param name="StepsPerSecond">Steps / WallSeconds.</param>
/// <param name="BestEvalStep">Step at which <paramref name="BestEvalMse"/> was measured; null when none ran.</param>
/// <param name="FinalEvalRel">Held-out rel of the last evaluation; null when none ran.</param>
/// <param name="FinalEvalRelL2">Held-out rel_l2 of the last evaluation; null when none ran.</param>
/// <param name="SkippedSteps">Steps skipped because the gradient norm was NaN or inf.</param>
/// <param name="Status">
/// How the session ended: "finished" (reached train_steps), "stopped" (cancelled or out of time; resumable),
/// "diverged" (non-finite loss; the checkpoint holds the last good step) or "constructed" (exact weights, not trained). Null in summaries from before this field.
/// </param>
/// <param name="TargetSteps">training.train_steps of the run; null in summaries from before this field.</param>
public sealed record RunSummary(
    long Steps,
    double FinalTrainLoss,
    double? FinalEvalMse,
    double? BestEvalMse,
    double WallSeconds,
    string ParamChecksum,
    string Dtype,
    string Preset,
    long Parameters,
    double StepsPerSecond,
    long? BestEvalStep = null,
    double? FinalEvalRel = null,
    double? FinalEvalRelL2 = null,
    long SkippedSteps = 0,
    string? Status = null,
    long? TargetSteps = null)
{
    /// <summary>Status of a run that reached its train_steps.</summary>
    public const string Finished = "finished";

    /// <summary>Status of a run stopped early (Ctrl-C, time budget); continue it with --resume.</summary>
    public const string Stopped = "stopped";

    /// <summary>Status of a run stopped by a non-finite loss or held-out mse.</summary>
    public const string Diverged = "diverged";

    /// <summary>Status of a run whose weights were written by a construction (construct), not trained.</summary>
    public const string Constructed = "constructed";

    /// <summary>Status of a run whose weights are another run's projected onto Monarch (monarch sparsify), not trained yet.</summary>
    public const string Projected = "projected";

    /// <summary>File name of the summary inside a run directory.</summary>
    public const string FileName = "summary.json";

    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };

    /// <summary>
    /// Builds a summary from a run's metrics rows (in step order) and the facts the rows do not hold.
    /// </summary>
    public static RunSummary FromRecords(
        IReadOnlyList<TrainingRecord> records, string paramChecksum, string dtype, string preset, long parameters,
        string? status = null, long? targetSteps = null)
    {
        ArgumentNullException.ThrowIfNull(records);
        double? finalMse = null, finalRel = null, finalRelL2 = null, bestMse = null;
        long? bestStep = null;
        long skipped = 0;
        foreach (var r in records)
        {
            if (r.Skipped)
                skipped++;
            if (r.EvalMse is double m)
            {
                finalMse = m;
                finalRel = r.EvalRel;
                finalRelL2 = r.EvalRelL2;
                if (bestMse is null || m < bestMse)
                {
                    bestMse = m;
                    bestStep = r.Step;
                }
            }
        }

        var last = records.Count > 0 ? records[^1] : null;
        long steps = last?.Step ?? 0;
        double wall = last?.WallSeconds ?? 0;
        return new RunSummary(
            steps,
            last?.Loss ?? double.NaN,
            finalMse,
            bestMse,
            wall,
            paramChecksum,
            dtype,
            preset,
            parameters,
            wall > 0 ? steps / wall : 0,
            bestStep,
            finalRel,
            finalRelL2,
            skipped,
            status,
            targetSteps);
    }

    /// <summary>The summary as indented JSON with snake_case keys.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Options);

    /// <summary>Writes the summary to <paramref name="path"/> atomically.</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, ToJson() + "\n");

    /// <summary>Reads a summary written by <see cref="Save"/>; a malformed file throws naming the path.</summary>
    public static RunSummary Load(string path)
    {
        string json = File.ReadAllText(path);
        try
        {
            return JsonSerializer.Deserialize<RunSummary>(json, Options)
                ?? throw new JsonException("the file holds null");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a run summary ({e.Message}).", e);
        }
    }
}

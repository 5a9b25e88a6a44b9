namespace PrecisionLS.Training;

/// <summary>
/// One logged training step: what metrics.jsonl / metrics.csv hold per row and what progress displays show.
/// Eval fields are null on steps without a held-out evaluation.
/// </summary>
/// <param name="Step">Steps completed (1-based).</param>
/// <param name="Loss">Training loss of this step's batch (task metric, mse).</param>
/// <param name="LearningRate">Learning rate used by this step.</param>
/// <param name="GradNorm">Global gradient norm before clipping.</param>
/// <param name="Skipped">True when the step was skipped because the gradient norm was NaN or inf.</param>
/// <param name="EvalMse">Held-out mse on the fixed evaluation batch.</param>
/// <param name="EvalRel">Held-out rel.</param>
/// <param name="EvalRelL2">Held-out rel_l2.</param>
/// <param name="WallSeconds">Training wall time so far (summed over resumed sessions).</param>
public sealed record TrainingRecord(
    long Step,
    double Loss,
    double LearningRate,
    double GradNorm,
    bool Skipped,
    double? EvalMse,
    double? EvalRel,
    double? EvalRelL2,
    double WallSeconds);

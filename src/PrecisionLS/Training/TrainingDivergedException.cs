namespace PrecisionLS.Training;

/// <summary>Training produced NaN or inf that the recipe's step skipping could not absorb.</summary>
public sealed class TrainingDivergedException(long step, string detail)
    : Exception($"training diverged at step {step}: {detail}. Hint: lower training.learning_rate (e.g. 10x), keep " +
                "training.clip_grad_norm at 100, or resume from the last checkpoint with a smaller rate.")
{
    public long Step { get; } = step;
}

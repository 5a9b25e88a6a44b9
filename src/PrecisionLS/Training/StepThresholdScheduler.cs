namespace PrecisionLS.Training;

/// <summary>
/// A learning-rate schedule (training.scheduler). The trainer asks for the rate before each step and reports each
/// completed step, skipped steps included, so schedule time is the trainer's step count.
/// </summary>
public interface ILearningRateScheduler
{
    /// <summary>Learning rate for the step taken after <paramref name="stepsDone"/> completed steps.</summary>
    double LearningRate(long stepsDone);
    /// <summary>Called after each step with the new count of completed steps.</summary>
    void StepCompleted(long stepsDone);
}

/// <summary>
/// Step learning-rate schedule with a floor (REFERENCE §4): lr_t = max(lr0 · γ^floor(t / step_rate), min_lr),
/// t = steps completed. A pure function of the step, so resuming needs only the step.
/// training.scheduler: step or step_threshold (the authors' StepLR and StepThresholdLR differ only by the floor,
/// and only after ~200 decays at γ = 0.9: both names build this one).
/// With training.decay_start_loss = ℓ &gt; 0 the clock starts late: lr stays lr0 until the first step whose training loss
/// is below ℓ (step s), then lr_t = max(lr0 · f · γ^floor((t − s) / step_rate), min_lr), f = training.decay_start_factor
/// (1 by default; below 1 drops the rate at once when the plateau ends). A constant rate is what crosses
/// the early plateau of the explicit-gradient task fastest, and a decaying one what descends once it is left; the
/// plateau's length depends on the seed, so the loss, not a step count, says when. s is checkpointed.
/// </summary>
public sealed class StepThresholdScheduler : ILearningRateScheduler
{
    public StepThresholdScheduler(double lr0, long stepRate, double gamma, double minLr = 1e-10, double decayStartLoss = 0, double decayStartFactor = 1)
    {
        if (!(decayStartFactor > 0 && decayStartFactor <= 1))
            throw new ArgumentOutOfRangeException(nameof(decayStartFactor), decayStartFactor, "training.decay_start_factor must be in (0, 1]");
        if (!(decayStartLoss >= 0) || !double.IsFinite(decayStartLoss))
            throw new ArgumentOutOfRangeException(nameof(decayStartLoss), decayStartLoss, "training.decay_start_loss must be >= 0 (0 = decay from step 0)");
        if (!(lr0 > 0) || !double.IsFinite(lr0)) throw new ArgumentOutOfRangeException(nameof(lr0), lr0, "training.learning_rate must be a positive number");
        if (stepRate < 1) throw new ArgumentOutOfRangeException(nameof(stepRate), stepRate, "training.step_rate must be at least 1");
        if (!(gamma > 0 && gamma <= 1)) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "training.gamma must be in (0, 1]");
        if (!(minLr >= 0)) throw new ArgumentOutOfRangeException(nameof(minLr), minLr, "training.min_lr must be >= 0");
        Lr0 = lr0; StepRate = stepRate; Gamma = gamma; MinLr = minLr; DecayStartLoss = decayStartLoss; DecayStartFactor = decayStartFactor;
        DecayStart = decayStartLoss > 0 ? -1 : 0;
    }

    public double Lr0 { get; }
    public long StepRate { get; }
    public double Gamma { get; }
    public double MinLr { get; }
    /// <summary>training.decay_start_loss (0: the clock starts at step 0).</summary>
    public double DecayStartLoss { get; }
    /// <summary>training.decay_start_factor: the rate's drop when the clock starts (1: none).</summary>
    public double DecayStartFactor { get; }
    /// <summary>The step the decay clock started at; -1 while the loss has not yet fallen below
    /// <see cref="DecayStartLoss"/> (checkpointed).</summary>
    public long DecayStart { get; set; }

    /// <summary>Learning rate for the step taken after <paramref name="stepsDone"/> completed steps.</summary>
    public double LearningRate(long stepsDone) =>
        DecayStart < 0 ? Lr0 : Math.Max(Lr0 * (DecayStartLoss > 0 ? DecayStartFactor : 1) * Math.Pow(Gamma, Math.Max(0, stepsDone - DecayStart) / StepRate), MinLr);

    /// <summary>Starts the decay clock at the first completed step whose training loss is below
    /// <see cref="DecayStartLoss"/>.</summary>
    public void ObserveLoss(double loss, long stepsDone)
    {
        if (DecayStart < 0 && loss < DecayStartLoss) DecayStart = stepsDone;
    }

    /// <summary>Nothing to do: the rate is a function of the step.</summary>
    public void StepCompleted(long stepsDone) { }
}

namespace PrecisionLS.Training;

/// <summary>
/// The adaptive step schedule (REFERENCE §4; the authors' AdaptiveStepLR, training.scheduler: adaptive_threshold).
/// A metric m (the EMA of the mean cosine similarity of consecutive minibatch gradients, see
/// <see cref="GradientCosine"/>) decides, at each multiple of step_rate, whether the rate decays or grows back:
/// <code>
/// start:                   m = 1, lr = max(lr0·γ, min_lr), decrement = true
/// metric cbar at step t:   m ← λ m + (1-λ) cbar;  decrement = !(m &lt; threshold and t &gt; 1000)
/// after step t, t % step_rate == 0:  lr ← decrement ? max(γ lr, min_lr) : lr / γ
/// </code>
/// The first rate is lr0·γ, not lr0: torch's scheduler constructor takes one step at epoch 0, which is a multiple
/// of step_rate (the authors' quirk, kept). The rate can grow past lr0; nothing caps it (as in the authors' code).
/// A NaN metric stays NaN and then always decrements (as in the authors' code). Its state (m, lr, decrement) is
/// not a function of the step, so <see cref="Checkpoint"/> saves it.
/// </summary>
public sealed class AdaptiveThresholdScheduler : ILearningRateScheduler
{
    /// <summary>The rate never grows before this many steps (the authors' no_increase_length = 1e3).</summary>
    public const long NoIncreaseSteps = 1000;

    public AdaptiveThresholdScheduler(double lr0, long stepRate, double gamma, double minLr, double emaLambda, double metricThreshold)
    {
        if (!(lr0 > 0) || !double.IsFinite(lr0)) throw new ArgumentOutOfRangeException(nameof(lr0), lr0, "training.learning_rate must be a positive number");
        if (stepRate < 1) throw new ArgumentOutOfRangeException(nameof(stepRate), stepRate, "training.step_rate must be at least 1");
        if (!(gamma > 0 && gamma <= 1)) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "training.gamma must be in (0, 1]");
        if (!(minLr >= 0)) throw new ArgumentOutOfRangeException(nameof(minLr), minLr, "training.min_lr must be >= 0");
        if (!(emaLambda >= 0 && emaLambda <= 1)) throw new ArgumentOutOfRangeException(nameof(emaLambda), emaLambda, "training.scheduler_ema_lambda must be in [0, 1]");
        if (!double.IsFinite(metricThreshold)) throw new ArgumentOutOfRangeException(nameof(metricThreshold), metricThreshold, "training.scheduler_metric_threshold must be finite");
        Lr0 = lr0; StepRate = stepRate; Gamma = gamma; MinLr = minLr; EmaLambda = emaLambda; MetricThreshold = metricThreshold;
        Lr = Math.Max(lr0 * gamma, minLr);
    }

    public double Lr0 { get; }
    public long StepRate { get; }
    public double Gamma { get; }
    public double MinLr { get; }
    public double EmaLambda { get; }
    public double MetricThreshold { get; }

    /// <summary>The EMA of the gradient cosine metric (starts at 1).</summary>
    public double Metric { get; set; } = 1;
    /// <summary>The current rate.</summary>
    public double Lr { get; set; }
    /// <summary>The last decision: true decays the rate at the next multiple of step_rate, false grows it.</summary>
    public bool Decrement { get; set; } = true;

    /// <summary>Folds a new metric value <paramref name="cbar"/>, measured after <paramref name="stepsDone"/> steps,
    /// into the EMA and decides what the next multiple of step_rate does.</summary>
    public void UpdateMetric(double cbar, long stepsDone)
    {
        Metric = EmaLambda * Metric + (1 - EmaLambda) * cbar;
        Decrement = !(Metric < MetricThreshold && stepsDone > NoIncreaseSteps);
    }

    public double LearningRate(long stepsDone) => Lr;

    public void StepCompleted(long stepsDone)
    {
        if (stepsDone % StepRate != 0) return;
        Lr = Decrement ? Math.Max(Lr * Gamma, MinLr) : Lr / Gamma;
    }
}

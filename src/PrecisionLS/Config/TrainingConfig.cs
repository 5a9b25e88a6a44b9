namespace PrecisionLS.Config;

/// <summary>The training: section of a config (REFERENCE §4), under the authors' key names.</summary>
public sealed record TrainingConfig
{
    /// <summary>Task name, e.g. "explicit_gradient".</summary>
    public string Task { get; init; } = "explicit_gradient";
    /// <summary>Data sampler, e.g. "least_squares".</summary>
    public string Data { get; init; } = "least_squares";
    /// <summary>Task options, e.g. setting: last.</summary>
    public Dictionary<string, object?> TaskKwargs { get; init; } = [];
    /// <summary>Sampler options: normalize_a, normalize_x, scale_target, scale_cond.</summary>
    public Dictionary<string, object?> DataKwargs { get; init; } = [];
    /// <summary>Number of points L per prompt (equations, examples) at full size; the prompt length follows
    /// from the task. 0: curriculum.points.end when a curriculum is given, else 20.</summary>
    public int NPoints { get; init; }
    /// <summary>Optional growth of points and dims over training (REFERENCE §1 curriculum).</summary>
    public CurriculumConfig? Curriculum { get; init; }

    /// <summary>Points at full size: n_points, or curriculum.points.end, or 20.</summary>
    public int ResolvedNPoints => NPoints > 0 ? NPoints : Curriculum?.Points?.End ?? 20;
    public int BatchSize { get; init; } = 1024;
    public double LearningRate { get; init; } = 1e-2;
    public long TrainSteps { get; init; } = 2_500_000;
    /// <summary>"float64" (default) or "float32".</summary>
    public string Dtype { get; init; } = "float64";
    public ulong Seed { get; init; } = 0;
    /// <summary>A safetensors state dict (the authors' names and layouts, e.g. from PyTorch's save_file or
    /// <c>precisionls export</c>) whose parameters replace the initialisation of a new run before step 0; a resumed
    /// run takes its checkpoint instead. Empty: none. A relative path is resolved against the current directory,
    /// and the resolved config (config.yaml) holds it absolute.</summary>
    public string InitFrom { get; init; } = "";
    /// <summary>"adam" (default), "adamw" (decoupled weight decay) or "sgd" (momentum 0.9), as the authors build them;
    /// or a second-order optimizer on fixed batches: "lbfgs" (L-BFGS, strong-Wolfe line search) or "gauss_newton"
    /// (Levenberg-Marquardt, matrix-free CG on JᵀJ v). For these one step is one outer iteration.</summary>
    public string Optimizer { get; init; } = "adam";
    /// <summary>lbfgs, gauss_newton: Adam steps (the recipe's lr, clipping, EMA filter, schedule, batch_size) before the
    /// first second-order step (a warm start past the early plateau; 0 = none).</summary>
    public long AdamWarmupSteps { get; init; }
    /// <summary>lbfgs, gauss_newton: examples in the fixed batch of the second-order steps (0 = batch_size).</summary>
    public int SecondOrderBatchSize { get; init; }
    /// <summary>lbfgs, gauss_newton: iterations on one fixed batch before a fresh one is drawn from the sampler.</summary>
    public long RefreshEvery { get; init; } = 50;
    /// <summary>lbfgs: curvature pairs kept (m).</summary>
    public int LbfgsHistory { get; init; } = 20;
    /// <summary>lbfgs: sufficient-decrease constant c1 of the strong-Wolfe line search.</summary>
    public double LineSearchC1 { get; init; } = 1e-4;
    /// <summary>lbfgs: curvature constant c2 of the strong-Wolfe line search.</summary>
    public double LineSearchC2 { get; init; } = 0.9;
    /// <summary>lbfgs: most function-and-gradient evaluations per line search.</summary>
    public int LineSearchMaxEvals { get; init; } = 20;
    /// <summary>gauss_newton: conjugate-gradient iterations per step (each one JᵀJ v: a tangent and a backward pass).</summary>
    public int CgMaxIters { get; init; } = 50;
    /// <summary>gauss_newton: CG stops at residual ≤ cg_tolerance · ‖gradient‖.</summary>
    public double CgTolerance { get; init; } = 1e-4;
    /// <summary>gauss_newton: initial Levenberg-Marquardt damping λ (then adapted by the gain ratio).</summary>
    public double GnInitialDamping { get; init; } = 1e-3;
    /// <summary>gauss_newton: 0 = Levenberg damping λI, plain CG; k &gt; 0 = Marquardt damping λD and Jacobi-preconditioned
    /// CG, D ≈ diag(JᵀJ) from k random-sign probes (k backward passes) per step.</summary>
    public int GnScalingProbes { get; init; }
    /// <summary>gauss_newton: "cg" (default; matrix-free CG, cg_max_iters products per step) or "direct" (the Jacobian
    /// of the fixed batch is formed, R x P values for R residuals and P parameters, and the damped step is solved exactly
    /// through the R x R Gram matrix JJᵀ by Cholesky; for batches of up to a few thousand residuals).</summary>
    public string GnSolver { get; init; } = "cg";
    public double AdamEps { get; init; } = 1e-16;
    public double AdamBeta1 { get; init; } = 0.9;
    public double AdamBeta2 { get; init; } = 0.999;
    public double WeightDecay { get; init; }
    /// <summary>L1 penalty: loss += l1_reg · Σ|p| over the trainable parameters (0 = off).</summary>
    public double L1Reg { get; init; }
    /// <summary>Group lasso over whole channels (BaseConv models): after each first-order step every channel group is
    /// shrunk by the proximal map of lr · group_lasso · Σ‖w_g‖, so unneeded channels become exactly zero (0 = off).
    /// With decay_start_loss it starts when the step schedule's decay does (not on the plateau).</summary>
    public double GroupLasso { get; init; }
    /// <summary>With group_lasso: also group each residual-stream channel (everything that reads or writes it).</summary>
    public bool GroupLassoResidual { get; init; } = true;
    /// <summary>Global gradient-norm clip.</summary>
    public double ClipGradNorm { get; init; } = 100;
    /// <summary>Gradient EMA filter decay alpha (0 with lambda 0 = off).</summary>
    public double EmaDecay { get; init; } = 0.98;
    /// <summary>Gradient EMA filter gain lambda.</summary>
    public double EmaLambda { get; init; } = 2;
    /// <summary>"step" or "step_threshold" (both the step schedule with the min_lr floor), or "adaptive_threshold".</summary>
    public string Scheduler { get; init; } = "step";
    /// <summary>Adaptive scheduler: EMA weight λ of the gradient cosine metric (m ← λ m + (1-λ) cbar).</summary>
    public double SchedulerEmaLambda { get; init; } = 0.9;
    /// <summary>Adaptive scheduler: below this metric (after step 1000) the rate grows back instead of decaying.</summary>
    public double SchedulerMetricThreshold { get; init; } = 0.9;
    /// <summary>Adaptive scheduler: measure the gradient cosine metric every this many steps, before the step
    /// (the authors measure it every wandb.log_every_steps, 1000 in their runs).</summary>
    public long SchedulerMetricEvery { get; init; } = 1000;
    public long StepRate { get; init; } = 3000;
    public double Gamma { get; init; } = 0.9;
    public double MinLr { get; init; } = 1e-10;
    /// <summary>step schedule: 0 = decay from step 0; ℓ &gt; 0 = hold learning_rate until the training loss first falls
    /// below ℓ, then decay by gamma every step_rate steps from there.</summary>
    public double DecayStartLoss { get; init; }
    /// <summary>step schedule with decay_start_loss: the rate is multiplied by this when the decay starts (1 = no drop).</summary>
    public double DecayStartFactor { get; init; } = 1;
    /// <summary>Held-out evaluation period in steps (0 = only at the end).</summary>
    public long EvalEvery { get; init; } = 500;
    /// <summary>Size of the fixed, seeded held-out batch.</summary>
    public int EvalBatchSize { get; init; } = 4096;
    /// <summary>Checkpoint period in steps (a final checkpoint is always written).</summary>
    public long SaveEverySteps { get; init; } = 1000;
    /// <summary>Log a metrics row every this many steps (eval steps always log).</summary>
    public long LogEvery { get; init; } = 10;
}

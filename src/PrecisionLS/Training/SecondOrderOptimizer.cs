using System.Globalization;
using System.Numerics;
using PrecisionLS.Config;
using PrecisionLS.Nn;

namespace PrecisionLS.Training;

/// <summary>
/// training.optimizer: lbfgs | gauss_newton. Holds the Adam of the warm start (training.adam_warmup_steps; its
/// <see cref="IOptimizer{T}.Step"/> is Adam's), the second-order method, and the fixed batch's bookkeeping (its data
/// seed and the iterations run on it). <see cref="Trainer{T}"/> runs the second-order steps; <see cref="Checkpoint"/>
/// saves <see cref="State"/> (Adam's moments, then L-BFGS's s and y rings) and <see cref="Scalars"/>.
/// </summary>
public sealed class SecondOrderOptimizer<T> : IOptimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The second-order training.optimizer values.</summary>
    public static readonly string[] Names = ["lbfgs", "gauss_newton"];

    public SecondOrderOptimizer(ParameterStore<T> store, TrainingConfig t)
    {
        if (Array.IndexOf(Names, t.Optimizer) < 0) throw new ConfigException($"training.optimizer '{t.Optimizer}' is not second-order; accepted here: {string.Join(", ", Names)}");
        if (t.AdamWarmupSteps < 0) throw new ConfigException($"training.adam_warmup_steps = {t.AdamWarmupSteps} must be >= 0");
        if (t.SecondOrderBatchSize < 0) throw new ConfigException($"training.second_order_batch_size = {t.SecondOrderBatchSize} must be >= 0 (0 = batch_size)");
        if (t.RefreshEvery < 1) throw new ConfigException($"training.refresh_every = {t.RefreshEvery} must be at least 1");
        if (t.L1Reg != 0) throw new ConfigException($"training.l1_reg = {t.L1Reg}: the L1 penalty is not smooth; training.optimizer {t.Optimizer} needs l1_reg: 0");
        Name = t.Optimizer;
        Warmup = new Adam<T>(store, t.AdamBeta1, t.AdamBeta2, t.AdamEps, t.WeightDecay);
        WarmupSteps = t.AdamWarmupSteps;
        BatchSize = t.SecondOrderBatchSize > 0 ? t.SecondOrderBatchSize : t.BatchSize;
        RefreshEvery = t.RefreshEvery;
        var state = new List<T[]> { Warmup.M, Warmup.V };
        if (Name == "lbfgs")
        {
            Lbfgs = new Lbfgs<T>(store.Size, new LbfgsOptions(t.LbfgsHistory, t.LineSearchC1, t.LineSearchC2, t.LineSearchMaxEvals));
            state.AddRange(Lbfgs.S);
            state.AddRange(Lbfgs.Y);
        }
        else GaussNewton = new LevenbergMarquardt<T>(store.Size, new GaussNewtonOptions(t.CgMaxIters, t.CgTolerance, t.GnInitialDamping, t.GnScalingProbes, t.GnSolver));
        State = state;
    }

    public string Name { get; }
    /// <summary>The warm start's Adam (its step count is <see cref="Steps"/>).</summary>
    public Adam<T> Warmup { get; }
    /// <summary>Adam steps before the first second-order step.</summary>
    public long WarmupSteps { get; }
    /// <summary>Examples in the fixed batch.</summary>
    public int BatchSize { get; }
    /// <summary>Iterations per fixed batch.</summary>
    public long RefreshEvery { get; }
    /// <summary>The L-BFGS method (lbfgs), else null.</summary>
    public Lbfgs<T>? Lbfgs { get; }
    /// <summary>The Levenberg-Marquardt method (gauss_newton), else null.</summary>
    public LevenbergMarquardt<T>? GaussNewton { get; }
    /// <summary>Seed of the current fixed batch (drawn from the training data stream at each refresh).</summary>
    public ulong BatchSeed { get; set; }
    /// <summary>Second-order iterations run on the current fixed batch (0: draw a new one before the next).</summary>
    public long BatchIterations { get; set; }
    /// <summary>Second-order iterations so far.</summary>
    public long Iterations { get; set; }

    /// <summary>Adam's step count (the warm start).</summary>
    public long Steps { get => Warmup.Steps; set => Warmup.Steps = value; }
    public IReadOnlyList<T[]> State { get; }
    /// <summary>A warm-start Adam step.</summary>
    public void Step(double lr) => Warmup.Step(lr);

    /// <summary>The scalar state a checkpoint carries (the arrays are in <see cref="State"/>).</summary>
    public Dictionary<string, string> Scalars
    {
        get
        {
            var inv = CultureInfo.InvariantCulture;
            var d = new Dictionary<string, string>
            {
                ["batch_seed"] = BatchSeed.ToString(inv),
                ["batch_iterations"] = BatchIterations.ToString(inv),
                ["iterations"] = Iterations.ToString(inv),
            };
            if (Lbfgs is { } l) { d["lbfgs_count"] = l.Count.ToString(inv); d["lbfgs_newest"] = l.Newest.ToString(inv); }
            if (GaussNewton is { } g) { d["damping"] = g.Damping.ToString("R", inv); d["nu"] = g.Nu.ToString("R", inv); }
            return d;
        }
        set
        {
            var inv = CultureInfo.InvariantCulture;
            string Get(string key) => value.TryGetValue(key, out var v) ? v : throw new InvalidDataException($"checkpoint: {Name} state lacks '{key}'");
            BatchSeed = ulong.Parse(Get("batch_seed"), inv);
            BatchIterations = long.Parse(Get("batch_iterations"), inv);
            Iterations = long.Parse(Get("iterations"), inv);
            if (Lbfgs is { } l)
            {
                l.RestoreHistory(int.Parse(Get("lbfgs_count"), inv), int.Parse(Get("lbfgs_newest"), inv));
                l.Restart(keepHistory: true);     // f and ∇f at X are recomputed on the batch, exactly as they were
            }
            if (GaussNewton is { } g) { g.Damping = double.Parse(Get("damping"), inv); g.Nu = double.Parse(Get("nu"), inv); }
        }
    }
}

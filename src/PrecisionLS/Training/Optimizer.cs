using System.Numerics;
using PrecisionLS.Config;
using PrecisionLS.Nn;

namespace PrecisionLS.Training;

/// <summary>
/// A first-order optimizer over the trainable slices of the flat parameter array (training.optimizer). Its state
/// is a step count and a few arrays in the parameter layout, which <see cref="Checkpoint"/> saves in order.
/// </summary>
public interface IOptimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The training.optimizer value that builds it ("adam", "adamw", "sgd").</summary>
    string Name { get; }
    /// <summary>Updates taken so far.</summary>
    long Steps { get; set; }
    /// <summary>The state arrays (moments, momentum buffer), each the size of the parameter array, in checkpoint order.</summary>
    IReadOnlyList<T[]> State { get; }
    /// <summary>One update with learning rate <paramref name="lr"/> from the gradients in the store.</summary>
    void Step(double lr);
}

/// <summary>Builds the optimizer a config names (the authors' three: torch Adam, AdamW, SGD with momentum 0.9; and the
/// second-order lbfgs and gauss_newton, which <see cref="Trainer{T}"/> runs on fixed batches).</summary>
public static class Optimizers
{
    /// <summary>The accepted training.optimizer values.</summary>
    public static readonly string[] Names = ["adam", "adamw", "sgd", "lbfgs", "gauss_newton"];

    public static IOptimizer<T> Create<T>(ParameterStore<T> store, TrainingConfig t) where T : unmanaged, IFloatingPointIeee754<T> =>
        t.Optimizer switch
        {
            "adam" => new Adam<T>(store, t.AdamBeta1, t.AdamBeta2, t.AdamEps, t.WeightDecay),
            "adamw" => new Adam<T>(store, t.AdamBeta1, t.AdamBeta2, t.AdamEps, t.WeightDecay, decoupledWeightDecay: true),
            "sgd" => new Sgd<T>(store, Sgd<T>.AuthorsMomentum, t.WeightDecay),
            "lbfgs" or "gauss_newton" => new SecondOrderOptimizer<T>(store, t),
            _ => throw new ConfigException($"training.optimizer '{t.Optimizer}' is not known; accepted: {string.Join(", ", Names)}"),
        };
}

using System.Numerics;
using PrecisionLS.Nn;

namespace PrecisionLS.Training;

/// <summary>
/// Gradient EMA filter of the high-precision recipe (REFERENCE §4; the "Grokfast" EMA filter):
/// <code>first step: mu ← g;   then mu ← α mu + (1-α) g;   g ← g + λ mu</code>
/// It amplifies the slow (low-noise) component of the stochastic gradient. (α, λ) = (0.98, 2) in the recipe;
/// λ = 0 makes it the identity.
/// </summary>
public sealed class GradientEmaFilter<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ParameterStore<T> _store;

    public GradientEmaFilter(ParameterStore<T> store, double alpha, double lambda)
    {
        if (!(alpha >= 0 && alpha < 1)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "training.ema_decay must be in [0, 1)");
        if (!double.IsFinite(lambda) || lambda < 0) throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "training.ema_lambda must be finite and >= 0");
        _store = store; Alpha = alpha; Lambda = lambda;
        Mu = new T[store.Size];
    }

    public double Alpha { get; }
    public double Lambda { get; }
    /// <summary>The running average, same layout as the parameters.</summary>
    public T[] Mu { get; }
    /// <summary>False until the first gradient has been seen.</summary>
    public bool Initialized { get; set; }
    /// <summary>True when the filter changes gradients at all.</summary>
    public bool Active => Lambda != 0;

    /// <summary>Filters the store's gradients in place.</summary>
    public void Apply()
    {
        if (!Active) return;
        var g = _store.Grads;
        if (!Initialized) { g.AsSpan().CopyTo(Mu); Initialized = true; }
        T a = T.CreateChecked(Alpha), oneMinusA = T.One - a, lam = T.CreateChecked(Lambda);
        for (int i = 0; i < g.Length; i++)
        {
            Mu[i] = a * Mu[i] + oneMinusA * g[i];
            g[i] += lam * Mu[i];
        }
    }
}

using System.Numerics;
using PrecisionLS.Nn;

namespace PrecisionLS.Training;

/// <summary>
/// Adam (Kingma and Ba) as torch.optim.Adam computes it, over the trainable slices of the flat parameter array:
/// <code>
/// m ← β1 m + (1-β1) g;  v ← β2 v + (1-β2) g²
/// p ← p - (lr / (1-β1^t)) · m / (sqrt(v) / sqrt(1-β2^t) + eps)
/// </code>
/// eps = 1e-16 in the high-precision recipe (REFERENCE §4); weight decay adds wd·p to g first (0 in the recipe).
/// With decoupled weight decay it is torch.optim.AdamW instead: p ← p·(1 - lr·wd) first, and g is left alone
/// (training.optimizer: adamw; the authors pass eps 1e-16 and training.weight_decay to both).
/// </summary>
public sealed class Adam<T> : IOptimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ParameterStore<T> _store;
    private readonly (int Offset, int Length)[] _ranges;

    public Adam(ParameterStore<T> store, double beta1, double beta2, double eps, double weightDecay, bool decoupledWeightDecay = false)
    {
        if (!(beta1 >= 0 && beta1 < 1)) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "training.adam_beta1 must be in [0, 1)");
        if (!(beta2 >= 0 && beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "training.adam_beta2 must be in [0, 1)");
        if (!(eps > 0)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "training.adam_eps must be positive");
        if (!(weightDecay >= 0) || !double.IsFinite(weightDecay)) throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "training.weight_decay must be finite and >= 0");
        _store = store; Beta1 = beta1; Beta2 = beta2; Eps = eps; WeightDecay = weightDecay; Decoupled = decoupledWeightDecay;
        M = new T[store.Size]; V = new T[store.Size];
        _ranges = store.Parameters.Where(p => p.Trainable).Select(p => (p.Offset, p.Length)).ToArray();
        State = [M, V];
    }

    /// <summary>"adam", or "adamw" with decoupled weight decay.</summary>
    public string Name => Decoupled ? "adamw" : "adam";
    /// <summary>True for AdamW: weight decay shrinks p directly instead of entering the gradient.</summary>
    public bool Decoupled { get; }
    /// <summary>[M, V].</summary>
    public IReadOnlyList<T[]> State { get; }

    public double Beta1 { get; }
    public double Beta2 { get; }
    public double Eps { get; }
    public double WeightDecay { get; }
    /// <summary>First moments, same layout as the parameters.</summary>
    public T[] M { get; }
    /// <summary>Second moments, same layout as the parameters.</summary>
    public T[] V { get; }
    /// <summary>Updates taken so far (t in the bias corrections).</summary>
    public long Steps { get; set; }

    /// <summary>One update with learning rate <paramref name="lr"/> from the gradients in the store.</summary>
    public void Step(double lr)
    {
        Steps++;
        T b1 = T.CreateChecked(Beta1), b2 = T.CreateChecked(Beta2);
        T oneMinusB1 = T.One - b1, oneMinusB2 = T.One - b2;
        T stepSize = T.CreateChecked(lr / (1 - Math.Pow(Beta1, Steps)));
        T sqrtBc2 = T.CreateChecked(Math.Sqrt(1 - Math.Pow(Beta2, Steps)));
        T eps = T.CreateChecked(Eps), wd = T.CreateChecked(WeightDecay);
        T shrink = T.CreateChecked(1 - lr * WeightDecay);      // AdamW: p.mul_(1 - lr·wd)
        bool coupled = WeightDecay != 0 && !Decoupled, decoupled = WeightDecay != 0 && Decoupled;
        var p = _store.Values; var g = _store.Grads;
        foreach (var (offset, length) in _ranges)
            for (int i = offset; i < offset + length; i++)
            {
                T gi = g[i];
                if (coupled) gi += wd * p[i];
                if (decoupled) p[i] *= shrink;
                M[i] = b1 * M[i] + oneMinusB1 * gi;
                V[i] = b2 * V[i] + oneMinusB2 * gi * gi;
                T denom = T.Sqrt(V[i]) / sqrtBc2 + eps;
                p[i] -= stepSize * M[i] / denom;
            }
    }
}

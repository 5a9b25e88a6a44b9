using System.Numerics;
using PrecisionLS.Nn;

namespace PrecisionLS.Training;

/// <summary>
/// SGD with momentum as torch.optim.SGD computes it (dampening 0, no Nesterov), over the trainable slices:
/// <code>
/// d ← g + wd·p;   buf ← μ·buf + d   (first step: buf ← d);   p ← p - lr·buf
/// </code>
/// The buffer starts at zero, so the first step's μ·0 + d is torch's buf = clone(d). The authors fix μ = 0.9.
/// </summary>
public sealed class Sgd<T> : IOptimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The momentum the authors hard-code for training.optimizer: sgd.</summary>
    public const double AuthorsMomentum = 0.9;

    private readonly ParameterStore<T> _store;
    private readonly (int Offset, int Length)[] _ranges;

    public Sgd(ParameterStore<T> store, double momentum, double weightDecay)
    {
        if (!(momentum >= 0 && momentum < 1)) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "SGD momentum must be in [0, 1)");
        if (!(weightDecay >= 0) || !double.IsFinite(weightDecay)) throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "training.weight_decay must be finite and >= 0");
        _store = store; Momentum = momentum; WeightDecay = weightDecay;
        Buffer = new T[store.Size];
        _ranges = store.Parameters.Where(p => p.Trainable).Select(p => (p.Offset, p.Length)).ToArray();
        State = [Buffer];
    }

    public string Name => "sgd";
    public double Momentum { get; }
    public double WeightDecay { get; }
    /// <summary>The momentum buffer, same layout as the parameters.</summary>
    public T[] Buffer { get; }
    public long Steps { get; set; }
    public IReadOnlyList<T[]> State { get; }

    public void Step(double lr)
    {
        Steps++;
        T mu = T.CreateChecked(Momentum), wd = T.CreateChecked(WeightDecay), rate = T.CreateChecked(lr);
        var p = _store.Values; var g = _store.Grads;
        foreach (var (offset, length) in _ranges)
            for (int i = offset; i < offset + length; i++)
            {
                T d = g[i];
                if (WeightDecay != 0) d += wd * p[i];
                Buffer[i] = mu * Buffer[i] + d;
                p[i] -= rate * Buffer[i];
            }
    }
}

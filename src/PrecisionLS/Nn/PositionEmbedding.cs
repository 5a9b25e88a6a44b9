using System.Numerics;
using System.Numerics.Tensors;

namespace PrecisionLS.Nn;

/// <summary>
/// Learned position embedding wpe [n_positions, d]: h[b, t, :] += wpe[t, :] (REFERENCE §2).
/// train_pos = false freezes it at zero.
/// </summary>
public sealed class PositionEmbedding<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ParameterStore<T> _store;

    public PositionEmbedding(ParameterStore<T> store, string name, int positions, int d, bool trainable)
    {
        _store = store; Positions = positions; D = d;
        Weight = store.Add(name + ".weight", [positions, d], trainable);
    }

    public int Positions { get; }
    public int D { get; }
    public Parameter Weight { get; }

    private void Check(int length)
    {
        if (length > Positions)
            throw new ArgumentException($"sequence length {length} exceeds n_positions {Positions}; raise model.n_positions");
    }

    /// <summary>h[b, t, :] += wpe[t, :] for t &lt; length.</summary>
    public void Forward(Span<T> h, int batch, int length)
    {
        Check(length);
        var w = _store.Value(Weight);
        int n = length * D;
        for (int b = 0; b < batch; b++)
            TensorPrimitives.Add(h.Slice(b * n, n), w[..n], h.Slice(b * n, n));
    }

    /// <summary>Forward-mode tangent: dh[b, t, :] += v[wpe][t, :] (nothing when frozen); v in the store's layout.</summary>
    public void ForwardTangent(ReadOnlySpan<T> v, Span<T> dh, int batch, int length)
    {
        Check(length);
        if (!Weight.Trainable) return;
        var w = v.Slice(Weight.Offset, Weight.Length);
        int n = length * D;
        for (int b = 0; b < batch; b++)
            TensorPrimitives.Add(dh.Slice(b * n, n), w[..n], dh.Slice(b * n, n));
    }

    /// <summary>dwpe[t, :] += Σ_b dh[b, t, :] (batch summed in order).</summary>
    public void Backward(ReadOnlySpan<T> dh, int batch, int length)
    {
        if (!Weight.Trainable) return;
        var g = _store.Grad(Weight);
        int n = length * D;
        for (int b = 0; b < batch; b++)
            TensorPrimitives.Add(g[..n], dh.Slice(b * n, n), g[..n]);
    }
}

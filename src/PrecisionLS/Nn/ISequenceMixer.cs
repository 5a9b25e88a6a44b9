using System.Numerics;

namespace PrecisionLS.Nn;

/// <summary>
/// A sequence mixer (attention, BaseConv, ...): maps tokens [batch, length, d] to [batch, length, d].
/// Forward keeps what Backward needs; Backward adds into parameter gradients and into dx (STYLE: backward
/// accumulates). The Block never asks which mixer it holds.
/// </summary>
public interface ISequenceMixer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>y = Mixer(x); overwrites y. x must stay unchanged until Backward.</summary>
    void Forward(ReadOnlySpan<T> x, Span<T> y, int batch, int length);

    /// <summary>Given dL/dy, accumulates dL/dparams and adds dL/dx into dx. x is Forward's input.</summary>
    void Backward(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dx, int batch, int length);

    /// <summary>y = x + Mixer(x): the block residual, which a mixer may fold into its last pass.</summary>
    void ForwardResidual(ReadOnlySpan<T> x, Span<T> y, int batch, int length)
    {
        Forward(x, y, batch, length);
        System.Numerics.Tensors.TensorPrimitives.Add(y[..x.Length], x, y[..x.Length]);
    }

    /// <summary>Backward of <see cref="ForwardResidual"/>: dx = dy + Mixer'ᵀ dy (overwrites dx).</summary>
    void BackwardResidual(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dx, int batch, int length)
    {
        dy[..x.Length].CopyTo(dx);
        Backward(x, dy, dx, batch, length);
    }

    /// <summary>
    /// Forward-mode tangent (JVP) at Forward's point: dy = J_x dx + J_θ v, exact (no finite differences). x is
    /// Forward's input, dx its tangent [batch, length, d] (empty = zero), v a parameter direction laid out as
    /// <see cref="ParameterStore{T}.Values"/> (entries of frozen parameters are ignored). Overwrites dy; leaves
    /// what Backward needs untouched. No residual: the block adds dx itself.
    /// </summary>
    void ForwardTangent(ReadOnlySpan<T> x, ReadOnlySpan<T> dx, ReadOnlySpan<T> v, Span<T> dy, int batch, int length);

    /// <summary>Multiply-adds of one forward pass (backward counted as twice this by callers).</summary>
    long ForwardMultiplyAdds(int batch, int length);
}

using System.Numerics;

namespace PrecisionLS.Nn;

/// <summary>
/// BaseConv's convolution (conv_type short, long or implicit; REFERENCE §2 BaseConv): a depthwise map of tokens
/// [batch, length, d] to [batch, length, d], "+ x" inside when resid, with the gate of
/// <c>Conv(W_i u + b_i) * (W_p u + b_p)</c> optionally fused: g = y·gate. BaseConv holds one and never asks which.
/// </summary>
/// <remarks>
/// Rows of x, gate, dx and dGate are inStride apart, rows of y, g and dOut outStride apart (0 = d), so the conv reads
/// z and p in place from BaseConv's fused [rows, 2d] projection. Backward adds into parameter gradients.
/// </remarks>
public interface IConvolution<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Channels d.</summary>
    int Channels { get; }
    /// <summary>Causal (token t sees tokens &lt;= t) or not.</summary>
    bool Causal { get; }
    /// <summary>The authors' "+ x" inside the convolution.</summary>
    bool Resid { get; }

    /// <summary>y = Conv(x) (+ x); when gate is not empty also g = y·gate. Overwrites y (and g).</summary>
    void Forward(ReadOnlySpan<T> x, Span<T> y, ReadOnlySpan<T> gate, Span<T> g, int batch, int length, int inStride = 0, int outStride = 0);

    /// <summary>
    /// Backward of <see cref="Forward"/>. dOut is dy (no gate) or dg (gated: dGate is overwritten with dg·y, y being
    /// Forward's output). Adds into dx (overwrites when accumulateDx is false) and into the parameter gradients.
    /// </summary>
    void Backward(ReadOnlySpan<T> x, ReadOnlySpan<T> dOut, ReadOnlySpan<T> gate, ReadOnlySpan<T> y, Span<T> dGate, Span<T> dx,
        int batch, int length, int inStride = 0, int outStride = 0, bool accumulateDx = true);

    /// <summary>
    /// Forward-mode tangent of the ungated map y = Conv(x) (+ x) at Forward's point: dy = Conv(dx) (+ dx) + Conv_dθ(x),
    /// dθ this layer's slice of the parameter direction <paramref name="v"/> (store layout; zero when frozen).
    /// x and dx rows are inStride apart, dy rows d apart. Overwrites dy; leaves Backward's caches untouched.
    /// Needs Forward's length.
    /// </summary>
    void ForwardTangent(ReadOnlySpan<T> x, ReadOnlySpan<T> dx, ReadOnlySpan<T> v, Span<T> dy, int batch, int length, int inStride = 0);

    /// <summary>Multiply-adds of one forward pass.</summary>
    long ForwardMultiplyAdds(int batch, int length);
}

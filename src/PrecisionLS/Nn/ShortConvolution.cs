using System.Numerics;
using PrecisionLS.Numerics;

namespace PrecisionLS.Nn;

/// <summary>
/// The authors' ShortConvolution: depthwise Conv1d over tokens with a kernel of length l_max (= n_positions,
/// really full length), bias, and "+ x" inside when resid (REFERENCE §2, fixture conv_short_*).
/// Causal: padding K-1, keep the first L outputs (w[K-1] multiplies the current token).
/// Non-causal: padding K//2 on both sides, keep the first L outputs.
/// Parameters "{name}.weight" [d, 1, K] and "{name}.bias" [d].
/// </summary>
public sealed class ShortConvolution<T> : IConvolution<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ParameterStore<T> _store;
    private readonly T[] _wT;        // tap-major copy of the weight, refreshed each forward
    private readonly T[] _dwT;       // tap-major weight gradient of one backward
    private readonly T[] _tdwT;      // tap-major weight direction of one tangent
    private T[] _tTmp = [];          // tangent scratch [rows, d]

    public ShortConvolution(ParameterStore<T> store, string name, int channels, int kernel, bool causal, bool resid)
    {
        if (kernel < 1) throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "the kernel length (l_max = n_positions) must be at least 1");
        _store = store;
        Channels = channels; Kernel = kernel; Causal = causal; Resid = resid;
        Weight = store.Add(name + ".weight", [channels, 1, kernel]);
        Bias = store.Add(name + ".bias", [channels]);
        _wT = new T[kernel * channels];
        _dwT = new T[kernel * channels];
        _tdwT = new T[kernel * channels];
    }

    public int Channels { get; }
    public int Kernel { get; }
    public bool Causal { get; }
    public bool Resid { get; }
    public Parameter Weight { get; }
    public Parameter Bias { get; }

    /// <summary>Left padding: K-1 causal, K//2 otherwise.</summary>
    public int Pad => Causal ? Kernel - 1 : Kernel / 2;

    internal DepthwiseConv.Shape ShapeFor(int batch, int length, int inStride = 0, int outStride = 0)
    {
        if (length > Kernel && Causal)
            throw new ArgumentException($"sequence length {length} exceeds the convolution's l_max {Kernel} (n_positions)");
        return new DepthwiseConv.Shape(batch, length, Channels, Kernel, Pad, Resid, inStride, outStride);
    }

    /// <summary>
    /// y = conv(x) + bias (+ x); when gate is given also g = y·gate. x and gate rows are <paramref name="inStride"/>
    /// apart, y and g rows <paramref name="outStride"/> apart (0 = channels).
    /// </summary>
    public void Forward(ReadOnlySpan<T> x, Span<T> y, ReadOnlySpan<T> gate, Span<T> g, int batch, int length, int inStride = 0, int outStride = 0)
    {
        DepthwiseConv.ToTapMajor<T>(_store.Value(Weight), _wT, Channels, Kernel);
        DepthwiseConv.Forward<T>(x, _wT, _store.Value(Bias), y, gate, g, ShapeFor(batch, length, inStride, outStride));
    }

    /// <summary>
    /// Backward. dOut is dy (no gate) or dg (gated: then dGate receives dg·y and y must be Forward's output).
    /// Adds into dx and the parameter gradients.
    /// </summary>
    public void Backward(ReadOnlySpan<T> x, ReadOnlySpan<T> dOut, ReadOnlySpan<T> gate, ReadOnlySpan<T> y, Span<T> dGate, Span<T> dx, int batch, int length,
        int inStride = 0, int outStride = 0, bool accumulateDx = true)
    {
        Array.Clear(_dwT);
        DepthwiseConv.Backward<T>(x, _wT, dOut, gate, y, dGate, dx, _dwT, _store.Grad(Bias), ShapeFor(batch, length, inStride, outStride), accumulateDx);
        DepthwiseConv.AddFromTapMajor<T>(_dwT, _store.Grad(Weight), Channels, Kernel);
    }

    /// <summary>
    /// Forward-mode tangent (ungated): y = conv(x; w) + bias (+ x) is linear in x and in (w, bias), so
    /// dy = conv(dx; w) (+ dx) + conv(x; dw) + dbias, (dw, dbias) this layer's slices of <paramref name="v"/>.
    /// x and dx rows are <paramref name="inStride"/> apart, dy rows d apart; dx may be empty. Overwrites dy.
    /// </summary>
    public void ForwardTangent(ReadOnlySpan<T> x, ReadOnlySpan<T> dx, ReadOnlySpan<T> v, Span<T> dy, int batch, int length, int inStride = 0)
    {
        var shape = ShapeFor(batch, length, inStride);
        int n = batch * length * Channels;
        var y = dy[..n];
        bool dw = Weight.Trainable, db = Bias.Trainable;
        if (!dx.IsEmpty) DepthwiseConv.Forward<T>(dx, _wT, default, y, default, default, shape);   // conv(dx; w) (+ dx)
        if (!dw && !db) { if (dx.IsEmpty) y.Clear(); return; }
        if (dw) DepthwiseConv.ToTapMajor<T>(v.Slice(Weight.Offset, Weight.Length), _tdwT, Channels, Kernel);
        else Array.Clear(_tdwT);
        ReadOnlySpan<T> bias = db ? v.Slice(Bias.Offset, Bias.Length) : default;
        var term = dx.IsEmpty ? y : Buffers.Ensure(ref _tTmp, n).AsSpan(0, n);
        DepthwiseConv.Forward<T>(x, _tdwT, bias, term, default, default, shape with { Resid = false });   // conv(x; dw) + dbias
        if (!dx.IsEmpty) System.Numerics.Tensors.TensorPrimitives.Add(y, term, y);
    }

    public long ForwardMultiplyAdds(int batch, int length) => ShapeFor(batch, length).MultiplyAdds;
}

using System.Numerics;
using System.Numerics.Tensors;

namespace PrecisionLS.Numerics;

/// <summary>
/// Element-wise activations of the MLP (REFERENCE §2: relu, exact-erf gelu, glu) and their backward passes,
/// over spans of equal length. Forward passes overwrite their outputs; backward passes overwrite the input
/// gradient (the caller accumulates where it must). Exact in-place aliasing is allowed where noted.
/// </summary>
public static class Activations
{
    /// <summary>g = max(a, 0). g may alias a.</summary>
    public static void ReluForward<T>(ReadOnlySpan<T> a, Span<T> g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLengths(a.Length, g.Length, "g");
        if (a.IsEmpty) return;
        TensorPrimitives.Max(a, T.Zero, g[..a.Length]);
    }

    /// <summary>da = dg where a &gt; 0, else 0 (PyTorch's threshold_backward). da may alias dg.</summary>
    public static unsafe void ReluBackward<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> dg, Span<T> da) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = a.Length, i = 0;
        CheckLengths(n, dg.Length, "dg"); CheckLengths(n, da.Length, "da");
        fixed (T* pa = a, pdg = dg, pda = da)
        {
            if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
            {
                int w = Vector<T>.Count;
                for (; i + w <= n; i += w)
                    Vector.Store(Vector.ConditionalSelect(Vector.GreaterThan(Vector.Load(pa + i), Vector<T>.Zero), Vector.Load(pdg + i), Vector<T>.Zero), pda + i);
            }
            for (; i < n; i++) pda[i] = pa[i] > T.Zero ? pdg[i] : T.Zero;
        }
    }

    /// <summary>
    /// Exact GELU: cdf = Φ(a) = 0.5·(1 + erf(a/√2)), g = a·Φ(a) (PyTorch nn.GELU(), approximate='none').
    /// Φ is kept for the backward pass. Evaluated in float64 (<see cref="ErrorFunction"/>) and rounded to T;
    /// scalar (erf does not vectorise simply), split over <see cref="WorkerPool.Shared"/>: element-wise, so the
    /// result does not depend on the thread count.
    /// </summary>
    public static unsafe void GeluForward<T>(ReadOnlySpan<T> a, Span<T> g, Span<T> cdf) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = a.Length;
        CheckLengths(n, g.Length, "g"); CheckLengths(n, cdf.Length, "cdf");
        fixed (T* pa = a, pg = g, pc = cdf)
        {
            var args = new GeluArgs<T>(pa, pc, pg, null);
            ParallelFor.Run(n, GeluMinPerWorker, in args, &GeluForwardRange<T>);
        }
    }

    /// <summary>
    /// Backward of <see cref="GeluForward{T}"/>: da = dg·(Φ(a) + a·φ(a)), φ the standard normal density, with
    /// Φ(a) as the forward kept it. da may alias dg.
    /// </summary>
    public static unsafe void GeluBackward<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> cdf, ReadOnlySpan<T> dg, Span<T> da) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = a.Length;
        CheckLengths(n, cdf.Length, "cdf"); CheckLengths(n, dg.Length, "dg"); CheckLengths(n, da.Length, "da");
        fixed (T* pa = a, pc = cdf, pdg = dg, pda = da)
        {
            var args = new GeluArgs<T>(pa, pc, pdg, pda);
            ParallelFor.Run(n, GeluMinPerWorker, in args, &GeluBackwardRange<T>);
        }
    }

    // Below this many elements per worker a GELU pass stays on the calling thread.
    private const int GeluMinPerWorker = 4096;

    // Forward: A, Cdf (written), G (written). Backward: A, Cdf, G = dg, Da (written).
    private readonly unsafe struct GeluArgs<T>(T* a, T* cdf, T* g, T* da) where T : unmanaged
    {
        public readonly T* A = a, Cdf = cdf, G = g, Da = da;
    }

    private static unsafe void GeluForwardRange<T>(in GeluArgs<T> s, int start, int end) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = start; i < end; i++)
        {
            double x = double.CreateTruncating(s.A[i]);
            double phi = ErrorFunction.NormalCdf(x);
            s.Cdf[i] = T.CreateTruncating(phi);
            s.G[i] = T.CreateTruncating(x * phi);
        }
    }

    private static unsafe void GeluBackwardRange<T>(in GeluArgs<T> s, int start, int end) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = start; i < end; i++)
        {
            double x = double.CreateTruncating(s.A[i]);
            double slope = double.CreateTruncating(s.Cdf[i]) + x * ErrorFunction.NormalPdf(x);
            s.Da[i] = T.CreateTruncating(double.CreateTruncating(s.G[i]) * slope);
        }
    }

    /// <summary>
    /// The authors' GLU after its two projections: s = sigmoid(z1), g = s·z2. s may alias z1 (the forward
    /// keeps s, not z1, for backward).
    /// </summary>
    public static void GluForward<T>(ReadOnlySpan<T> z1, ReadOnlySpan<T> z2, Span<T> s, Span<T> g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = z1.Length;
        CheckLengths(n, z2.Length, "z2"); CheckLengths(n, s.Length, "s"); CheckLengths(n, g.Length, "g");
        if (n == 0) return;   // TensorPrimitives.Sigmoid refuses empty spans
        TensorPrimitives.Sigmoid(z1, s[..n]);
        TensorPrimitives.Multiply(s[..n], z2, g[..n]);
    }

    /// <summary>
    /// Backward of <see cref="GluForward{T}"/>: dz2 = dg·s and dz1 = dg·z2·s·(1 − s), from the kept s = sigmoid(z1).
    /// dz1 and dz2 must not alias dg, s or z2.
    /// </summary>
    public static unsafe void GluBackward<T>(ReadOnlySpan<T> s, ReadOnlySpan<T> z2, ReadOnlySpan<T> dg, Span<T> dz1, Span<T> dz2)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = s.Length, i = 0;
        CheckLengths(n, z2.Length, "z2"); CheckLengths(n, dg.Length, "dg"); CheckLengths(n, dz1.Length, "dz1"); CheckLengths(n, dz2.Length, "dz2");
        fixed (T* ps = s, pz2 = z2, pdg = dg, pdz1 = dz1, pdz2 = dz2)
        {
            if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
            {
                int w = Vector<T>.Count;
                var one = Vector<T>.One;
                for (; i + w <= n; i += w)
                {
                    var vs = Vector.Load(ps + i); var vdg = Vector.Load(pdg + i);
                    Vector.Store(vdg * vs, pdz2 + i);
                    Vector.Store(vdg * Vector.Load(pz2 + i) * (vs * (one - vs)), pdz1 + i);
                }
            }
            for (; i < n; i++)
            {
                T si = ps[i], dgi = pdg[i];
                pdz2[i] = dgi * si;
                pdz1[i] = dgi * pz2[i] * (si * (T.One - si));
            }
        }
    }

    private static void CheckLengths(int need, int have, string name)
    {
        if (have < need) throw new ArgumentException($"{name} holds {have} values, needs {need}", name);
    }
}

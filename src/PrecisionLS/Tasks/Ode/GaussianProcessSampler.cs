using System.Numerics.Tensors;
using MathNet.Numerics.LinearAlgebra;
using PrecisionLS.Numerics;

namespace PrecisionLS.Tasks;

/// <summary>
/// Draws a zero-mean Gaussian process at fixed points with the RBF kernel
/// k(t, t') = exp(-(t - t')² / (2 gp_length)) (REFERENCE §1 ODE task; fixture ode_solve, gp_gram).
/// </summary>
/// <remarks>
/// <para>gp_length is the kernel's "variance" argument in the authors' code: it divides the squared distance, so
/// the length scale is sqrt(gp_length).</para>
/// <para>The Gram matrix K of the ODE points (41 Chebyshev nodes plus the evaluation points, some of them equal)
/// is singular to machine precision, so a Cholesky factor does not exist without jitter. Like numpy's
/// multivariate_normal (the authors' sampler) this factors K by SVD, K = V S Vᵀ, and draws
/// y = V sqrt(S) z with z ~ N(0, I): Cov(y) = K exactly (up to rounding), no jitter.</para>
/// <para>One draw consumes <see cref="Count"/> Gaussians (one <see cref="Rng.FillGaussian(Span{double})"/> call).
/// The factor is computed once, in the constructor; <see cref="Sample"/> allocates nothing. Not thread-safe
/// (it keeps a scratch vector).</para>
/// </remarks>
public sealed class GaussianProcessSampler
{
    private readonly double[] _factor;      // [n, n] row-major: F = V sqrt(S), y = F z
    private readonly double[] _z;           // [n] scratch

    /// <summary>Factors the Gram matrix of <paramref name="points"/>.</summary>
    /// <param name="points">Where the process is observed (any order, repeats allowed).</param>
    /// <param name="gpLength">gp_length, the kernel's squared length scale; finite and > 0.</param>
    /// <exception cref="ArgumentException">No points, a point is not finite, or gp_length is not finite and > 0.</exception>
    public GaussianProcessSampler(ReadOnlySpan<double> points, double gpLength)
    {
        if (points.Length == 0) throw new ArgumentException("points is empty: a Gaussian process needs at least one point", nameof(points));
        foreach (double t in points)
            if (!double.IsFinite(t)) throw new ArgumentException($"points holds {t}: points must be finite", nameof(points));
        CheckLength(gpLength);
        int n = points.Length;
        Count = n;
        GpLength = gpLength;
        var gram = Matrix<double>.Build.DenseOfRowMajor(n, n, Gram(points, gpLength));
        var svd = gram.Svd(computeVectors: true);
        Vector<double> s = svd.S;
        Matrix<double> vt = svd.VT;
        _factor = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            double root = Math.Sqrt(s[i]);
            for (int k = 0; k < n; k++) _factor[k * n + i] = vt[i, k] * root;   // F[k, i] = V[k, i] sqrt(s_i)
        }
        _z = new double[n];
    }

    /// <summary>Number of points, the length of one draw.</summary>
    public int Count { get; }
    /// <summary>gp_length.</summary>
    public double GpLength { get; }

    /// <summary>k(t, t') = exp(-(t - t')² / (2 gp_length)).</summary>
    public static double Kernel(double t, double s, double gpLength)
    {
        double d = t - s;
        return Math.Exp(-(d * d) / (2.0 * gpLength));
    }

    /// <summary>Gram matrix K[i, j] = k(points[i], points[j]), row-major [n, n] (a new array).</summary>
    /// <exception cref="ArgumentException">gp_length is not finite and > 0.</exception>
    public static double[] Gram(ReadOnlySpan<double> points, double gpLength)
    {
        CheckLength(gpLength);
        int n = points.Length;
        var k = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) k[i * n + j] = Kernel(points[i], points[j], gpLength);
        return k;
    }

    /// <summary>One draw of the process at all points: dst = F z, z ~ N(0, I); overwrites dst [Count].</summary>
    /// <exception cref="ArgumentException">dst does not hold Count values.</exception>
    public void Sample(Rng rng, Span<double> dst)
    {
        ArgumentNullException.ThrowIfNull(rng);
        int n = Count;
        if (dst.Length != n) throw new ArgumentException($"dst has {dst.Length} entries, the process has {n} points", nameof(dst));
        rng.FillGaussian(_z.AsSpan());
        ReadOnlySpan<double> f = _factor, z = _z;
        for (int k = 0; k < n; k++) dst[k] = TensorPrimitives.Dot(f.Slice(k * n, n), z);
    }

    private static void CheckLength(double gpLength)
    {
        if (!(double.IsFinite(gpLength) && gpLength > 0))
            throw new ArgumentException($"gp_length = {gpLength}: accepted values are finite numbers > 0 (default 1)", "gp_length");
    }
}

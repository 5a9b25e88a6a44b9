using System.Numerics;
using MathNet.Numerics.Providers.LinearAlgebra;
using PrecisionLS.Numerics;

namespace PrecisionLS.Tasks;

/// <summary>
/// Options of the least-squares sampler (REFERENCE §1), under the authors' config key names.
/// Defaults leave the sampler plain: A ~ N(0, 1), x*, x_init ~ N(0, I_D).
/// </summary>
/// <param name="normalize_a">Scale every row a_i of A to unit Euclidean norm.</param>
/// <param name="normalize_x">Scale x* and x_init (each example separately) to unit Euclidean norm.</param>
/// <param name="scale_target">Factor applied to x* and x_init after normalize_x (finite; default 1).</param>
/// <param name="scale_cond">
/// kappa: affinely map the singular values of each A onto [1, kappa], so cond(A) = kappa exactly;
/// null leaves A as drawn. Must be finite and &gt;= 1 (1 makes every singular value 1).
/// </param>
public sealed record LeastSquaresOptions(
    bool normalize_a = false,
    bool normalize_x = false,
    double scale_target = 1.0,
    double? scale_cond = null)
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad key and the values it accepts.</summary>
    public void Validate()
    {
        if (!double.IsFinite(scale_target))
            throw new ArgumentException(
                $"scale_target = {scale_target}: accepted values are finite numbers (default 1.0)", nameof(scale_target));
        if (scale_cond is double kappa && !(double.IsFinite(kappa) && kappa >= 1.0))
            throw new ArgumentException(
                $"scale_cond = {kappa}: accepted values are null (off) or a finite condition number kappa >= 1", nameof(scale_cond));
    }
}

/// <summary>
/// Draws consistent least-squares problems (REFERENCE §1): per example A ~ N(0, 1) of shape [L, D],
/// x* ~ N(0, I_D), x_init ~ N(0, I_D) and b = A x* (noiseless), with the transformations of
/// <see cref="LeastSquaresOptions"/>.
/// </summary>
/// <remarks>
/// <para>Draw order (fixed, so a seed reproduces a run): for each example in turn, one
/// <see cref="Rng.FillGaussian(Span{double})"/> call over L·D + 2D values laid out as A (row-major), then x*,
/// then x_init. Box-Muller pairs run across those boundaries; when L·D + 2D is odd the second value of the
/// last pair is discarded.</para>
/// <para>Transformations, in the authors' order: A is row-normalised (normalize_a), then its singular values are
/// rescaled (scale_cond); x* and x_init are normalised (normalize_x), then multiplied by scale_target;
/// b = A x* is computed last, from the final A and x*.</para>
/// <para>Values are drawn and transformed in double and converted to <typeparamref name="T"/> on output.
/// Sampling reuses per-example buffers, so it allocates nothing after construction, except inside MathNet's
/// SVD when scale_cond is set. Not thread-safe: one sampler per thread.</para>
/// </remarks>
public sealed class LeastSquaresSampler<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly double[] _draw;        // [L·D + 2D]: A row-major | x* | x_init (one example)
    private readonly double[] _b;           // [L]
    private ScaleCondWorkspace? _svd;       // sized for the current number of points
    private int _points;                    // equations of the example drawn last

    /// <summary>Creates a sampler for problems with <paramref name="nPoints"/> rows and <paramref name="nDims"/> unknowns.</summary>
    /// <exception cref="ArgumentException">A size is not positive, or an option is out of range (see <see cref="LeastSquaresOptions.Validate"/>).</exception>
    public LeastSquaresSampler(int nDims, int nPoints, LeastSquaresOptions? options = null)
    {
        if (nDims < 1) throw new ArgumentException($"n_dims = {nDims}: must be >= 1", nameof(nDims));
        if (nPoints < 1) throw new ArgumentException($"n_points = {nPoints}: must be >= 1", nameof(nPoints));
        Options = options ?? new LeastSquaresOptions();
        Options.Validate();
        if (Options.scale_cond is not null && Math.Min(nPoints, nDims) < 2)
            throw new ArgumentException(
                $"scale_cond needs at least two singular values: min(n_points, n_dims) = {Math.Min(nPoints, nDims)}; " +
                "use n_points >= 2 and n_dims >= 2, or scale_cond = null", nameof(options));
        NDims = nDims;
        NPoints = nPoints;
        _draw = new double[nPoints * nDims + 2 * nDims];
        _b = new double[nPoints];
        _points = nPoints;
    }

    /// <summary>D, the number of unknowns (columns of A).</summary>
    public int NDims { get; }
    /// <summary>L, the largest number of equations (rows of A).</summary>
    public int NPoints { get; }
    /// <summary>The validated options.</summary>
    public LeastSquaresOptions Options { get; }

    /// <summary>A of the example drawn last by <see cref="SampleExample"/>, [L, D] row-major.</summary>
    internal ReadOnlySpan<double> ExampleA => _draw.AsSpan(0, _points * NDims);
    /// <summary>x* of the example drawn last, [D].</summary>
    internal ReadOnlySpan<double> ExampleXStar => _draw.AsSpan(_points * NDims, NDims);
    /// <summary>x_init of the example drawn last, [D].</summary>
    internal ReadOnlySpan<double> ExampleXInit => _draw.AsSpan(_points * NDims + NDims, NDims);
    /// <summary>b = A x* of the example drawn last, [L].</summary>
    internal ReadOnlySpan<double> ExampleB => _b.AsSpan(0, _points);

    /// <summary>
    /// Draws <paramref name="batch"/> examples: a [batch, L, D], xStar [batch, D], xInit [batch, D], b [batch, L],
    /// all row-major; overwrites the first batch·(size) elements of each.
    /// </summary>
    /// <exception cref="ArgumentException">A destination is too short or batch is negative.</exception>
    public void Sample(Rng rng, int batch, Span<T> a, Span<T> xStar, Span<T> xInit, Span<T> b)
    {
        ArgumentNullException.ThrowIfNull(rng);
        int l = NPoints, d = NDims;
        if (batch < 0) throw new ArgumentException($"batch = {batch}: must be >= 0", nameof(batch));
        CheckLength(a, batch * l * d, nameof(a));
        CheckLength(xStar, batch * d, nameof(xStar));
        CheckLength(xInit, batch * d, nameof(xInit));
        CheckLength(b, batch * l, nameof(b));
        for (int e = 0; e < batch; e++)
        {
            SampleExample(rng);
            Convert(ExampleA, a.Slice(e * l * d, l * d));
            Convert(ExampleXStar, xStar.Slice(e * d, d));
            Convert(ExampleXInit, xInit.Slice(e * d, d));
            Convert(ExampleB, b.Slice(e * l, l));
        }
    }

    /// <summary>
    /// Draws one example into the internal buffers (<see cref="ExampleA"/> and friends) with
    /// <paramref name="points"/> equations (default: all) and only the first <paramref name="dims"/> unknowns
    /// live (default: all): as the authors' n_dims_truncated, the other columns of A and entries of x* and x_init
    /// are zeroed after the options are applied, before b = A x*.
    /// </summary>
    internal void SampleExample(Rng rng, int points = 0, int dims = 0)
    {
        int l = points > 0 ? points : NPoints, d = NDims;
        if (l > NPoints) throw new ArgumentException($"points = {l}: this sampler holds at most n_points = {NPoints}", nameof(points));
        int live = dims > 0 ? Math.Min(dims, d) : d;
        _points = l;
        rng.FillGaussian(_draw.AsSpan(0, l * d + 2 * d));  // A row-major, x*, x_init: one stream
        Span<double> a = _draw.AsSpan(0, l * d);
        Span<double> xStar = _draw.AsSpan(l * d, d);
        Span<double> xInit = _draw.AsSpan(l * d + d, d);

        if (Options.normalize_a)                           // REFERENCE §1 normalize_a: a_i <- a_i / |a_i|
            for (int i = 0; i < l; i++) ScaleToUnitNorm(a.Slice(i * d, d));
        if (Options.scale_cond is double kappa)           // REFERENCE §1 scale_cond: singular values onto [1, kappa]
        {
            if (_svd is null || _svd.Rows != l) _svd = new ScaleCondWorkspace(l, d);
            ScaleConditionNumber(a, l, d, kappa, _svd);
        }

        if (Options.normalize_x) { ScaleToUnitNorm(xStar); ScaleToUnitNorm(xInit); }
        if (Options.scale_target != 1.0)                  // REFERENCE §1 scale_target multiplies x* and x_init
        {
            double s = Options.scale_target;
            for (int j = 0; j < d; j++) { xStar[j] *= s; xInit[j] *= s; }
        }

        if (live < d)                                      // truncated dims (curriculum): zero the dead unknowns
        {
            for (int i = 0; i < l; i++) a.Slice(i * d + live, d - live).Clear();
            xStar[live..].Clear(); xInit[live..].Clear();
        }
        for (int i = 0; i < l; i++)                        // REFERENCE §1: b = A x* (noiseless)
        {
            double acc = 0;
            for (int j = 0; j < d; j++) acc += a[i * d + j] * xStar[j];
            _b[i] = acc;
        }
    }

    /// <summary>
    /// Rescales the singular values of A ([rows, cols] row-major, in place) onto [1, kappa] (REFERENCE §1,
    /// fixture task_scale_cond): A = U S Vᵀ (thin SVD), S' = S (kappa - 1)/(S_max - S_min), S' += 1 - S'_min,
    /// A = U S' Vᵀ. Afterwards cond(A) = kappa up to rounding.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// Sizes do not match A, min(rows, cols) &lt; 2, kappa is not finite and &gt;= 1, or all singular values of A
    /// are equal (the affine map is undefined).
    /// </exception>
    public static void ScaleConditionNumber(double[] A, int rows, int cols, double kappa)
    {
        ArgumentNullException.ThrowIfNull(A);
        if (rows < 1 || cols < 1 || A.Length != rows * cols)
            throw new ArgumentException($"A has {A.Length} values, expected rows·cols = {rows}·{cols}", nameof(A));
        if (Math.Min(rows, cols) < 2)
            throw new ArgumentException($"scale_cond needs at least two singular values, A is {rows}x{cols}", nameof(A));
        if (!(double.IsFinite(kappa) && kappa >= 1.0))
            throw new ArgumentException($"scale_cond = {kappa}: accepted values are a finite condition number kappa >= 1", nameof(kappa));
        ScaleConditionNumber(A, rows, cols, kappa, new ScaleCondWorkspace(rows, cols));
    }

    private static void ScaleConditionNumber(Span<double> a, int rows, int cols, double kappa, ScaleCondWorkspace ws)
    {
        int k = Math.Min(rows, cols);
        double[] colMajor = ws.ColMajor, s = ws.S, u = ws.U, vt = ws.VT;
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) colMajor[i + j * rows] = a[i * cols + j];
        // MathNet: a column-major; s [min(rows, cols)]; u [rows, rows] and vt [cols, cols] column-major.
        LinearAlgebraControl.Provider.SingularValueDecomposition(true, colMajor, rows, cols, s, u, vt);

        double sMax = double.NegativeInfinity, sMin = double.PositiveInfinity;
        for (int r = 0; r < k; r++) { sMax = Math.Max(sMax, s[r]); sMin = Math.Min(sMin, s[r]); }
        double spread = sMax - sMin;
        if (!(spread > 0))
            throw new ArgumentException(
                $"scale_cond: all singular values of A equal {sMax:R}, so they cannot be spread onto [1, {kappa}]", nameof(a));

        // REFERENCE §1: S <- S (kappa - 1)/(S_max - S_min); S <- S + 1 - S_min (S_min of the scaled values)
        double factor = (kappa - 1.0) / spread;
        double shift = 1.0 - sMin * factor;
        for (int r = 0; r < k; r++) s[r] = s[r] * factor + shift;

        // A = U S' Vᵀ over the k = min(rows, cols) leading singular vectors (thin SVD).
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
            {
                double acc = 0;
                for (int r = 0; r < k; r++) acc += u[i + r * rows] * s[r] * vt[r + j * cols];
                a[i * cols + j] = acc;
            }
    }

    private static void ScaleToUnitNorm(Span<double> v)
    {
        double ss = 0;
        foreach (double x in v) ss += x * x;
        double norm = Math.Sqrt(ss);
        for (int i = 0; i < v.Length; i++) v[i] /= norm;
    }

    private static void Convert(ReadOnlySpan<double> src, Span<T> dst)
    {
        for (int i = 0; i < src.Length; i++) dst[i] = T.CreateChecked(src[i]);
    }

    private static void CheckLength(Span<T> dst, int needed, string name)
    {
        if (dst.Length < needed)
            throw new ArgumentException($"{name} has {dst.Length} elements, needs at least {needed}", name);
    }

    /// <summary>SVD buffers for one [rows, cols] matrix, reused across examples.</summary>
    private sealed class ScaleCondWorkspace(int rows, int cols)
    {
        public readonly int Rows = rows;
        public readonly double[] ColMajor = new double[rows * cols];
        public readonly double[] S = new double[Math.Min(rows, cols)];
        public readonly double[] U = new double[rows * rows];
        public readonly double[] VT = new double[cols * cols];
    }
}

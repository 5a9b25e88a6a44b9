using System.Numerics;
using PrecisionLS.Numerics;

namespace PrecisionLS.Tasks;

/// <summary>
/// Options of the Gaussian sampler (REFERENCE §1), under the authors' config key names.
/// Defaults leave the sampler plain: x ~ N(0, I).
/// </summary>
/// <param name="normalize">Scale every token (row of x) to unit Euclidean norm.</param>
/// <param name="scale">Factor applied to x after normalize (finite; default 1).</param>
public sealed record GaussianOptions(bool normalize = false, double scale = 1.0)
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the bad key and the values it accepts.</summary>
    public void Validate()
    {
        if (!double.IsFinite(scale))
            throw new ArgumentException($"scale = {scale}: accepted values are finite numbers (default 1.0)", nameof(scale));
    }
}

/// <summary>
/// Draws Gaussian token sequences (REFERENCE §1): per example x ~ N(0, I) of shape [L, D], transformed by
/// <see cref="GaussianOptions"/>; the data of the primitive tasks.
/// </summary>
/// <remarks>
/// <para>Draw order (fixed, so a seed reproduces a run): for each example in turn, one
/// <see cref="Rng.FillGaussian(Span{double})"/> call over L·D values, x row-major. When L·D is odd the second value
/// of the last Box-Muller pair is discarded.</para>
/// <para>Transformations, in the authors' order: each row is normalised over all D columns (normalize), then
/// multiplied by scale, then the truncated dims (columns &gt;= the live dims of a curriculum) are zeroed. As in the
/// authors' sampler, normalisation happens before truncation, so a truncated row is not unit-norm.</para>
/// <para>Values are drawn and transformed in double and converted to <typeparamref name="T"/> on output.
/// Sampling reuses one per-example buffer, so it allocates nothing after the first call. Not thread-safe: one
/// sampler per thread.</para>
/// </remarks>
public sealed class GaussianSampler<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly double[] _x;   // [L, D] row-major (one example)
    private int _points;            // tokens of the example drawn last

    /// <summary>Creates a sampler for sequences of <paramref name="nPoints"/> tokens of width <paramref name="nDims"/>.</summary>
    /// <param name="nDims">n_dims, D: token width.</param>
    /// <param name="nPoints">n_points, L: the largest number of tokens.</param>
    /// <param name="options">Sampler options (defaults when null).</param>
    /// <exception cref="ArgumentException">A size is not positive, or an option is out of range.</exception>
    public GaussianSampler(int nDims, int nPoints, GaussianOptions? options = null)
    {
        if (nDims < 1) throw new ArgumentException($"n_dims = {nDims}: must be >= 1", nameof(nDims));
        if (nPoints < 1) throw new ArgumentException($"n_points = {nPoints}: must be >= 1", nameof(nPoints));
        Options = options ?? new GaussianOptions();
        Options.Validate();
        NDims = nDims;
        NPoints = nPoints;
        _x = new double[nPoints * nDims];
        _points = nPoints;
    }

    /// <summary>D, the token width.</summary>
    public int NDims { get; }
    /// <summary>L, the largest number of tokens.</summary>
    public int NPoints { get; }
    /// <summary>The validated options.</summary>
    public GaussianOptions Options { get; }

    /// <summary>x of the example drawn last by <see cref="SampleExample"/>, [points, D] row-major.</summary>
    internal ReadOnlySpan<double> Example => _x.AsSpan(0, _points * NDims);

    /// <summary>
    /// Draws <paramref name="batch"/> examples into x [batch, points, D] (row-major), with
    /// <paramref name="points"/> tokens (0: all) and only the first <paramref name="dims"/> columns live (0: all).
    /// Overwrites the first batch·points·D elements of x.
    /// </summary>
    /// <exception cref="ArgumentException">x is too short, batch is negative or a size is out of range.</exception>
    public void Sample(Rng rng, int batch, Span<T> x, int points = 0, int dims = 0)
    {
        ArgumentNullException.ThrowIfNull(rng);
        if (batch < 0) throw new ArgumentException($"batch = {batch}: must be >= 0", nameof(batch));
        int l = points > 0 ? points : NPoints, n = l * NDims;
        if (x.Length < batch * n) throw new ArgumentException($"x has {x.Length} elements, needs at least {batch * n}", nameof(x));
        for (int e = 0; e < batch; e++)
        {
            SampleExample(rng, points, dims);
            ReadOnlySpan<double> src = Example;
            Span<T> dst = x.Slice(e * n, n);
            for (int k = 0; k < n; k++) dst[k] = T.CreateChecked(src[k]);
        }
    }

    /// <summary>
    /// Draws one example into the internal buffer (<see cref="Example"/>) with <paramref name="points"/> tokens
    /// (0: all) and only the first <paramref name="dims"/> columns live (0: all): as the authors'
    /// n_dims_truncated, the other columns are zeroed after normalize and scale.
    /// </summary>
    internal void SampleExample(Rng rng, int points = 0, int dims = 0)
    {
        int l = points > 0 ? points : NPoints, d = NDims;
        if (l > NPoints) throw new ArgumentException($"points = {l}: this sampler holds at most n_points = {NPoints}", nameof(points));
        int live = dims > 0 ? Math.Min(dims, d) : d;
        _points = l;
        Span<double> x = _x.AsSpan(0, l * d);
        rng.FillGaussian(x);                                   // REFERENCE §1: x ~ N(0, I), row-major

        if (Options.normalize)                                  // x_i <- x_i / |x_i| over all D columns
            for (int i = 0; i < l; i++)
            {
                Span<double> row = x.Slice(i * d, d);
                double ss = 0;
                foreach (double v in row) ss += v * v;
                double norm = Math.Sqrt(ss);
                for (int j = 0; j < d; j++) row[j] /= norm;
            }
        if (Options.scale != 1.0)
            for (int k = 0; k < x.Length; k++) x[k] *= Options.scale;
        if (live < d)                                           // truncated dims (curriculum): zero dead columns
            for (int i = 0; i < l; i++) x.Slice(i * d + live, d - live).Clear();
    }
}

using System.Numerics;
using PrecisionLS.Numerics;

namespace PrecisionLS.Tasks;

/// <summary>
/// least_squares (REFERENCE §1): from the equations [a_i, b_i] of a consistent system A x = b, predict the
/// solution x*.
/// </summary>
/// <remarks>
/// <para>Prompt [B, L, D+1]: token i = [a_i, b_i]. Target x* [B, 1, D], read at the last token (position L-1),
/// channels 0..D-1. Data from <see cref="LeastSquaresSampler{T}"/>: b = A x* exactly, so x* is the least-squares
/// solution (the unique one when A has full column rank; with fewer equations than live dims, early in a
/// curriculum, the target is still the drawn x*).</para>
/// <para>Worked example (D = 1, L = 2): A = [[1], [2]], x* = [3] gives b = [3, 6], the prompt [[1, 3], [2, 6]] and
/// the target [3].</para>
/// <para>Sample allocates nothing after construction (per-example buffers; scale_cond excepted, see the
/// sampler). Not thread-safe.</para>
/// </remarks>
public sealed class LeastSquaresTask<T> : TaskBase<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates the task for systems of <paramref name="nPoints"/> equations in <paramref name="nDims"/> unknowns.</summary>
    /// <param name="nDims">n_dims, D.</param>
    /// <param name="nPoints">n_points, L (the largest, when a curriculum grows it).</param>
    /// <param name="outDims">out_dims, the model's output width; at least D (the authors use D).</param>
    /// <param name="options">Sampler options (defaults when null).</param>
    /// <exception cref="ArgumentException">A size or an option is not accepted; the message names the key.</exception>
    public LeastSquaresTask(int nDims, int nPoints, int outDims, LeastSquaresOptions? options = null)
        : base("least_squares", nPoints, nDims, nDims + 1, outDims, 0, nDims)
    {
        Sampler = new LeastSquaresSampler<T>(nDims, nPoints, options);   // validates the options
    }

    /// <summary>D, unknowns per problem.</summary>
    public int NDims => MaxDims;
    /// <summary>The data sampler (its options included).</summary>
    public LeastSquaresSampler<T> Sampler { get; }

    /// <inheritdoc/>
    public override int PromptLengthFor(int points) => points;

    /// <inheritdoc/>
    protected override int[] ReadPositionsFor(int points) => [points - 1];

    /// <inheritdoc/>
    /// <remarks>Draws each example with <see cref="LeastSquaresSampler{T}"/> at the current size (its draw
    /// order; x_init is drawn and unused), then builds it as <see cref="BuildPrompt"/> does.</remarks>
    public override void Sample(Rng rng, int batch, Span<T> prompt, Span<T> target)
    {
        ArgumentNullException.ThrowIfNull(rng);
        CheckSample(batch, prompt.Length, target.Length);
        int p = PromptLength * TokenDims;
        for (int e = 0; e < batch; e++)
        {
            Sampler.SampleExample(rng, Points, Dims);
            BuildExample(Sampler.ExampleA, Sampler.ExampleXStar, Sampler.ExampleB,
                prompt.Slice(e * p, p), target.Slice(e * TargetSize, TargetSize));
        }
    }

    /// <summary>
    /// Builds prompt [batch, L, D+1] and target [batch, 1, D] from given systems: a [batch, L, D], xStar [batch, D]
    /// (the solution, which is the target), b [batch, L], row-major, L the current number of points.
    /// Overwrites prompt and target.
    /// </summary>
    /// <exception cref="ArgumentException">A span is shorter than the batch needs.</exception>
    public void BuildPrompt(ReadOnlySpan<T> a, ReadOnlySpan<T> xStar, ReadOnlySpan<T> b, int batch, Span<T> prompt, Span<T> target)
    {
        int l = Points, d = NDims;
        CheckSample(batch, prompt.Length, target.Length);
        if (a.Length < batch * l * d) throw new ArgumentException($"a has {a.Length} elements, needs {batch * l * d}", nameof(a));
        if (xStar.Length < batch * d) throw new ArgumentException($"xStar has {xStar.Length} elements, needs {batch * d}", nameof(xStar));
        if (b.Length < batch * l) throw new ArgumentException($"b has {b.Length} elements, needs {batch * l}", nameof(b));
        int p = PromptLength * TokenDims;
        for (int e = 0; e < batch; e++)
            BuildExample(a.Slice(e * l * d, l * d), xStar.Slice(e * d, d), b.Slice(e * l, l),
                prompt.Slice(e * p, p), target.Slice(e * TargetSize, TargetSize));
    }

    /// <summary>One example: a [L, D], xStar [D], b [L] into prompt [L, D+1] and target [D].</summary>
    private void BuildExample<TIn>(ReadOnlySpan<TIn> a, ReadOnlySpan<TIn> xStar, ReadOnlySpan<TIn> b, Span<T> prompt, Span<T> target)
        where TIn : INumberBase<TIn>
    {
        int l = Points, d = NDims, w = TokenDims;
        for (int i = 0; i < l; i++)                        // REFERENCE §1 least_squares: token i = [a_i, b_i]
        {
            Span<T> token = prompt.Slice(i * w, w);
            for (int j = 0; j < d; j++) token[j] = T.CreateChecked(double.CreateChecked(a[i * d + j]));
            token[d] = T.CreateChecked(double.CreateChecked(b[i]));
        }
        for (int j = 0; j < d; j++) target[j] = T.CreateChecked(double.CreateChecked(xStar[j]));
    }
}

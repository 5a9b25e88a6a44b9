using System.Numerics;
using PrecisionLS.Numerics;

namespace PrecisionLS.Tasks;

/// <summary>
/// least_squares_icl (REFERENCE §1): in-context linear regression. From the pairs (a_i, b_i = a_i·x*) seen so far,
/// predict b for a new a; x* is never shown.
/// </summary>
/// <remarks>
/// <para>setting "neighboring" (default, fixture task_least_squares_icl): prompt [B, 2L-1, D+1] with token 2i =
/// [a_i, 0] and token 2i+1 = [0, b_i] for i &lt; L-1 (the last b is never shown). Target b [B, L, 1], read at the
/// even positions 0, 2, ..., 2L-2 (where a_i has just arrived), in the LAST output channel.</para>
/// <para>setting "concat" (the fixture's aux layout): prompt [B, L, D+1] with token i = [a_i, b_i] and the last b
/// zeroed. Target b_L [B, 1, 1], read at the last position, in the last output channel.</para>
/// <para>The loss reads output channel out_dims - 1 only (ReadChannelStart = out_dims - 1, one channel); the
/// authors use out_dims = 1. Data from <see cref="LeastSquaresSampler{T}"/> (x_init drawn and unused).</para>
/// <para>Worked example (D = 1, L = 2, neighboring): A = [[1], [2]], x* = [3] gives b = [3, 6], the prompt
/// [[1, 0], [0, 3], [2, 0]] and the target [[3], [6]] read at positions 0 and 2; concat gives the prompt
/// [[1, 3], [2, 0]] and the target [[6]] read at position 1.</para>
/// <para>Sample allocates nothing after construction (per-example buffers; scale_cond excepted, see the
/// sampler). Not thread-safe.</para>
/// </remarks>
public sealed class LeastSquaresIclTask<T> : TaskBase<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Settings this task accepts.</summary>
    public static readonly IReadOnlyList<string> Settings = ["neighboring", "concat"];

    private readonly bool _neighboring;

    /// <summary>Creates the task for problems with <paramref name="nPoints"/> pairs in <paramref name="nDims"/> dimensions.</summary>
    /// <param name="nDims">n_dims, D.</param>
    /// <param name="nPoints">n_points, L (the largest, when a curriculum grows it).</param>
    /// <param name="outDims">out_dims, the model's output width (&gt;= 1; the authors use 1); the loss reads its last channel.</param>
    /// <param name="options">Sampler options (defaults when null).</param>
    /// <param name="setting">"neighboring" (default) or "concat".</param>
    /// <exception cref="ArgumentException">A size, the setting or an option is not accepted; the message names the key.</exception>
    public LeastSquaresIclTask(int nDims, int nPoints, int outDims, LeastSquaresOptions? options = null, string setting = "neighboring")
        : base("least_squares_icl", nPoints, nDims, nDims + 1, outDims, Math.Max(outDims - 1, 0), 1)
    {
        if (setting is not ("neighboring" or "concat"))
            throw new ArgumentException($"setting = '{setting}': accepted values are 'neighboring' and 'concat'", nameof(setting));
        Sampler = new LeastSquaresSampler<T>(nDims, nPoints, options);   // validates the options
        Setting = setting;
        _neighboring = setting == "neighboring";
    }

    /// <summary>"neighboring" or "concat".</summary>
    public string Setting { get; }
    /// <summary>D, the dimension of each a_i.</summary>
    public int NDims => MaxDims;
    /// <summary>The data sampler (its options included).</summary>
    public LeastSquaresSampler<T> Sampler { get; }

    /// <inheritdoc/>
    public override int PromptLengthFor(int points) => _neighboring ? 2 * points - 1 : points;

    /// <inheritdoc/>
    protected override int[] ReadPositionsFor(int points) =>
        _neighboring ? Enumerable.Range(0, points).Select(i => 2 * i).ToArray() : [points - 1];

    /// <inheritdoc/>
    /// <remarks>Draws each example with <see cref="LeastSquaresSampler{T}"/> at the current size (its draw
    /// order), then builds it as <see cref="BuildPrompt"/> does.</remarks>
    public override void Sample(Rng rng, int batch, Span<T> prompt, Span<T> target)
    {
        ArgumentNullException.ThrowIfNull(rng);
        CheckSample(batch, prompt.Length, target.Length);
        int p = PromptLength * TokenDims;
        for (int e = 0; e < batch; e++)
        {
            Sampler.SampleExample(rng, Points, Dims);
            BuildExample(Sampler.ExampleA, Sampler.ExampleB, prompt.Slice(e * p, p), target.Slice(e * TargetSize, TargetSize));
        }
    }

    /// <summary>
    /// Builds prompt [batch, PromptLength, D+1] and target [batch, ReadPositions.Length, 1] from given problems:
    /// a [batch, L, D], b [batch, L] (row-major, L the current number of points). Overwrites prompt and target.
    /// </summary>
    /// <exception cref="ArgumentException">A span is shorter than the batch needs.</exception>
    public void BuildPrompt(ReadOnlySpan<T> a, ReadOnlySpan<T> b, int batch, Span<T> prompt, Span<T> target)
    {
        int l = Points, d = NDims;
        CheckSample(batch, prompt.Length, target.Length);
        if (a.Length < batch * l * d) throw new ArgumentException($"a has {a.Length} elements, needs {batch * l * d}", nameof(a));
        if (b.Length < batch * l) throw new ArgumentException($"b has {b.Length} elements, needs {batch * l}", nameof(b));
        int p = PromptLength * TokenDims;
        for (int e = 0; e < batch; e++)
            BuildExample(a.Slice(e * l * d, l * d), b.Slice(e * l, l), prompt.Slice(e * p, p), target.Slice(e * TargetSize, TargetSize));
    }

    /// <summary>One example: a [L, D], b [L] into prompt [PromptLength, D+1] and target [ReadPositions.Length].</summary>
    private void BuildExample<TIn>(ReadOnlySpan<TIn> a, ReadOnlySpan<TIn> b, Span<T> prompt, Span<T> target)
        where TIn : INumberBase<TIn>
    {
        int l = Points, d = NDims, w = TokenDims;
        prompt[..(PromptLength * w)].Clear();
        // neighboring: a_i at token 2i, b_i at token 2i+1 (last channel); concat: [a_i, b_i] at token i.
        int aStride = _neighboring ? 2 : 1;
        for (int i = 0; i < l; i++)
        {
            Span<T> token = prompt.Slice(i * aStride * w, w);
            for (int j = 0; j < d; j++) token[j] = T.CreateChecked(double.CreateChecked(a[i * d + j]));
        }
        for (int i = 0; i < l - 1; i++)                     // the last b is the query: never in the prompt
        {
            int row = _neighboring ? 2 * i + 1 : i;
            prompt[row * w + d] = T.CreateChecked(double.CreateChecked(b[i]));
        }
        if (_neighboring)
            for (int i = 0; i < l; i++) target[i] = T.CreateChecked(double.CreateChecked(b[i]));
        else
            target[0] = T.CreateChecked(double.CreateChecked(b[l - 1]));
    }
}

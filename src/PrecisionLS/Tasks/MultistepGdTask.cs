using System.Numerics;
using PrecisionLS.Numerics;

namespace PrecisionLS.Tasks;

/// <summary>
/// multistep_gd (REFERENCE §1): from a least-squares problem and a starting point, predict the point reached
/// after k steps of gradient descent x &lt;- x - eta (1/L) Aᵀ(A x - b) from x_init.
/// </summary>
/// <remarks>
/// <para>Prompt [B, L+1, D+1]: tokens 0..L-1 = [a_i, b_i], token L = [x_init, 0] (x_init LAST, unlike
/// explicit_gradient). Target x_k [B, 1, D], read at the last token (position L), channels 0..D-1. Data from
/// <see cref="LeastSquaresSampler{T}"/>.</para>
/// <para>The k = num_iters steps follow the authors' order: r = A x_j - b, g = Aᵀ r, x_{j+1} = x_j - eta g / L,
/// computed in double. For k = 1 the target is x_init - eta · (the explicit_gradient target).</para>
/// <para>Worked example (D = 1, L = 2, k = 1, eta = 0.5): A = [[1], [2]], b = [1, 2], x_init = [0] gives the
/// prompt [[1, 1], [2, 2], [0, 0]], g = (1/2)(1·(0 - 1) + 2·(0 - 2)) = -2.5 and the target 0 - 0.5·(-2.5) = 1.25.</para>
/// <para>Sample allocates nothing after construction (per-example buffers; scale_cond excepted, see the
/// sampler). Not thread-safe.</para>
/// </remarks>
public sealed class MultistepGdTask<T> : TaskBase<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly double[] _iterates;   // [k, D]: x_1..x_k of one example
    private readonly double[] _residual;   // [L]

    /// <summary>Creates the task for problems with <paramref name="nPoints"/> equations in <paramref name="nDims"/> unknowns.</summary>
    /// <param name="nDims">n_dims, D.</param>
    /// <param name="nPoints">n_points, L (the largest, when a curriculum grows it).</param>
    /// <param name="outDims">out_dims, the model's output width; at least D (the authors use D).</param>
    /// <param name="options">Sampler options (defaults when null).</param>
    /// <param name="numIters">num_iters, k: gradient steps (&gt;= 1; default 1, the paper preset uses 4).</param>
    /// <param name="stepSize">step_size, eta: finite and &gt; 0 (default 0.5).</param>
    /// <exception cref="ArgumentException">A size, a kwarg or an option is not accepted; the message names the key.</exception>
    public MultistepGdTask(int nDims, int nPoints, int outDims, LeastSquaresOptions? options = null, int numIters = 1, double stepSize = 0.5)
        : base("multistep_gd", nPoints, nDims, nDims + 1, outDims, 0, nDims)
    {
        if (numIters < 1)
            throw new ArgumentException($"num_iters = {numIters}: accepted values are integers >= 1 (default 1)", "num_iters");
        if (!(double.IsFinite(stepSize) && stepSize > 0))
            throw new ArgumentException($"step_size = {stepSize}: accepted values are finite numbers > 0 (default 0.5)", "step_size");
        Sampler = new LeastSquaresSampler<T>(nDims, nPoints, options);   // validates the options
        NumIters = numIters;
        StepSize = stepSize;
        _iterates = new double[numIters * nDims];
        _residual = new double[nPoints];
    }

    /// <summary>num_iters, k.</summary>
    public int NumIters { get; }
    /// <summary>step_size, eta.</summary>
    public double StepSize { get; }
    /// <summary>D, unknowns per problem.</summary>
    public int NDims => MaxDims;
    /// <summary>The data sampler (its options included).</summary>
    public LeastSquaresSampler<T> Sampler { get; }

    /// <inheritdoc/>
    public override int PromptLengthFor(int points) => points + 1;

    /// <inheritdoc/>
    protected override int[] ReadPositionsFor(int points) => [points];

    /// <inheritdoc/>
    /// <remarks>Draws each example with <see cref="LeastSquaresSampler{T}"/> at the current size (its draw
    /// order; x* is drawn and enters only through b), then builds it as <see cref="BuildPrompt"/> does.</remarks>
    public override void Sample(Rng rng, int batch, Span<T> prompt, Span<T> target)
    {
        ArgumentNullException.ThrowIfNull(rng);
        CheckSample(batch, prompt.Length, target.Length);
        int p = PromptLength * TokenDims;
        for (int e = 0; e < batch; e++)
        {
            Sampler.SampleExample(rng, Points, Dims);
            BuildExample(Sampler.ExampleA, Sampler.ExampleXInit, Sampler.ExampleB,
                prompt.Slice(e * p, p), target.Slice(e * TargetSize, TargetSize), default);
        }
    }

    /// <summary>
    /// Builds prompt [batch, L+1, D+1], target [batch, 1, D] and, when <paramref name="iterates"/> is not empty,
    /// the iterates x_1..x_k [batch, k, D] from given problems: a [batch, L, D], xInit [batch, D], b [batch, L]
    /// (row-major, L the current number of points). Overwrites prompt, target and iterates.
    /// </summary>
    /// <exception cref="ArgumentException">A span is shorter than the batch needs.</exception>
    public void BuildPrompt(ReadOnlySpan<T> a, ReadOnlySpan<T> xInit, ReadOnlySpan<T> b, int batch, Span<T> prompt, Span<T> target,
        Span<T> iterates = default)
    {
        int l = Points, d = NDims, k = NumIters;
        CheckSample(batch, prompt.Length, target.Length);
        if (a.Length < batch * l * d) throw new ArgumentException($"a has {a.Length} elements, needs {batch * l * d}", nameof(a));
        if (xInit.Length < batch * d) throw new ArgumentException($"xInit has {xInit.Length} elements, needs {batch * d}", nameof(xInit));
        if (b.Length < batch * l) throw new ArgumentException($"b has {b.Length} elements, needs {batch * l}", nameof(b));
        if (!iterates.IsEmpty && iterates.Length < batch * k * d)
            throw new ArgumentException($"iterates has {iterates.Length} elements, needs batch·{k}·{d} = {batch * k * d}", nameof(iterates));
        int p = PromptLength * TokenDims;
        for (int e = 0; e < batch; e++)
            BuildExample(a.Slice(e * l * d, l * d), xInit.Slice(e * d, d), b.Slice(e * l, l),
                prompt.Slice(e * p, p), target.Slice(e * TargetSize, TargetSize),
                iterates.IsEmpty ? default : iterates.Slice(e * k * d, k * d));
    }

    /// <summary>One example: a [L, D], xInit [D], b [L] into prompt [L+1, D+1], target [D] and (if not empty) iterates [k, D].</summary>
    private void BuildExample<TIn>(ReadOnlySpan<TIn> a, ReadOnlySpan<TIn> xInit, ReadOnlySpan<TIn> b, Span<T> prompt, Span<T> target,
        Span<T> iterates) where TIn : INumberBase<TIn>
    {
        int l = Points, d = NDims, w = TokenDims, k = NumIters;
        // REFERENCE §1 multistep_gd prompt: tokens 0..L-1 = [a_i, b_i], token L = [x_init, 0]
        for (int i = 0; i < l; i++)
        {
            Span<T> token = prompt.Slice(i * w, w);
            for (int j = 0; j < d; j++) token[j] = T.CreateChecked(double.CreateChecked(a[i * d + j]));
            token[d] = T.CreateChecked(double.CreateChecked(b[i]));
        }
        Span<T> last = prompt.Slice(l * w, w);
        for (int j = 0; j < d; j++) last[j] = T.CreateChecked(double.CreateChecked(xInit[j]));
        last[d] = T.Zero;

        // REFERENCE §1: x_{s+1} = x_s - eta (1/L) Aᵀ(A x_s - b), x_0 = x_init; _iterates row s holds x_{s+1}.
        Span<double> r = _residual.AsSpan(0, l);
        for (int s = 0; s < k; s++)
        {
            Span<double> next = _iterates.AsSpan(s * d, d);
            for (int j = 0; j < d; j++) next[j] = s == 0 ? double.CreateChecked(xInit[j]) : _iterates[(s - 1) * d + j];
            for (int i = 0; i < l; i++)
            {
                double acc = 0;
                for (int j = 0; j < d; j++) acc += double.CreateChecked(a[i * d + j]) * next[j];
                r[i] = acc - double.CreateChecked(b[i]);
            }
            for (int j = 0; j < d; j++)
            {
                double g = 0;
                for (int i = 0; i < l; i++) g += double.CreateChecked(a[i * d + j]) * r[i];
                next[j] -= StepSize * g / l;
            }
        }
        for (int j = 0; j < d; j++) target[j] = T.CreateChecked(_iterates[(k - 1) * d + j]);
        if (!iterates.IsEmpty)
            for (int m = 0; m < k * d; m++) iterates[m] = T.CreateChecked(_iterates[m]);
    }
}

using System.Numerics;
using PrecisionLS.Numerics;

namespace PrecisionLS.Tasks;

/// <summary>
/// explicit_gradient (REFERENCE §1): from a least-squares problem and a starting point, predict the gradient
/// g = (1/L) Aᵀ(A x_init - b) of the loss (1/2L)|A x - b|² at x_init.
/// </summary>
/// <remarks>
/// <para>Prompt [B, L+1, D+1]: token 0 = [x_init, 0], tokens 1..L = [a_i, b_i]. Data from
/// <see cref="LeastSquaresSampler{T}"/>.</para>
/// <para>setting "last": target g [B, D], read at the last token (position L), channels 0..D-1.</para>
/// <para>setting "all": target [B, L, D], row j = (1/(j+1)) Σ_{i&lt;=j} a_i (a_i·x_init - b_i), the gradient over the
/// first j+1 equations, read at positions 1..L (position j+1 is the first one a causal model has seen a_j at).
/// The authors' code reads "all" at positions 0..L-1 instead, one token before a_j arrives; this follows the
/// fixture's target_all values and reads where they are computable.</para>
/// <para>Worked example (D = 1, L = 2): A = [[1], [2]], x* = [1], b = [1, 2], x_init = [0] gives the prompt
/// [[0, 0], [1, 1], [2, 2]] and g = (1/2)(1·(0 - 1) + 2·(0 - 2)) = -2.5.</para>
/// <para>Targets are computed in double and converted to <typeparamref name="T"/>. Sample allocates nothing after
/// construction (per-example buffers; scale_cond excepted, see the sampler). Not thread-safe.</para>
/// </remarks>
public sealed class ExplicitGradientTask<T> : TaskBase<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Settings this task accepts.</summary>
    public static readonly IReadOnlyList<string> Settings = ["last", "all"];

    private readonly double[] _acc;       // [D]: running Σ a_i r_i of one example

    /// <summary>Creates the task for problems with <paramref name="nPoints"/> equations in <paramref name="nDims"/> unknowns.</summary>
    /// <param name="nDims">n_dims, D.</param>
    /// <param name="nPoints">n_points, L (the largest, when a curriculum grows it).</param>
    /// <param name="outDims">out_dims, the model's output width; must equal D.</param>
    /// <param name="options">Sampler options (defaults when null).</param>
    /// <param name="setting">"last" (default) or "all".</param>
    /// <exception cref="ArgumentException">A size, the setting or an option is not accepted; the message names the key.</exception>
    public ExplicitGradientTask(int nDims, int nPoints, int outDims, LeastSquaresOptions? options = null, string setting = "last")
        : base("explicit_gradient", nPoints, nDims, nDims + 1, outDims, 0, CheckOutDims(nDims, outDims))
    {
        if (setting is not ("last" or "all"))
            throw new ArgumentException($"setting = '{setting}': accepted values are 'last' and 'all'", nameof(setting));
        Sampler = new LeastSquaresSampler<T>(nDims, nPoints, options);   // validates n_dims, n_points, options
        Setting = setting;
        _acc = new double[nDims];
    }

    private static int CheckOutDims(int nDims, int outDims) => outDims == nDims ? nDims
        : throw new ArgumentException(
            $"out_dims = {outDims}: explicit_gradient reads the D = n_dims = {nDims} gradient channels, so out_dims must equal n_dims",
            "outDims");

    /// <summary>"last" or "all".</summary>
    public string Setting { get; }
    /// <summary>D, unknowns per problem.</summary>
    public int NDims => MaxDims;
    /// <summary>L, equations per problem at the current size.</summary>
    public int NPoints => Points;
    /// <summary>The data sampler (its options included).</summary>
    public LeastSquaresSampler<T> Sampler { get; }

    /// <inheritdoc/>
    public override int PromptLengthFor(int points) => points + 1;

    /// <inheritdoc/>
    protected override int[] ReadPositionsFor(int points) =>
        Setting == "all" ? Enumerable.Range(1, points).ToArray() : [points];

    /// <inheritdoc/>
    /// <remarks>Draws each example with <see cref="LeastSquaresSampler{T}"/> (its draw order), then builds it as
    /// <see cref="BuildPrompt"/> does.</remarks>
    public override void Sample(Rng rng, int batch, Span<T> prompt, Span<T> target)
    {
        ArgumentNullException.ThrowIfNull(rng);
        CheckSample(batch, prompt.Length, target.Length);
        int p = PromptLength * TokenDims;
        for (int e = 0; e < batch; e++)
        {
            Sampler.SampleExample(rng, Points, Dims);
            BuildExample(Sampler.ExampleA, Sampler.ExampleXInit, Sampler.ExampleB,
                prompt.Slice(e * p, p), target.Slice(e * TargetSize, TargetSize));
        }
    }

    /// <summary>
    /// Builds prompt [batch, L+1, D+1] and target [batch, TargetSize] from given problems:
    /// a [batch, L, D], xInit [batch, D], b [batch, L] (row-major). Overwrites prompt and target.
    /// </summary>
    /// <exception cref="ArgumentException">A span is shorter than the batch needs.</exception>
    public void BuildPrompt(ReadOnlySpan<T> a, ReadOnlySpan<T> xInit, ReadOnlySpan<T> b, int batch, Span<T> prompt, Span<T> target)
    {
        int l = NPoints, d = NDims;
        CheckSample(batch, prompt.Length, target.Length);
        if (a.Length < batch * l * d) throw new ArgumentException($"a has {a.Length} elements, needs {batch * l * d}", nameof(a));
        if (xInit.Length < batch * d) throw new ArgumentException($"xInit has {xInit.Length} elements, needs {batch * d}", nameof(xInit));
        if (b.Length < batch * l) throw new ArgumentException($"b has {b.Length} elements, needs {batch * l}", nameof(b));
        int p = PromptLength * TokenDims;
        for (int e = 0; e < batch; e++)
            BuildExample(a.Slice(e * l * d, l * d), xInit.Slice(e * d, d), b.Slice(e * l, l),
                prompt.Slice(e * p, p), target.Slice(e * TargetSize, TargetSize));
    }

    /// <summary>One example: a [L, D], xInit [D], b [L] into prompt [L+1, D+1] and target [TargetSize].</summary>
    private void BuildExample<TIn>(ReadOnlySpan<TIn> a, ReadOnlySpan<TIn> xInit, ReadOnlySpan<TIn> b, Span<T> prompt, Span<T> target)
        where TIn : INumberBase<TIn>
    {
        int l = NPoints, d = NDims, w = TokenDims;
        // REFERENCE §1 explicit_gradient prompt: token 0 = [x_init, 0], tokens 1..L = [a_i, b_i]
        for (int j = 0; j < d; j++) prompt[j] = T.CreateChecked(double.CreateChecked(xInit[j]));
        prompt[d] = T.Zero;
        for (int i = 0; i < l; i++)
        {
            Span<T> token = prompt.Slice((i + 1) * w, w);
            for (int j = 0; j < d; j++) token[j] = T.CreateChecked(double.CreateChecked(a[i * d + j]));
            token[d] = T.CreateChecked(double.CreateChecked(b[i]));
        }

        // REFERENCE §1: g = (1/L) Aᵀ(A x_init - b) = (1/L) Σ_i a_i r_i with r_i = a_i·x_init - b_i;
        // "all" writes the running mean (1/(j+1)) Σ_{i<=j} a_i r_i after each equation j.
        Span<double> acc = _acc;
        acc.Clear();
        bool all = Setting == "all";
        for (int i = 0; i < l; i++)
        {
            double r = 0;
            for (int j = 0; j < d; j++) r += double.CreateChecked(a[i * d + j]) * double.CreateChecked(xInit[j]);
            r -= double.CreateChecked(b[i]);
            for (int j = 0; j < d; j++) acc[j] += double.CreateChecked(a[i * d + j]) * r;
            if (all)
                for (int j = 0; j < d; j++) target[i * d + j] = T.CreateChecked(acc[j] / (i + 1));
        }
        if (!all)
            for (int j = 0; j < d; j++) target[j] = T.CreateChecked(acc[j] / l);
    }
}

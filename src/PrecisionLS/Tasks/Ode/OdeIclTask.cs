using System.Numerics;

namespace PrecisionLS.Tasks;

/// <summary>
/// ode_icl (REFERENCE §1 ODE task; the authors' ode_operator_icl, ODEOperatorICL; fixture task_ode_icl): in-context
/// learning of an ODE solution operator. A row holds L equations of one operator with different forcings c_i and
/// initial values u0_i; the model predicts every u_i(t*) from the tokens before it.
/// </summary>
/// <remarks>
/// <para>Prompt [B, 2L-1, Dn+3], interleaved like least_squares_icl: token 2i = [c_eval_i, u0_i, 1, 0],
/// token 2i+1 = [0, ..., 0, u_i(t*)] for i &lt; L-1 (the last answer is not shown). Target u(t*) [B, L, 1], read at
/// the even positions 0, 2, ..., 2L-2 in the LAST output channel. With causal mixing, position 2i has seen the
/// answers of equations 0..i-1 and the inputs of equation i.</para>
/// <para>Worked example (Dn = 2, L = 2): c_eval = [[1, 2], [3, 4]], u0 = [5, 6], u(t*) = [7, 8] gives tokens
/// [1, 2, 5, 1, 0], [0, 0, 0, 0, 7], [3, 4, 6, 1, 0] and the target [7, 8].</para>
/// <para>The authors' config (odes_icl.yaml): n_dims 21 (Dn), in_dims 24, out_dims 1, n_positions 50, L = 25,
/// data_kwargs c_sampling equispaced, eqn_class 0, operator_scale 0.1, u0_scale 1.</para>
/// <para>Sample allocates nothing after construction (c_sampling "randt" excepted). Not thread-safe.</para>
/// </remarks>
public sealed class OdeIclTask<T> : OdeTaskBase<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates the task for prompts of <paramref name="nPoints"/> equations whose forcing is shown at
    /// <paramref name="nDims"/> points.</summary>
    /// <param name="nDims">n_dims, Dn evaluation points of c per token (token width Dn + 3).</param>
    /// <param name="nPoints">n_points, L equations per prompt (the largest, when a curriculum changes it).</param>
    /// <param name="outDims">out_dims, the model's output width (>= 1; the loss reads its last channel).</param>
    /// <param name="options">Sampler options, the authors' data_kwargs (defaults when null).</param>
    /// <param name="noiseVariance">noise_variance task kwarg: standard deviation of the noise added to the u values
    /// shown in the prompt (default 0).</param>
    /// <exception cref="ArgumentException">A size or option is not accepted; the message names the key.</exception>
    public OdeIclTask(int nDims, int nPoints, int outDims, OdeOperatorOptions? options = null, double noiseVariance = 0)
        : base("ode_icl", nDims, nPoints, outDims, options, noiseVariance) { }

    /// <inheritdoc/>
    public override int PromptLengthFor(int points) => 2 * points - 1;

    /// <inheritdoc/>
    protected override int[] ReadPositionsFor(int points)
    {
        var reads = new int[points];
        for (int i = 0; i < points; i++) reads[i] = 2 * i;
        return reads;
    }

    /// <summary>
    /// Builds prompt [batch, 2L-1, Dn+3] and target [batch, L, 1] from given problems (noiseless): c_eval
    /// [batch, L, Dn], u0 [batch, L], the solutions u_cheb [batch, L, 41] on the N = 40 Chebyshev grid and one
    /// query point per row [batch]; the target is u_cheb interpolated at the row's query point. Overwrites
    /// prompt and target.
    /// </summary>
    /// <exception cref="ArgumentException">A size is not positive or a span is shorter than the batch needs.</exception>
    public static void BuildPrompt(ReadOnlySpan<double> cEval, ReadOnlySpan<double> u0, ReadOnlySpan<double> uCheb,
        ReadOnlySpan<double> queryPoints, int batch, int points, int nDims, Span<T> prompt, Span<T> target)
    {
        int p = (2 * points - 1) * (nDims + 3);
        double[] uEval = CheckAndEvaluate(cEval, u0, uCheb, queryPoints, batch, points, nDims,
            prompt.Length, batch * p, target.Length, batch * points);
        for (int e = 0; e < batch; e++)
        {
            ReadOnlySpan<double> u = uEval.AsSpan(e * points, points);
            LayoutExample(cEval.Slice(e * points * nDims, points * nDims), u0.Slice(e * points, points), u, u,
                points, nDims, prompt.Slice(e * p, p), target.Slice(e * points, points));
        }
    }

    private protected override void Layout(ReadOnlySpan<double> cEval, ReadOnlySpan<double> u0, ReadOnlySpan<double> uPrompt,
        ReadOnlySpan<double> uTarget, int points, int nDims, Span<T> prompt, Span<T> target) =>
        LayoutExample(cEval, u0, uPrompt, uTarget, points, nDims, prompt, target);

    // REFERENCE §1 ode_icl: token 2i = [c_eval_i, u0_i, 1, 0], token 2i+1 = [0.., u_i] (i < L-1); target u [L].
    private static void LayoutExample(ReadOnlySpan<double> cEval, ReadOnlySpan<double> u0, ReadOnlySpan<double> uPrompt,
        ReadOnlySpan<double> uTarget, int points, int nDims, Span<T> prompt, Span<T> target)
    {
        int w = nDims + 3;
        prompt[..((2 * points - 1) * w)].Clear();
        for (int i = 0; i < points; i++)
        {
            Span<T> input = prompt.Slice(2 * i * w, w);
            for (int j = 0; j < nDims; j++) input[j] = T.CreateChecked(cEval[i * nDims + j]);
            input[nDims] = T.CreateChecked(u0[i]);
            input[nDims + 1] = T.One;
            if (i < points - 1) prompt[(2 * i + 1) * w + w - 1] = T.CreateChecked(uPrompt[i]);
            target[i] = T.CreateChecked(uTarget[i]);
        }
    }
}

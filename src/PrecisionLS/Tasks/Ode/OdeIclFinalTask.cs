using System.Numerics;

namespace PrecisionLS.Tasks;

/// <summary>
/// ode_icl_final (REFERENCE §1 ODE task; the authors' ode_operator_icl_final, ODEOperatorICLFinal; fixture
/// task_ode_icl, prompt_final): L equations of one operator, one token each; the model predicts u(t*) of the
/// last equation from the L-1 solved ones before it.
/// </summary>
/// <remarks>
/// <para>Prompt [B, L, Dn+3]: token i = [c_eval_i, u0_i, 1, u_i(t*)], the last token's u zeroed (the query).
/// Target u_{L-1}(t*) [B, 1, 1], read at the last position (L-1) in the LAST output channel.</para>
/// <para>Worked example (Dn = 2, L = 2): c_eval = [[1, 2], [3, 4]], u0 = [5, 6], u(t*) = [7, 8] gives tokens
/// [1, 2, 5, 1, 7], [3, 4, 6, 1, 0] and the target [8].</para>
/// <para>With eqn_class 1 (a2 = 0) u(t*) is linear in (c, u0, 1) for a fixed operator and t*, and nearly linear
/// in (c_eval, u0, 1) because c is smooth: the context tokens are the rows [a_i | b_i] of a least-squares problem
/// with 22 unknowns when Dn = 20 (the authors' least-squares and gradient-descent baselines).</para>
/// <para>The authors' config (odes_icl_final.yaml): n_dims 24 (the model's; Dn comes from the dims curriculum,
/// 21), in_dims 24, out_dims 1, n_positions 25, L = 25, data_kwargs c_sampling equispaced, eqn_class 1,
/// operator_scale 1, u0_scale 1, gp_length 0.1.</para>
/// <para>Sample allocates nothing after construction (c_sampling "randt" excepted). Not thread-safe.</para>
/// </remarks>
public sealed class OdeIclFinalTask<T> : OdeTaskBase<T> where T : unmanaged, IFloatingPointIeee754<T>
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
    public OdeIclFinalTask(int nDims, int nPoints, int outDims, OdeOperatorOptions? options = null, double noiseVariance = 0)
        : base("ode_icl_final", nDims, nPoints, outDims, options, noiseVariance) { }

    /// <inheritdoc/>
    public override int PromptLengthFor(int points) => points;

    /// <inheritdoc/>
    protected override int[] ReadPositionsFor(int points) => [points - 1];

    /// <summary>
    /// Builds prompt [batch, L, Dn+3] and target [batch, 1, 1] from given problems (noiseless): c_eval
    /// [batch, L, Dn], u0 [batch, L], the solutions u_cheb [batch, L, 41] on the N = 40 Chebyshev grid and one
    /// query point per row [batch]; u is u_cheb interpolated at the row's query point. Overwrites prompt and target.
    /// </summary>
    /// <exception cref="ArgumentException">A size is not positive or a span is shorter than the batch needs.</exception>
    public static void BuildPrompt(ReadOnlySpan<double> cEval, ReadOnlySpan<double> u0, ReadOnlySpan<double> uCheb,
        ReadOnlySpan<double> queryPoints, int batch, int points, int nDims, Span<T> prompt, Span<T> target)
    {
        int p = points * (nDims + 3);
        double[] uEval = CheckAndEvaluate(cEval, u0, uCheb, queryPoints, batch, points, nDims,
            prompt.Length, batch * p, target.Length, batch);
        for (int e = 0; e < batch; e++)
        {
            ReadOnlySpan<double> u = uEval.AsSpan(e * points, points);
            LayoutExample(cEval.Slice(e * points * nDims, points * nDims), u0.Slice(e * points, points), u, u,
                points, nDims, prompt.Slice(e * p, p), target.Slice(e, 1));
        }
    }

    private protected override void Layout(ReadOnlySpan<double> cEval, ReadOnlySpan<double> u0, ReadOnlySpan<double> uPrompt,
        ReadOnlySpan<double> uTarget, int points, int nDims, Span<T> prompt, Span<T> target) =>
        LayoutExample(cEval, u0, uPrompt, uTarget, points, nDims, prompt, target);

    // REFERENCE §1 ode_icl_final: token i = [c_eval_i, u0_i, 1, u_i], the last u zeroed; target u_{L-1}.
    private static void LayoutExample(ReadOnlySpan<double> cEval, ReadOnlySpan<double> u0, ReadOnlySpan<double> uPrompt,
        ReadOnlySpan<double> uTarget, int points, int nDims, Span<T> prompt, Span<T> target)
    {
        int w = nDims + 3;
        for (int i = 0; i < points; i++)
        {
            Span<T> token = prompt.Slice(i * w, w);
            for (int j = 0; j < nDims; j++) token[j] = T.CreateChecked(cEval[i * nDims + j]);
            token[nDims] = T.CreateChecked(u0[i]);
            token[nDims + 1] = T.One;
            token[nDims + 2] = i < points - 1 ? T.CreateChecked(uPrompt[i]) : T.Zero;
        }
        target[0] = T.CreateChecked(uTarget[points - 1]);
    }
}

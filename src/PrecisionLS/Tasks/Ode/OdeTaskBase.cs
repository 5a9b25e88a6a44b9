using System.Numerics;
using PrecisionLS.Numerics;

namespace PrecisionLS.Tasks;

/// <summary>
/// What the two in-context ODE tasks share (REFERENCE §1 ODE task): the sampler, the observation noise, the
/// sampling loop and the checks of the static prompt builders. Tokens are [c_eval (Dn), u0, 1, u], width Dn + 3;
/// the loss reads the LAST output channel.
/// </summary>
/// <remarks>
/// <para>Sizes: n_points = L equations per prompt (a curriculum may change it through SetSize);
/// n_dims = Dn, the number of evaluation points of c per token (fixed: it sets the token width, so the curriculum's
/// dims value is accepted in 1..Dn and ignored).</para>
/// <para>noise_variance (the authors' task kwarg) is a standard deviation despite its name: the u values shown in
/// the prompt are u + noise_variance · N(0, 1) (L draws per row, after the row's sampler draws, none when 0);
/// targets stay noiseless.</para>
/// </remarks>
public abstract class OdeTaskBase<T> : TaskBase<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly double[] _uPrompt;     // [L] u values shown in the prompt (noisy copy of u_eval)
    private readonly double[] _noise;       // [L]

    /// <param name="name">Config name.</param>
    /// <param name="nDims">n_dims, Dn evaluation points of c per token.</param>
    /// <param name="nPoints">n_points, L equations per prompt (the largest).</param>
    /// <param name="outDims">out_dims; the loss reads the last channel, out_dims - 1.</param>
    /// <param name="options">Sampler options (defaults when null).</param>
    /// <param name="noiseVariance">noise_variance: standard deviation of the noise on the prompt's u values.</param>
    private protected OdeTaskBase(string name, int nDims, int nPoints, int outDims, OdeOperatorOptions? options, double noiseVariance)
        : base(name, nPoints, CheckNDims(name, nDims), nDims + 3, outDims, CheckOutDims(name, outDims) - 1, 1)
    {
        if (!(double.IsFinite(noiseVariance) && noiseVariance >= 0))
            throw new ArgumentException(
                $"noise_variance = {noiseVariance}: accepted values are finite numbers >= 0 (the standard deviation of the noise on u; default 0)",
                "noise_variance");
        Sampler = new OdeOperatorSampler(nDims, nPoints, options);   // validates n_points and the options
        NoiseVariance = noiseVariance;
        _uPrompt = new double[nPoints];
        _noise = new double[nPoints];
    }

    private static int CheckNDims(string name, int nDims) => nDims >= 1 ? nDims
        : throw new ArgumentException($"n_dims = {nDims}: {name} shows c at n_dims points per token (Dn, 21 in the authors' configs); must be >= 1", "n_dims");

    private static int CheckOutDims(string name, int outDims) => outDims >= 1 ? outDims
        : throw new ArgumentException($"out_dims = {outDims}: {name} reads the last output channel, so out_dims must be >= 1 (the authors use 1)", "out_dims");

    /// <summary>Dn, evaluation points of c per token.</summary>
    public int NDims => MaxDims;
    /// <summary>noise_variance (a standard deviation, see the remarks).</summary>
    public double NoiseVariance { get; }
    /// <summary>The data sampler (its options included).</summary>
    public OdeOperatorSampler Sampler { get; }

    /// <inheritdoc/>
    /// <remarks>Per example: <see cref="OdeOperatorSampler.SampleExample"/> (its draw order), then the noise on the
    /// prompt's u values, then the layout of the concrete task.</remarks>
    public override void Sample(Rng rng, int batch, Span<T> prompt, Span<T> target)
    {
        ArgumentNullException.ThrowIfNull(rng);
        CheckSample(batch, prompt.Length, target.Length);
        int p = PromptLength * TokenDims, l = Points;
        for (int e = 0; e < batch; e++)
        {
            Sampler.SampleExample(rng, l);
            Span<double> uPrompt = _uPrompt.AsSpan(0, l);
            Sampler.UEval.CopyTo(uPrompt);
            if (NoiseVariance != 0)
            {
                Span<double> noise = _noise.AsSpan(0, l);
                rng.FillGaussian(noise);
                for (int i = 0; i < l; i++) uPrompt[i] += NoiseVariance * noise[i];
            }
            Layout(Sampler.CEval, Sampler.U0, uPrompt, Sampler.UEval, l, NDims,
                prompt.Slice(e * p, p), target.Slice(e * TargetSize, TargetSize));
        }
    }

    /// <summary>One example into prompt [PromptLength, Dn+3] and target [TargetSize]: c_eval [L, Dn], u0 [L],
    /// uPrompt [L] (what the prompt shows), uTarget [L] (noiseless).</summary>
    private protected abstract void Layout(ReadOnlySpan<double> cEval, ReadOnlySpan<double> u0, ReadOnlySpan<double> uPrompt,
        ReadOnlySpan<double> uTarget, int points, int nDims, Span<T> prompt, Span<T> target);

    /// <summary>Checks the inputs of a static BuildPrompt and returns u_eval [batch, L]: each row's u_cheb
    /// interpolated at its query point.</summary>
    private protected static double[] CheckAndEvaluate(ReadOnlySpan<double> cEval, ReadOnlySpan<double> u0, ReadOnlySpan<double> uCheb,
        ReadOnlySpan<double> queryPoints, int batch, int points, int nDims, int promptLength, int promptNeeded, int targetLength, int targetNeeded)
    {
        var grid = ChebyshevGrid.Default;
        int nc = grid.Size;
        if (batch < 0) throw new ArgumentException($"batch = {batch}: must be >= 0", nameof(batch));
        if (points < 1) throw new ArgumentException($"points = {points}: must be >= 1", nameof(points));
        if (nDims < 1) throw new ArgumentException($"n_dims = {nDims}: must be >= 1", nameof(nDims));
        Need(cEval.Length, batch * points * nDims, "cEval", "batch·L·Dn");
        Need(u0.Length, batch * points, "u0", "batch·L");
        Need(uCheb.Length, batch * points * nc, "uCheb", $"batch·L·{nc}");
        Need(queryPoints.Length, batch, "queryPoints", "batch");
        Need(promptLength, promptNeeded, "prompt", "batch·tokens·(Dn+3)");
        Need(targetLength, targetNeeded, "target", "the target size");
        var uEval = new double[batch * points];
        for (int e = 0; e < batch; e++)
            for (int i = 0; i < points; i++)
                uEval[e * points + i] = grid.Interpolate(uCheb.Slice((e * points + i) * nc, nc), queryPoints[e]);
        return uEval;
    }

    private static void Need(int length, int needed, string name, string formula)
    {
        if (length < needed) throw new ArgumentException($"{name} has {length} elements, needs {formula} = {needed}", name);
    }
}

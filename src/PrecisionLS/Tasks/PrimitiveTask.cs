using System.Collections.ObjectModel;
using System.Numerics;
using PrecisionLS.Numerics;

namespace PrecisionLS.Tasks;

/// <summary>
/// The primitive tasks (REFERENCE §1): identity, square, elementwise_multiply, read and linear, each a fixed map
/// applied token by token (read: across tokens) to Gaussian tokens x [L, D]; the prompt is x itself and the loss
/// reads every position.
/// </summary>
/// <remarks>
/// <para>Targets [L, C], read at positions 0..L-1, output channels 0..C-1:</para>
/// <list type="bullet">
/// <item>identity: y = x (C = D).</item>
/// <item>square: y = x² elementwise (C = D).</item>
/// <item>elementwise_multiply: y = x[:, :D/2] * x[:, D/2:] (C = D/2; D must be even).</item>
/// <item>read: y = x, except token j copies token i: y[j] = x[i] (C = D). i &lt;= j are drawn once per instance
/// from <c>seed</c>: two integers uniform in [0, n_points), ordered. A curriculum may not shrink the prompt to j
/// tokens or fewer (the copied token would be gone; the authors' code fails there too), so the smallest accepted
/// number of points is j + 1.</item>
/// <item>linear: y = x·c (C = 1), c = 3 N(0, I_D) drawn once per instance from <c>seed</c>; with sparsity s,
/// D - s entries of c, chosen uniformly without replacement, are set to zero.</item>
/// </list>
/// <para>Draw order of the per-instance constants (from <see cref="Rng.Derive"/>(seed, "task-read") or
/// (seed, "task-linear"), independent of the training stream): read draws NextInt(n_points) twice;
/// linear draws D Gaussians in one FillGaussian call, then, if s &lt; D, picks the zeroed indices by a partial
/// Fisher-Yates shuffle of 0..D-1 (D - s NextInt calls). Per-example data come from
/// <see cref="GaussianSampler{T}"/> (its draw order).</para>
/// <para>Worked example (identity, D = 2, L = 2): x = [[1, 2], [3, 4]] is both the prompt and the target;
/// square gives [[1, 4], [9, 16]]; elementwise_multiply gives [[2], [12]]; read with i = 0, j = 1 gives
/// [[1, 2], [1, 2]]; linear with c = [1, -1] gives [[-1], [-1]].</para>
/// <para>Targets are computed in double and converted to <typeparamref name="T"/>. Sample allocates nothing after
/// the first call. Not thread-safe.</para>
/// </remarks>
public sealed class PrimitiveTask<T> : TaskBase<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Names of the primitives this class implements, as in configs.</summary>
    public static readonly IReadOnlyList<string> Primitives = ["identity", "square", "elementwise_multiply", "read", "linear"];

    private enum Kind { Identity, Square, ElementwiseMultiply, Read, Linear }

    /// <summary>What the name and kwargs fix before the base class is built (validated, constants drawn).</summary>
    private sealed record Plan(string Name, Kind Kind, int Seed, int Channels, int MinPoints, int ReadI, int ReadJ, double[]? C);

    private readonly Kind _kind;
    private readonly int _readI, _readJ;
    private readonly double[]? _c;          // [D] linear coefficients

    /// <summary>Creates the primitive <paramref name="name"/> on <paramref name="nPoints"/> tokens of width <paramref name="nDims"/>.</summary>
    /// <param name="name">One of <see cref="Primitives"/>.</param>
    /// <param name="nDims">n_dims, D: token width (in_dims).</param>
    /// <param name="nPoints">n_points, L: tokens per prompt (the largest, when a curriculum grows it).</param>
    /// <param name="outDims">out_dims, the model's output width: at least D (identity, square, read), D/2
    /// (elementwise_multiply) or 1 (linear); the loss reads channels from 0.</param>
    /// <param name="options">Gaussian sampler options (defaults when null).</param>
    /// <param name="seed">read and linear: seed of the constants drawn once per instance (i, j or c); ignored by
    /// the others.</param>
    /// <param name="sparsity">linear only: number of nonzero entries of c, 1..D (null: D, dense).</param>
    /// <exception cref="ArgumentException">The name, a size, a kwarg or an option is not accepted; the message names the key.</exception>
    public PrimitiveTask(string name, int nDims, int nPoints, int outDims, GaussianOptions? options = null, int seed = 0, int? sparsity = null)
        : this(MakePlan(name, nDims, nPoints, seed, sparsity), nDims, nPoints, outDims, options)
    {
    }

    private PrimitiveTask(Plan plan, int nDims, int nPoints, int outDims, GaussianOptions? options)
        : base(plan.Name, nPoints, nDims, nDims, outDims, 0, plan.Channels, plan.MinPoints)
    {
        Sampler = new GaussianSampler<T>(nDims, nPoints, options);   // validates the options
        _kind = plan.Kind;
        _readI = plan.ReadI; _readJ = plan.ReadJ;
        _c = plan.C;
        Seed = plan.Seed;
        LinearCoefficients = _c is null ? null : Array.AsReadOnly(_c);
    }

    private static Plan MakePlan(string name, int nDims, int nPoints, int seed, int? sparsity)
    {
        Kind kind = name switch
        {
            "identity" => Kind.Identity,
            "square" => Kind.Square,
            "elementwise_multiply" => Kind.ElementwiseMultiply,
            "read" => Kind.Read,
            "linear" => Kind.Linear,
            _ => throw new ArgumentException(
                $"task = '{name}': accepted primitives are {string.Join(", ", Primitives.Select(p => $"'{p}'"))}", "task"),
        };
        if (nDims < 1) throw new ArgumentException($"n_dims = {nDims}: must be >= 1", "n_dims");
        if (nPoints < 1) throw new ArgumentException($"n_points = {nPoints}: must be >= 1", "n_points");
        if (kind == Kind.ElementwiseMultiply && nDims % 2 != 0)
            throw new ArgumentException(
                $"n_dims = {nDims}: elementwise_multiply multiplies the two halves of each token, so n_dims must be even", "n_dims");
        if (sparsity is int s && (kind != Kind.Linear || s < 1 || s > nDims))
            throw new ArgumentException(kind != Kind.Linear
                ? $"sparsity = {s}: only the linear primitive takes sparsity ('{name}' does not)"
                : $"sparsity = {s}: accepted values are null (dense) or 1..n_dims = 1..{nDims} nonzero coefficients", "sparsity");

        ulong streamSeed = unchecked((ulong)(long)seed);
        switch (kind)
        {
            case Kind.Read:
            {
                // The authors draw two integers in [0, n_points) and order them, so a causal model can copy i to j.
                var rng = Rng.Derive(streamSeed, "task-read");
                int first = rng.NextInt(nPoints), second = rng.NextInt(nPoints);
                int i = Math.Min(first, second), j = Math.Max(first, second);
                return new Plan(name, kind, seed, nDims, j + 1, i, j, null);
            }
            case Kind.Linear:
            {
                var rng = Rng.Derive(streamSeed, "task-linear");
                var c = new double[nDims];
                rng.FillGaussian(c.AsSpan());
                for (int k = 0; k < nDims; k++) c[k] *= 3.0;                   // c = 3 N(0, I_D)
                int zeros = nDims - (sparsity ?? nDims);
                if (zeros > 0)
                {
                    // Partial Fisher-Yates: the first `zeros` entries of a uniform permutation of 0..D-1.
                    var perm = Enumerable.Range(0, nDims).ToArray();
                    for (int k = 0; k < zeros; k++)
                    {
                        int pick = k + rng.NextInt(nDims - k);
                        (perm[k], perm[pick]) = (perm[pick], perm[k]);
                        c[perm[k]] = 0.0;
                    }
                }
                return new Plan(name, kind, seed, 1, 1, -1, -1, c);
            }
            case Kind.ElementwiseMultiply:
                return new Plan(name, kind, seed, nDims / 2, 1, -1, -1, null);
            default:
                return new Plan(name, kind, seed, nDims, 1, -1, -1, null);
        }
    }

    /// <summary>D, the token width.</summary>
    public int NDims => MaxDims;
    /// <summary>The data sampler (its options included).</summary>
    public GaussianSampler<T> Sampler { get; }
    /// <summary>read: the source token i (copied to token j); null for the other primitives.</summary>
    public int? ReadSource => _kind == Kind.Read ? _readI : null;
    /// <summary>read: the destination token j &gt;= i; null for the other primitives.</summary>
    public int? ReadDestination => _kind == Kind.Read ? _readJ : null;
    /// <summary>linear: the coefficients c [D]; null for the other primitives.</summary>
    public IReadOnlyList<double>? LinearCoefficients { get; }
    /// <summary>The seed of the per-instance constants (read, linear).</summary>
    public int Seed { get; }

    /// <inheritdoc/>
    public override int PromptLengthFor(int points) => points;

    /// <inheritdoc/>
    protected override int[] ReadPositionsFor(int points) => Enumerable.Range(0, points).ToArray();

    /// <inheritdoc/>
    /// <remarks>Draws each example with <see cref="GaussianSampler{T}"/> at the current size (its draw order),
    /// then builds it as <see cref="BuildPrompt"/> does.</remarks>
    public override void Sample(Rng rng, int batch, Span<T> prompt, Span<T> target)
    {
        ArgumentNullException.ThrowIfNull(rng);
        CheckSample(batch, prompt.Length, target.Length);
        int p = PromptLength * TokenDims;
        for (int e = 0; e < batch; e++)
        {
            Sampler.SampleExample(rng, Points, Dims);
            BuildExample(Sampler.Example, prompt.Slice(e * p, p), target.Slice(e * TargetSize, TargetSize));
        }
    }

    /// <summary>
    /// Builds prompt [batch, L, D] (a copy of x) and target [batch, L, C] from given tokens x [batch, L, D]
    /// (row-major, L the current number of points). Overwrites prompt and target.
    /// </summary>
    /// <exception cref="ArgumentException">A span is shorter than the batch needs.</exception>
    public void BuildPrompt(ReadOnlySpan<T> x, int batch, Span<T> prompt, Span<T> target)
    {
        CheckSample(batch, prompt.Length, target.Length);
        int p = PromptLength * TokenDims;
        if (x.Length < batch * p) throw new ArgumentException($"x has {x.Length} elements, needs {batch * p}", nameof(x));
        for (int e = 0; e < batch; e++)
            BuildExample(x.Slice(e * p, p), prompt.Slice(e * p, p), target.Slice(e * TargetSize, TargetSize));
    }

    /// <summary>One example: x [L, D] into prompt [L, D] and target [L, C].</summary>
    private void BuildExample<TIn>(ReadOnlySpan<TIn> x, Span<T> prompt, Span<T> target) where TIn : INumberBase<TIn>
    {
        int l = Points, d = NDims, c = ReadChannelCount;
        for (int k = 0; k < l * d; k++) prompt[k] = T.CreateChecked(double.CreateChecked(x[k]));
        for (int i = 0; i < l; i++)
        {
            // read: token j takes token i's values (REFERENCE §1 read), every other token is copied.
            int src = _kind == Kind.Read && i == _readJ ? _readI : i;
            ReadOnlySpan<TIn> row = x.Slice(src * d, d);
            Span<T> y = target.Slice(i * c, c);
            switch (_kind)
            {
                case Kind.Identity:
                case Kind.Read:
                    for (int k = 0; k < d; k++) y[k] = T.CreateChecked(double.CreateChecked(row[k]));
                    break;
                case Kind.Square:
                    for (int k = 0; k < d; k++) { double v = double.CreateChecked(row[k]); y[k] = T.CreateChecked(v * v); }
                    break;
                case Kind.ElementwiseMultiply:               // y = x[:, :D/2] * x[:, D/2:]
                    for (int k = 0; k < c; k++)
                        y[k] = T.CreateChecked(double.CreateChecked(row[k]) * double.CreateChecked(row[c + k]));
                    break;
                case Kind.Linear:                            // y = x·c
                    double acc = 0;
                    for (int k = 0; k < d; k++) acc += double.CreateChecked(row[k]) * _c![k];
                    y[0] = T.CreateChecked(acc);
                    break;
            }
        }
    }
}

namespace PrecisionLS.Monarch;

/// <summary>
/// The shapes of a pair of Monarch factors in the blockdiag-butterfly layout of HazyResearch/fly, and the part of the
/// product that is observed: w1 (K, Q, P), w2 (L, S, R) with K·P = padded input size, L·R = K·Q (the intermediate
/// nodes), L·S = padded output size. The matrix is y = P_out blockdiag(w2) P_mid blockdiag(w1) x restricted to the
/// first <see cref="Out"/> outputs of an input padded with zeros from <see cref="In"/> to K·P.
/// </summary>
/// <remarks>
/// REFERENCE §3: x viewed (K, P); h[k,q] = Σ_p w1[k,q,p] x[k,p]; h flattened (K Q) viewed (R, L), transposed to (L, R);
/// o[l,s] = Σ_r w2[l,s,r] h[l,r]; y = o transposed (S, L) flattened. Index bookkeeping that the projection relies on:
/// intermediate node t ∈ [0, K·Q) is h's flat index, so it reads input block k = t div Q (columns k·P .. k·P+P-1) through
/// row q = t mod Q of w1[k], and feeds output block l = t mod L (the strided rows s·L + l) through column
/// r = t div L of w2[l]. Every w1 row and every w2 column belongs to exactly one node, so
/// M[s·L + l, k·P + p] = Σ_{t: t div Q = k, t mod L = l} w2[l, s, t div L] · w1[k, t mod Q, p].
/// </remarks>
public sealed record MonarchLayout
{
    /// <summary>The factor shapes, the same record <see cref="MonarchMultiply"/> takes: a layout is a shape plus the observed
    /// sizes <see cref="In"/> and <see cref="Out"/>.</summary>
    public MonarchShape Shape { get; }
    /// <summary>Number of blocks of w1 (input blocks).</summary>
    public int K => Shape.K;
    /// <summary>Rows of each w1 block (intermediate nodes per input block).</summary>
    public int Q => Shape.Q;
    /// <summary>Columns of each w1 block (input block size).</summary>
    public int P => Shape.P;
    /// <summary>Number of blocks of w2 (output blocks).</summary>
    public int L => Shape.L;
    /// <summary>Rows of each w2 block (output block size).</summary>
    public int S => Shape.S;
    /// <summary>Columns of each w2 block (intermediate nodes per output block).</summary>
    public int R => Shape.R;
    /// <summary>Observed inputs (matrix columns): at most K·P; the rest of the padded input is zero.</summary>
    public int In { get; }
    /// <summary>Observed outputs (matrix rows): at most L·S; the rest are computed and dropped.</summary>
    public int Out { get; }

    private MonarchLayout(int k, int q, int p, int l, int s, int r, int inFeatures, int outFeatures)
    {
        Shape = new MonarchShape(k, q, p, l, s, r);
        (In, Out) = (inFeatures, outFeatures);
    }

    /// <summary>Padded input size K·P.</summary>
    public int InExtended => Shape.N;
    /// <summary>Padded output size L·S.</summary>
    public int OutExtended => Shape.M;
    /// <summary>Intermediate nodes K·Q = L·R.</summary>
    public int Intermediate => Shape.Hidden;
    /// <summary>Shape of w1: [K, Q, P].</summary>
    public int[] W1Shape => [K, Q, P];
    /// <summary>Shape of w2: [L, S, R].</summary>
    public int[] W2Shape => [L, S, R];
    /// <summary>Values in w1.</summary>
    public int W1Length => Shape.W1Length;
    /// <summary>Values in w2.</summary>
    public int W2Length => Shape.W2Length;
    /// <summary>Values in both factors, K·Q·P + L·S·R.</summary>
    public long ParameterCount => (long)W1Length + W2Length;

    /// <summary>Factors of the given shapes for an <paramref name="inFeatures"/> → <paramref name="outFeatures"/> map
    /// (defaults: the padded sizes K·P and L·S, no padding).</summary>
    /// <exception cref="ArgumentException">A shape is not 3-D with positive sizes, L·R ≠ K·Q, or a feature count is out of range.</exception>
    public static MonarchLayout FromShapes(int[] w1Shape, int[] w2Shape, int? inFeatures = null, int? outFeatures = null)
    {
        ArgumentNullException.ThrowIfNull(w1Shape);
        ArgumentNullException.ThrowIfNull(w2Shape);
        if (w1Shape.Length != 3 || w1Shape.Any(d => d <= 0))
            throw new ArgumentException($"w1 shape [{string.Join(", ", w1Shape)}] must be (K, Q, P) with positive sizes", nameof(w1Shape));
        if (w2Shape.Length != 3 || w2Shape.Any(d => d <= 0))
            throw new ArgumentException($"w2 shape [{string.Join(", ", w2Shape)}] must be (L, S, R) with positive sizes", nameof(w2Shape));
        int k = w1Shape[0], q = w1Shape[1], p = w1Shape[2], l = w2Shape[0], s = w2Shape[1], r = w2Shape[2];
        if ((long)l * r != (long)k * q)
            throw new ArgumentException($"w1 [{k}, {q}, {p}] and w2 [{l}, {s}, {r}] need L·R = K·Q ({l}·{r} ≠ {k}·{q})", nameof(w2Shape));
        if ((long)k * q * p > int.MaxValue || (long)l * s * r > int.MaxValue || (long)k * p > int.MaxValue || (long)l * s > int.MaxValue)
            throw new ArgumentException($"factors w1 [{k}, {q}, {p}], w2 [{l}, {s}, {r}] are too large");
        int inF = inFeatures ?? k * p, outF = outFeatures ?? l * s;
        if (inF < 1 || inF > k * p) throw new ArgumentOutOfRangeException(nameof(inFeatures), inF, $"inputs must be in 1..K·P = {k * p}");
        if (outF < 1 || outF > l * s) throw new ArgumentOutOfRangeException(nameof(outFeatures), outF, $"outputs must be in 1..L·S = {l * s}");
        return new MonarchLayout(k, q, p, l, s, r, inF, outF);
    }

    /// <summary>
    /// The square layout of fly's <c>blockdiag_butterfly_project(M, sizes=[a, b])</c> for n = a·b:
    /// w1 (a, b, n/a), w2 (b, n/b, a); one intermediate node links each (input block, output block) pair.
    /// </summary>
    public static MonarchLayout Square(int n, int a, int b)
    {
        if (a < 1 || b < 1 || (long)a * b != n)
            throw new ArgumentException($"sizes [{a}, {b}] must be positive with a·b = n = {n}");
        return FromShapes([a, b, n / a], [b, n / b, a]);
    }

    /// <summary>
    /// The layout of fly's <c>MonarchLinear(in, out, nblocks)</c> (REFERENCE §3): in_blksz = ⌈in/nblocks⌉,
    /// out_blksz = ⌈out/nblocks⌉, input zero-padded to nblocks·in_blksz, output cut to <paramref name="outFeatures"/>;
    /// w1 (nblocks, in_blksz, in_blksz) and w2 (nblocks, out_blksz, in_blksz) when in_blksz ≤ out_blksz, else
    /// w1 (nblocks, out_blksz, in_blksz) and w2 (nblocks, out_blksz, out_blksz) (the smaller block size is the
    /// intermediate one, so the factors hold nblocks·(in_blksz + out_blksz)·min(in_blksz, out_blksz) values).
    /// </summary>
    public static MonarchLayout ForLinear(int inFeatures, int outFeatures, int nblocks)
    {
        if (inFeatures < 1 || outFeatures < 1) throw new ArgumentException($"features must be positive, got in {inFeatures}, out {outFeatures}");
        if (nblocks < 1) throw new ArgumentOutOfRangeException(nameof(nblocks), nblocks, "nblocks must be at least 1");
        int ib = (inFeatures + nblocks - 1) / nblocks, ob = (outFeatures + nblocks - 1) / nblocks;
        return ib <= ob
            ? FromShapes([nblocks, ib, ib], [nblocks, ob, ib], inFeatures, outFeatures)
            : FromShapes([nblocks, ob, ib], [nblocks, ob, ob], inFeatures, outFeatures);
    }

    /// <summary>
    /// The block count used when none is given: √n for a square n × n matrix with n a perfect square (then
    /// <see cref="ForLinear"/> equals <see cref="Square"/>(n, √n, √n), the reference layout), else 4
    /// (MonarchLinear's default).
    /// </summary>
    public static int DefaultBlocks(int rows, int cols)
    {
        if (rows == cols && IntegerSqrt(rows) is int m && m * m == rows) return m;
        return 4;
    }

    /// <summary>⌊√n⌋ for n ≥ 0, exact.</summary>
    public static int IntegerSqrt(int n)
    {
        if (n < 0) throw new ArgumentOutOfRangeException(nameof(n));
        int m = (int)Math.Sqrt(n);
        while ((long)m * m > n) m--;
        while ((long)(m + 1) * (m + 1) <= n) m++;
        return m;
    }

    /// <summary>
    /// The intermediate nodes t linking input block <paramref name="k"/> to output block <paramref name="l"/>
    /// (t div Q = k and t mod L = l), ascending. Their number bounds the rank of that (S × P) sub-matrix.
    /// </summary>
    public int[] Links(int l, int k)
    {
        if ((uint)l >= (uint)L) throw new ArgumentOutOfRangeException(nameof(l));
        if ((uint)k >= (uint)K) throw new ArgumentOutOfRangeException(nameof(k));
        var links = new List<int>();
        int first = k * Q + ((l - k * Q % L) % L + L) % L;   // smallest t ≥ kQ with t ≡ l (mod L)
        for (int t = first; t < (k + 1) * Q; t += L) links.Add(t);
        return [.. links];
    }

    /// <summary>Output rows of output block l that are observed: s·L + l &lt; Out.</summary>
    public int ObservedRows(int l) => Math.Clamp((Out - l + L - 1) / L, 0, S);
    /// <summary>Input columns of input block k that are observed (not padding): k·P + p &lt; In.</summary>
    public int ObservedColumns(int k) => Math.Clamp(In - k * P, 0, P);

    /// <summary>"w1 [4, 4, 4], w2 [4, 4, 4]".</summary>
    public string ShapeText => $"w1 [{K}, {Q}, {P}], w2 [{L}, {S}, {R}]";
}

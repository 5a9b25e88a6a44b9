namespace PrecisionLS.Monarch;

/// <summary>
/// Factor shapes of a blockdiag-butterfly (Monarch) product y = P_out blockdiag(w2) P_mid blockdiag(w1) x
/// (REFERENCE §3, the fly code's <c>blockdiag_butterfly_multiply</c>): w1 is (k, q, p), w2 is (l, s, r), with
/// k·p = n inputs, k·q = l·r intermediate values and m = l·s outputs.
/// </summary>
/// <param name="K">Blocks of w1.</param>
/// <param name="Q">Rows (outputs) of each w1 block.</param>
/// <param name="P">Columns (inputs) of each w1 block.</param>
/// <param name="L">Blocks of w2.</param>
/// <param name="S">Rows (outputs) of each w2 block.</param>
/// <param name="R">Columns (inputs) of each w2 block.</param>
public readonly record struct MonarchShape(int K, int Q, int P, int L, int S, int R)
{
    /// <summary>Input width n = k·p.</summary>
    public int N => K * P;
    /// <summary>Output width m = l·s.</summary>
    public int M => L * S;
    /// <summary>Intermediate width k·q = l·r (the values between the two block-diagonal factors).</summary>
    public int Hidden => K * Q;
    /// <summary>Values in w1: k·q·p.</summary>
    public int W1Length => K * Q * P;
    /// <summary>Values in w2: l·s·r.</summary>
    public int W2Length => L * S * R;
    /// <summary>Multiply-adds per input vector: k·q·p + l·s·r (2 n^1.5 for the square case, against n² dense).</summary>
    public long MultiplyAddsPerRow => (long)K * Q * P + (long)L * S * R;

    /// <summary>
    /// The square Monarch shape of width n = b² (REFERENCE §3: w1 and w2 both (b, b, b), b = √n): the shape
    /// the Monarch paper uses, nblocks = √n.
    /// </summary>
    public static MonarchShape Square(int n)
    {
        int b = (int)Math.Round(Math.Sqrt(n));
        if (n < 1 || b * b != n) throw new ArgumentException($"n = {n} is not a positive perfect square; a square Monarch matrix needs n = b²", nameof(n));
        return new MonarchShape(b, b, b, b, b, b);
    }

    /// <summary>Checks that every size is positive and that the factors chain (k·q = l·r); throws naming the sizes.</summary>
    public void Validate()
    {
        if (K < 1 || Q < 1 || P < 1 || L < 1 || S < 1 || R < 1)
            throw new ArgumentException($"Monarch factor sizes must be positive: w1 ({K}, {Q}, {P}), w2 ({L}, {S}, {R})");
        if ((long)K * Q != (long)L * R)
            throw new ArgumentException($"Monarch factors do not chain: w1 ({K}, {Q}, {P}) gives k·q = {(long)K * Q} values, w2 ({L}, {S}, {R}) takes l·r = {(long)L * R}");
        if ((long)K * Q * P > int.MaxValue || (long)L * S * R > int.MaxValue || (long)K * P > int.MaxValue || (long)L * S > int.MaxValue)
            throw new ArgumentException($"Monarch factors w1 ({K}, {Q}, {P}), w2 ({L}, {S}, {R}) are too large");
    }

    /// <inheritdoc/>
    public override string ToString() => $"w1 ({K}, {Q}, {P}), w2 ({L}, {S}, {R}): {N} -> {M}";
}

using System.Numerics;

namespace PrecisionLS.Monarch;

/// <summary>
/// Transforms that are exactly Monarch, with their factors in closed form (REFERENCE §3 oracles): the unitary DFT
/// with an input permutation, the Walsh–Hadamard matrix, and any Kronecker product A ⊗ B. Each comes with its dense
/// matrix built independently, so the factors can be checked against it.
/// </summary>
public static class MonarchTransforms
{
    /// <summary>Largest n the dense reference matrices are built for (n² complex values, 256 MiB at 4096).</summary>
    public const int MaxSize = 4096;

    /// <summary>Transforms <see cref="Check"/> accepts.</summary>
    public static readonly string[] Names = ["dft", "hadamard"];

    /// <summary>Why <paramref name="n"/> is not accepted for <paramref name="transform"/>, or null when it is.</summary>
    public static string? SizeProblem(string transform, int n) => transform switch
    {
        _ when n < 1 || n > MaxSize => $"n = {n} is out of range; accepted: 1..{MaxSize}",
        "dft" => MonarchLayout.IntegerSqrt(n) is int m && m * m == n ? null
            : $"the DFT factors as Monarch for a perfect square n = m^2 (4, 9, 16, 25, ...), not n = {n}",
        "hadamard" => BitOperations.IsPow2(n) ? null : $"the Hadamard matrix needs a power of two n = 2^t (2, 4, 8, 16, ...), not n = {n}",
        _ => $"unknown transform '{transform}'; accepted: {string.Join(", ", Names)}",
    };

    private static void Require(string transform, int n)
    {
        if (SizeProblem(transform, n) is { } problem) throw new ArgumentException(problem, nameof(n));
    }

    // ---- DFT ----

    /// <summary>perm[c] = (c mod m)·m + c div m for n = m² (the input order that makes the DFT Monarch; an involution).</summary>
    public static int[] DftPermutation(int n)
    {
        Require("dft", n);
        int m = MonarchLayout.IntegerSqrt(n);
        var perm = new int[n];
        for (int c = 0; c < n; c++) perm[c] = c % m * m + c / m;
        return perm;
    }

    /// <summary>The unitary DFT, F[j, c] = ω_n^{jc} / √n with ω_n = e^{−2πi/n} (torch.fft.fft(·, norm='ortho')),
    /// n × n row-major. The exponent is reduced mod n before the sine and cosine, so every entry is correctly rounded
    /// up to one ulp of the library's sin/cos.</summary>
    public static Complex[] DftMatrix(int n)
    {
        if (n < 1 || n > MaxSize) throw new ArgumentOutOfRangeException(nameof(n), n, $"accepted: 1..{MaxSize}");
        var f = new Complex[n * n];
        double scale = 1 / Math.Sqrt(n);
        for (int j = 0; j < n; j++)
        for (int c = 0; c < n; c++)
            f[j * n + c] = scale * RootOfUnity((long)j * c % n, n);
        return f;
    }

    /// <summary>
    /// DFT_n with its input permuted, as complex Monarch factors in the square layout (m, m), n = m²
    /// (REFERENCE §3): w1[k, j, i] = ω_m^{ji} / √n, w2[j, s, k] = ω_m^{sk} ω_n^{jk}. Their product is F[:, perm]
    /// (<see cref="DftPermutation"/>), so F x = Monarch(x') with x'[c] = x[perm[c]].
    /// </summary>
    /// <remarks>
    /// Check: M[s m + j, k m + i] = w2[j,s,k] w1[k,j,i] = ω_n^{m s k + j k + m j i} / √n, and
    /// F[s m + j, perm[k m + i]] = F[s m + j, i m + k] = ω_n^{(s m + j)(i m + k)} / √n, equal because ω_n^{m² s i} = 1.
    /// </remarks>
    public static MonarchFactors<Complex> Dft(int n)
    {
        Require("dft", n);
        int m = MonarchLayout.IntegerSqrt(n);
        var f = new MonarchFactors<Complex>(MonarchLayout.Square(n, m, m));
        double scale = 1 / Math.Sqrt(n);
        for (int k = 0; k < m; k++)
        for (int j = 0; j < m; j++)
        for (int i = 0; i < m; i++)
            f.W1At(k, j, i) = scale * RootOfUnity(j * i % m, m);
        for (int j = 0; j < m; j++)
        for (int s = 0; s < m; s++)
        for (int k = 0; k < m; k++)
            f.W2At(j, s, k) = RootOfUnity(((long)m * s * k + j * k) % n, n);   // ω_m^{sk} ω_n^{jk} = ω_n^{msk + jk}
        return f;
    }

    /// <summary>e^{−2πi e/n} for 0 ≤ e &lt; n.</summary>
    private static Complex RootOfUnity(long e, int n)
    {
        var (sin, cos) = Math.SinCos(-2 * Math.PI * e / n);
        return new Complex(cos, sin);
    }

    // ---- Hadamard ----

    /// <summary>The Sylvester–Hadamard matrix H[i, j] = (−1)^{popcount(i AND j)} (entries ±1; divide by √n for the
    /// orthogonal one), n × n row-major, n a power of two.</summary>
    public static double[] HadamardMatrix(int n)
    {
        Require("hadamard", n);
        var h = new double[n * n];
        for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            h[i * n + j] = (BitOperations.PopCount((uint)(i & j)) & 1) == 0 ? 1 : -1;
        return h;
    }

    /// <summary>
    /// H_n as Monarch factors: H_n = H_a ⊗ H_b for n = a·b, both powers of two (a bit of i AND j belongs to i's
    /// and j's high part or to their low part), so it is <see cref="Kronecker{T}"/>(H_a, H_b) in the square layout
    /// (a, b): w1 = a copies of H_b, w2 = b copies of H_a. <paramref name="inputBlocks"/> = a defaults to
    /// 2^⌊t/2⌋ for n = 2^t (a = b = √n when t is even; a = √(n/2), b = 2a when t is odd).
    /// </summary>
    public static MonarchFactors<double> Hadamard(int n, int? inputBlocks = null)
    {
        Require("hadamard", n);
        int a = inputBlocks ?? 1 << (BitOperations.Log2((uint)n) / 2);
        if (a < 1 || !BitOperations.IsPow2(a) || n % a != 0)
            throw new ArgumentException($"input blocks {a} must be a power of two dividing n = {n}", nameof(inputBlocks));
        int b = n / a;
        return Kronecker(HadamardMatrix(a), a, a, HadamardMatrix(b), b, b);
    }

    // ---- Kronecker products ----

    /// <summary>(A ⊗ B)[i1·b + i2, j1·b' + j2] = A[i1, j1]·B[i2, j2] for A (a × a'), B (b × b'), row-major.</summary>
    public static T[] KroneckerMatrix<T>(ReadOnlySpan<T> a, int aRows, int aCols, ReadOnlySpan<T> b, int bRows, int bCols)
        where T : struct, INumberBase<T>
    {
        CheckKroneckerArgs(a.Length, aRows, aCols, b.Length, bRows, bCols);
        int cols = aCols * bCols;
        var kron = new T[aRows * bRows * cols];
        for (int i1 = 0; i1 < aRows; i1++)
        for (int j1 = 0; j1 < aCols; j1++)
        for (int i2 = 0; i2 < bRows; i2++)
        for (int j2 = 0; j2 < bCols; j2++)
            kron[(i1 * bRows + i2) * cols + j1 * bCols + j2] = a[i1 * aCols + j1] * b[i2 * bCols + j2];
        return kron;
    }

    /// <summary>
    /// A ⊗ B (A a × a', B b × b') as Monarch factors: w1 (a', b, b') holds a' copies of B, w2 (b, a, a') holds b
    /// copies of A. A ⊗ B = (A ⊗ I_b)(I_a' ⊗ B): the first factor is blockdiag(B, …, B) on x viewed (a', b'); the
    /// node t = k·b + q (input block k, row q of B) feeds output block l = t mod b = q through column r = t div b = k
    /// of w2[q] = A, landing in output row s·b + q = the (s, q) entry of A ⊗ B. Rectangular A and B give a
    /// rectangular (a·b) × (a'·b') Monarch matrix with no padding.
    /// </summary>
    public static MonarchFactors<T> Kronecker<T>(ReadOnlySpan<T> a, int aRows, int aCols, ReadOnlySpan<T> b, int bRows, int bCols)
        where T : struct, INumberBase<T>
    {
        CheckKroneckerArgs(a.Length, aRows, aCols, b.Length, bRows, bCols);
        var f = new MonarchFactors<T>(MonarchLayout.FromShapes([aCols, bRows, bCols], [bRows, aRows, aCols]));
        for (int k = 0; k < aCols; k++) b.CopyTo(f.W1.AsSpan(k * bRows * bCols, bRows * bCols));
        for (int l = 0; l < bRows; l++) a.CopyTo(f.W2.AsSpan(l * aRows * aCols, aRows * aCols));
        return f;
    }

    private static void CheckKroneckerArgs(int aLength, int aRows, int aCols, int bLength, int bRows, int bCols)
    {
        if (aRows < 1 || aCols < 1 || bRows < 1 || bCols < 1)
            throw new ArgumentException($"Kronecker factors need positive sizes, got A {aRows} x {aCols}, B {bRows} x {bCols}");
        if (aLength != aRows * aCols) throw new ArgumentException($"A holds {aLength} values, {aRows} x {aCols} needs {aRows * aCols}");
        if (bLength != bRows * bCols) throw new ArgumentException($"B holds {bLength} values, {bRows} x {bCols} needs {bRows * bCols}");
    }

    // ---- checks ----

    /// <summary>
    /// Builds the factors of <paramref name="transform"/> ("dft" or "hadamard") of size n, multiplies them out and
    /// compares with the independently built dense matrix (for the DFT: F[:, perm]).
    /// </summary>
    /// <exception cref="ArgumentException">Unknown transform or unaccepted n (<see cref="SizeProblem"/> says why).</exception>
    public static MonarchTransformCheck Check(string transform, int n)
    {
        Require(transform, n);
        if (transform == "dft")
        {
            var factors = Dft(n);
            var f = DftMatrix(n);
            var perm = DftPermutation(n);
            var expected = new Complex[n * n];
            for (int j = 0; j < n; j++)
            for (int c = 0; c < n; c++)
                expected[j * n + c] = f[j * n + perm[c]];
            return Compare(transform, factors.Layout, factors.ToDense(), expected);
        }
        else
        {
            var factors = Hadamard(n);
            return Compare(transform, factors.Layout, factors.ToDense(), HadamardMatrix(n));
        }
    }

    private static MonarchTransformCheck Compare<T>(string transform, MonarchLayout layout, T[] actual, T[] expected)
        where T : struct, INumberBase<T>
    {
        double maxAbs = 0, err2 = 0, norm2 = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double d2 = Scalar.Abs2(actual[i] - expected[i]);
            maxAbs = Math.Max(maxAbs, Math.Sqrt(d2));
            err2 += d2; norm2 += Scalar.Abs2(expected[i]);
        }
        return new MonarchTransformCheck(transform, layout.In, layout, maxAbs, Math.Sqrt(err2 / norm2));
    }
}

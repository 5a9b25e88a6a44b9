using System.Numerics;
using PrecisionLS.Numerics;
using Xunit;

namespace PrecisionLS.Tests.Numerics;

/// <summary>The per-head strided products against the plain loop: every column count across the 512/256/scalar
/// paths, every row-tile remainder, both orientations of a, each triangle skip, padding left untouched.</summary>
public class SmallGemmTests
{
    private static void Check<T>(int m, int n, int k, bool transposeA, TriangleSkip skip, bool accumulate, Rng rng, double tol)
        where T : unmanaged, INumber<T>, IFloatingPointIeee754<T>
    {
        // a(i,p): either rows of a wider matrix (rsA = k + 3, csA = 1) or a transposed view (rsA = 1, csA = m + 2).
        int rsA = transposeA ? 1 : k + 3, csA = transposeA ? m + 2 : 1;
        int ldb = n + 5, ldc = n + 2;
        var a = new T[Math.Max(1, (m - 1) * rsA + Math.Max(0, k - 1) * csA + 1)];
        var b = new T[Math.Max(1, Math.Max(0, k - 1) * ldb + n)];
        var c0 = new T[(m - 1) * ldc + n + 3];
        for (int i = 0; i < a.Length; i++) a[i] = T.CreateChecked(rng.NextGaussian());
        for (int i = 0; i < b.Length; i++) b[i] = T.CreateChecked(rng.NextGaussian());
        for (int i = 0; i < c0.Length; i++) c0[i] = T.CreateChecked(rng.NextGaussian());
        // Skips promise zeros in a: make them true.
        for (int i = 0; i < m; i++)
            for (int p = 0; p < k; p++)
                if ((skip == TriangleSkip.KUpToRow && p > i) || (skip == TriangleSkip.KFromRow && p < i)) a[i * rsA + p * csA] = T.Zero;
        var c = (T[])c0.Clone(); var r = (T[])c0.Clone();
        SmallGemm.Product<T>(a, rsA, csA, b, ldb, c, ldc, m, n, k, accumulate, skip);
        SmallGemm.Reference<T>(a, rsA, csA, b, ldb, r, ldc, m, n, k, accumulate, skip);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < ldc && i * ldc + j < c.Length; j++)
            {
                int idx = i * ldc + j;
                bool inView = j < n;
                if (inView && skip == TriangleSkip.NUpToRow && j > i) continue;   // unspecified
                double expected = double.CreateChecked(r[idx]), got = double.CreateChecked(c[idx]);
                if (!inView) Assert.True(c[idx] == c0[idx], $"m={m} n={n} k={k}: padding c[{i},{j}] was written");
                else Assert.True(Math.Abs(got - expected) <= tol * Math.Max(1, Math.Abs(expected)) * Math.Sqrt(k + 1),
                    $"{typeof(T).Name} m={m} n={n} k={k} transA={transposeA} skip={skip} acc={accumulate}: c[{i},{j}] = {got:R}, reference {expected:R}");
            }
        for (int idx = (m - 1) * ldc + n; idx < c.Length; idx++) Assert.True(c[idx] == c0[idx], "trailing padding written");
    }

    [Theory]
    [InlineData(TriangleSkip.None)]
    [InlineData(TriangleSkip.KUpToRow)]
    [InlineData(TriangleSkip.KFromRow)]
    [InlineData(TriangleSkip.NUpToRow)]
    public void Double_matches_the_reference(TriangleSkip skip)
    {
        var rng = new Rng(17);
        for (int m = 1; m <= 13; m++)
            for (int n = 1; n <= 41; n++)
                foreach (int k in new[] { 0, 1, 5, 16 })
                {
                    // KUpToRow/KFromRow index p by row: keep k = m as in attention (p runs over tokens) as well.
                    Check<double>(m, n, k, transposeA: (m + n) % 2 == 0, skip, accumulate: n % 3 == 0, rng, 1e-14);
                    if (skip is TriangleSkip.KUpToRow or TriangleSkip.KFromRow)
                        Check<double>(m, n, m, transposeA: (m + n) % 2 == 1, skip, accumulate: n % 2 == 0, rng, 1e-14);
                }
    }

    [Theory]
    [InlineData(TriangleSkip.None)]
    [InlineData(TriangleSkip.KUpToRow)]
    [InlineData(TriangleSkip.KFromRow)]
    [InlineData(TriangleSkip.NUpToRow)]
    public void Float_matches_the_reference(TriangleSkip skip)
    {
        var rng = new Rng(19);
        foreach (int m in new[] { 1, 3, 4, 7, 21 })
            for (int n = 1; n <= 70; n += 3)
                foreach (int k in new[] { 0, 4, m })
                    Check<float>(m, n, k, transposeA: n % 2 == 0, skip, accumulate: n % 4 == 1, rng, 1e-5);
    }

    [Fact]
    public void Short_views_are_rejected()
    {
        var a = new double[10]; var b = new double[10]; var c = new double[10];
        Assert.Throws<ArgumentException>(() => SmallGemm.Product<double>(a, 4, 1, b, 3, c, 3, 3, 3, 3, false));
        Assert.Throws<ArgumentException>(() => SmallGemm.Product<double>(a, 3, 1, b, 3, c, 2, 3, 3, 3, false));
    }
}

using PrecisionLS.Numerics;
using Xunit;

namespace PrecisionLS.Tests.Numerics;

/// <summary>The blocked Cholesky factorisation against its definition (L Lᵀ = A), the solve against A x = b, and
/// the detection of matrices that are not positive definite.</summary>
public class CholeskyTests
{
    // A = G Gᵀ + shift·I with G [n, n] Gaussian: symmetric positive definite.
    private static double[] Spd(int n, ulong seed, double shift = 1e-3)
    {
        var g = new double[n * n];
        new Rng(seed).FillGaussian(g.AsSpan());
        var a = new double[n * n];
        Gemm.NTReference<double>(g, g, a, n, n, n, false);
        for (int i = 0; i < n; i++) a[i * n + i] += shift * n;
        return a;
    }

    [Theory]
    [InlineData(1, 128)]
    [InlineData(7, 128)]
    [InlineData(300, 64)]     // several blocks, a ragged last one
    [InlineData(300, 128)]
    [InlineData(256, 128)]    // exact multiple
    public void Factor_reproduces_the_matrix_and_solve_inverts_it(int n, int block)
    {
        var a = Spd(n, (ulong)n);
        var l = (double[])a.Clone();
        Assert.True(Cholesky.Factor<double>(l, n, block));
        double scale = a.Max(Math.Abs), err = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++)
            {
                double s = 0;
                for (int p = 0; p <= j; p++) s += l[i * n + p] * l[j * n + p];
                err = Math.Max(err, Math.Abs(s - a[i * n + j]));
            }
        Assert.True(err <= 1e-13 * scale, $"max |L Lᵀ - A| = {err:E2}, max |A| = {scale:E2}");

        var x = new double[n];
        new Rng(99).FillGaussian(x.AsSpan());
        var b = new double[n];
        Gemm.NNReference<double>(a, x, b, n, 1, n, false);
        Cholesky.Solve<double>(l, n, b);
        double xerr = 0;
        for (int i = 0; i < n; i++) xerr = Math.Max(xerr, Math.Abs(b[i] - x[i]));
        Assert.True(xerr <= 1e-9, $"max |x - A⁻¹(A x)| = {xerr:E2}");
    }

    [Fact]
    public void Blocked_and_unblocked_factors_agree()
    {
        const int n = 200;
        var a = Spd(n, 3);
        var blocked = (double[])a.Clone(); var unblocked = (double[])a.Clone();
        Assert.True(Cholesky.Factor<double>(blocked, n, 48));
        Assert.True(Cholesky.Factor<double>(unblocked, n, n));
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++) Assert.Equal(unblocked[i * n + j], blocked[i * n + j], 1e-12);
    }

    [Fact]
    public void The_strict_upper_triangle_is_left_alone()
    {
        const int n = 150;
        var a = Spd(n, 4);
        var l = (double[])a.Clone();
        Assert.True(Cholesky.Factor<double>(l, n, 32));
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++) Assert.Equal(a[i * n + j], l[i * n + j]);
    }

    [Fact]
    public void Matrices_that_are_not_positive_definite_are_refused()
    {
        const int n = 140;
        var a = Spd(n, 5);
        for (int i = 0; i < n; i++) a[i * n + i] -= 1e3 * n;                   // shifted far below zero
        Assert.False(Cholesky.Factor<double>((double[])a.Clone(), n, 32));
        var singular = new double[4 * 4];                                        // rank 1: pivots after the first are 0
        for (int i = 0; i < 4; i++) for (int j = 0; j < 4; j++) singular[i * 4 + j] = 1;
        Assert.False(Cholesky.Factor<double>(singular, 4));
        var nan = Spd(10, 6); nan[33] = double.NaN; nan[3 * 10 + 3] = double.NaN;
        Assert.False(Cholesky.Factor<double>(nan, 10));
    }

    [Fact]
    public void Arguments_are_checked()
    {
        Assert.Throws<ArgumentException>(() => Cholesky.Factor<double>(new double[8], 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => Cholesky.Factor<double>(new double[9], 3, 0));
        Assert.Throws<ArgumentException>(() => Cholesky.Solve<double>(new double[9], 3, new double[2]));
        Assert.True(Cholesky.Factor<double>([], 0));
    }
}

using System.Numerics;
using PrecisionLS.Monarch;
using Xunit;

namespace PrecisionLS.Tests.Monarch;

/// <summary>Closed-form Monarch factors of the DFT, Hadamard and Kronecker products equal their dense matrices, and
/// projecting those dense matrices is exact.</summary>
public class MonarchTransformsTests
{
    private static double MaxAbs(Complex[] a, Complex[] b) => a.Zip(b).Max(z => Complex.Abs(z.First - z.Second));
    private static double MaxAbs(double[] a, double[] b) => a.Zip(b).Max(z => Math.Abs(z.First - z.Second));

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(9)]
    [InlineData(16)]
    [InlineData(25)]
    [InlineData(64)]
    [InlineData(256)]
    public void Dft_factors_are_the_permuted_unitary_DFT(int n)
    {
        var factors = MonarchTransforms.Dft(n);
        int m = MonarchLayout.IntegerSqrt(n);
        Assert.Equal(new[] { m, m, m }, factors.Layout.W1Shape);
        var f = MonarchTransforms.DftMatrix(n);
        var perm = MonarchTransforms.DftPermutation(n);
        var expected = new Complex[n * n];
        for (int j = 0; j < n; j++)
        for (int c = 0; c < n; c++)
            expected[j * n + c] = f[j * n + perm[c]];
        var dense = factors.ToDense();
        Assert.True(MaxAbs(dense, expected) <= 1e-13, $"max abs error {MaxAbs(dense, expected):E3}");

        // F x = Monarch(x') with x'[c] = x[perm[c]], against a direct O(n²) DFT sum.
        var rng = new PrecisionLS.Numerics.Rng(3);
        var x = Enumerable.Range(0, n).Select(_ => new Complex(rng.NextGaussian(), rng.NextGaussian())).ToArray();
        for (int j = 0; j < n; j++)
        {
            Complex direct = 0, viaMonarch = 0;
            for (int c = 0; c < n; c++)
            {
                direct += Complex.Exp(new Complex(0, -2 * Math.PI * (j * c % n) / n)) * x[c] / Math.Sqrt(n);
                viaMonarch += dense[j * n + c] * x[perm[c]];
            }
            Assert.True(Complex.Abs(direct - viaMonarch) <= 1e-12);
        }

        var r = MonarchProjection.Project(expected, n, n, factors.Layout);
        Assert.True(r.RelativeError <= 1e-13, $"projection relative error {r.RelativeError:E3}");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    [InlineData(32)]
    [InlineData(256)]
    public void Hadamard_factors_equal_the_Sylvester_matrix_for_every_split(int n)
    {
        var h = MonarchTransforms.HadamardMatrix(n);
        for (int a = 1; a <= n; a *= 2)
        {
            var factors = MonarchTransforms.Hadamard(n, a);
            Assert.Equal(new[] { a, n / a, n / a }, factors.Layout.W1Shape);
            Assert.Equal(0.0, MaxAbs(factors.ToDense(), h));
            var r = MonarchProjection.Project(h, n, n, factors.Layout);
            Assert.True(r.RelativeError <= 1e-13, $"n {n}, {a} input blocks: projection relative error {r.RelativeError:E3}");
        }
        // Default: square split for even powers, a = sqrt(n/2) otherwise.
        Assert.Equal(new[] { 4, 8, 8 }, MonarchTransforms.Hadamard(32).Layout.W1Shape);
        Assert.Equal(new[] { 16, 16, 16 }, MonarchTransforms.Hadamard(256).Layout.W1Shape);
        // Orthogonal up to n: H Hᵀ = n I.
        for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            Assert.Equal(i == j ? n : 0, Enumerable.Range(0, n).Sum(c => h[i * n + c] * h[j * n + c]));
    }

    [Theory]
    [InlineData(3, 3, 4, 4)]
    [InlineData(3, 2, 2, 4)]
    [InlineData(1, 5, 3, 1)]
    [InlineData(4, 4, 2, 3)]
    public void Kronecker_products_are_exactly_Monarch(int aRows, int aCols, int bRows, int bCols)
    {
        var a = MonarchProjectionTests.Gaussian(aRows * aCols, 5);
        var b = MonarchProjectionTests.Gaussian(bRows * bCols, 6);
        var factors = MonarchTransforms.Kronecker<double>(a, aRows, aCols, b, bRows, bCols);
        var kron = MonarchTransforms.KroneckerMatrix<double>(a, aRows, aCols, b, bRows, bCols);
        Assert.Equal((aRows * bRows, aCols * bCols), (factors.Layout.Out, factors.Layout.In));
        Assert.True(MaxAbs(factors.ToDense(), kron) <= 1e-13);
        var r = MonarchProjection.Project(kron, aRows * bRows, aCols * bCols, factors.Layout);
        Assert.True(r.RelativeError <= 1e-13, $"projection relative error {r.RelativeError:E3}");
        // Direct definition of the entries.
        for (int i1 = 0; i1 < aRows; i1++)
        for (int j1 = 0; j1 < aCols; j1++)
        for (int i2 = 0; i2 < bRows; i2++)
        for (int j2 = 0; j2 < bCols; j2++)
            Assert.Equal(a[i1 * aCols + j1] * b[i2 * bCols + j2], kron[(i1 * bRows + i2) * aCols * bCols + j1 * bCols + j2]);
    }

    [Fact]
    public void Complex_Kronecker_of_two_DFTs_is_the_square_layout()
    {
        var f3 = MonarchTransforms.DftMatrix(3); var f4 = MonarchTransforms.DftMatrix(4);
        var factors = MonarchTransforms.Kronecker<Complex>(f3, 3, 3, f4, 4, 4);
        Assert.Equal(MonarchLayout.Square(12, 3, 4), factors.Layout);
        var kron = MonarchTransforms.KroneckerMatrix<Complex>(f3, 3, 3, f4, 4, 4);
        Assert.True(MaxAbs(factors.ToDense(), kron) <= 1e-13);
        Assert.True(MonarchProjection.Project(kron, 12, 12, factors.Layout).RelativeError <= 1e-13);
    }

    [Theory]
    [InlineData("dft", 16)]
    [InlineData("dft", 1024)]
    [InlineData("hadamard", 64)]
    [InlineData("hadamard", 2048)]
    public void Check_reports_machine_precision(string transform, int n)
    {
        var c = MonarchTransforms.Check(transform, n);
        Assert.Equal(n, c.N);
        Assert.True(c.MaxAbsError <= 1e-13 && c.RelativeError <= 1e-13, $"{transform} {n}: {c.MaxAbsError:E3} / {c.RelativeError:E3}");
        Assert.Equal((long)n * n, c.DenseParameters);
    }

    [Theory]
    [InlineData("dft", 12, "perfect square n = m^2 (4, 9, 16, 25, ...), not n = 12")]
    [InlineData("hadamard", 12, "power of two n = 2^t (2, 4, 8, 16, ...), not n = 12")]
    [InlineData("hadamard", 0, "n = 0 is out of range; accepted: 1..4096")]
    [InlineData("dft", 8192, "n = 8192 is out of range")]
    [InlineData("fourier", 16, "unknown transform 'fourier'; accepted: dft, hadamard")]
    public void Unaccepted_sizes_say_what_is_accepted(string transform, int n, string expected)
    {
        Assert.Contains(expected, MonarchTransforms.SizeProblem(transform, n));
        Assert.Contains(expected, Assert.Throws<ArgumentException>(() => MonarchTransforms.Check(transform, n)).Message);
    }
}

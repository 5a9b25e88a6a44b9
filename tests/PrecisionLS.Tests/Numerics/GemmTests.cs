using PrecisionLS.Numerics;
using PrecisionLS.Tests.Fixtures;
using Xunit;

namespace PrecisionLS.Tests.Numerics;

/// <summary>The blocked SIMD products against the naive loops, across tile edges, k blocks and the k split.</summary>
public class GemmTests
{
    public static TheoryData<int, int, int> Shapes()
    {
        var d = new TheoryData<int, int, int>();
        foreach (var (m, n, k) in new[] { (1, 1, 1), (5, 7, 3), (6, 32, 8), (13, 33, 17), (37, 45, 29), (64, 64, 64), (7, 5, 300),
                                          (100, 70, 513), (64, 6, 4200), (5, 64, 4200), (12, 128, 6) })
            d.Add(m, n, k);
        return d;
    }

    private static double[] Random(int n, ulong seed) { var a = new double[n]; new Rng(seed).FillGaussian(a.AsSpan()); return a; }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void All_layouts_match_the_reference(int m, int n, int k)
    {
        var a = Random(m * k, 1); var b = Random(k * n, 2); var c0 = Random(m * n, 3);
        double tol = 1e-14 * Math.Sqrt(k) * 4;
        foreach (bool acc in new[] { false, true })
        {
            var c = (double[])c0.Clone(); var r = (double[])c0.Clone();
            Gemm.NN<double>(a, b, c, m, n, k, acc); Gemm.NNReference<double>(a, b, r, m, n, k, acc);
            Compare.Close(r, c, tol * 10, $"NN {m}x{n}x{k} acc={acc}");
            c = (double[])c0.Clone(); r = (double[])c0.Clone();
            Gemm.TN<double>(a, b, c, m, n, k, acc); Gemm.TNReference<double>(a, b, r, m, n, k, acc);   // a read as [k, m]
            Compare.Close(r, c, tol * 10, $"TN {m}x{n}x{k} acc={acc}");
            var bt = Random(n * k, 4);
            c = (double[])c0.Clone(); r = (double[])c0.Clone();
            Gemm.NT<double>(a, bt, c, m, n, k, acc); Gemm.NTReference<double>(a, bt, r, m, n, k, acc);
            Compare.Close(r, c, tol * 10, $"NT {m}x{n}x{k} acc={acc}");
        }
    }

    [Theory]
    [InlineData(13, 33, 17)]
    [InlineData(37, 45, 29)]
    [InlineData(6, 70, 300)]
    [InlineData(1, 1, 1)]
    public void Strided_nn_on_sub_matrices_matches_the_reference_and_leaves_the_rest_alone(int m, int n, int k)
    {
        // a, b, c are windows inside wider arrays (row strides lda > k, ldb > n, ldc > n), offset from the start.
        int lda = k + 5, ldb = n + 3, ldc = n + 7, offA = 2, offB = 4, offC = 3;
        var bigA = Random(offA + m * lda, 11); var bigB = Random(offB + k * ldb, 12); var bigC0 = Random(offC + m * ldc, 13);
        var a = new double[m * k]; var b = new double[k * n];
        for (int i = 0; i < m; i++) for (int p = 0; p < k; p++) a[i * k + p] = bigA[offA + i * lda + p];
        for (int p = 0; p < k; p++) for (int j = 0; j < n; j++) b[p * n + j] = bigB[offB + p * ldb + j];
        foreach (bool acc in new[] { false, true })
        {
            var bigC = (double[])bigC0.Clone();
            var r = new double[m * n];
            for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) r[i * n + j] = bigC0[offC + i * ldc + j];
            Gemm.NNStrided<double>(bigA.AsSpan(offA), lda, bigB.AsSpan(offB), ldb, bigC.AsSpan(offC), ldc, m, n, k, acc);
            Gemm.NNReference<double>(a, b, r, m, n, k, acc);
            var got = new double[m * n];
            for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) got[i * n + j] = bigC[offC + i * ldc + j];
            Compare.Close(r, got, 1e-13 * Math.Sqrt(k) * 4, $"strided NN {m}x{n}x{k} acc={acc}");
            for (int idx = 0; idx < bigC.Length; idx++)
            {
                int rel = idx - offC;
                bool inside = rel >= 0 && rel / ldc < m && rel % ldc < n;
                if (!inside) Assert.Equal(bigC0[idx], bigC[idx]);
            }
        }
        Assert.Throws<ArgumentException>(() => Gemm.NNStrided<double>(bigA, k - 1, bigB, ldb, bigC0, ldc, m, n, k, false));
        Assert.Throws<ArgumentException>(() => Gemm.NNStrided<double>(bigA.AsSpan(0, (m - 1) * lda + k - 1), lda, bigB, ldb, bigC0, ldc, m, n, k, false));
    }

    [Theory]
    [InlineData(13, 33, 17)]
    [InlineData(50, 64, 6)]
    [InlineData(7, 5, 40)]
    [InlineData(6, 70, 0)]
    public void NT_with_bias_adds_the_bias_row(int m, int n, int k)
    {
        var a = Random(m * k, 1); var b = Random(n * k, 2); var bias = Random(n, 3);
        var c = new double[m * n]; var r = new double[m * n];
        Gemm.NT<double>(a, b, bias, c, m, n, k, accumulate: false);
        Gemm.NTReference<double>(a, b, r, m, n, k, false);
        for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) r[i * n + j] += bias[j];
        Compare.Close(r, c, 1e-13, $"NT+bias {m}x{n}x{k}");
    }

    [Theory]
    [InlineData(13, 33, 17)]
    [InlineData(672, 128, 64)]
    [InlineData(5, 3, 2)]
    public void NN_with_bias_adds_the_bias_row(int m, int n, int k)
    {
        var a = Random(m * k, 1); var b = Random(k * n, 2); var bias = Random(n, 3);
        var c = Random(m * n, 4); var r = new double[m * n];
        Gemm.NN<double>(a, b, bias, c, m, n, k);
        Gemm.NNReference<double>(a, b, r, m, n, k, false);
        for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) r[i * n + j] += bias[j];
        Compare.Close(r, c, 1e-13, $"NN+bias {m}x{n}x{k}");
    }

    [Fact]
    public void Column_sums_match_the_loop()
    {
        foreach (int cols in new[] { 1, 5, 8, 33, 64, 70 })
        {
            int rows = 301;
            var src = Random(rows * cols, (ulong)cols);
            var d = Random(cols, 9); var r = (double[])d.Clone();
            Elementwise.ColumnSums<double>(src, rows, cols, d, accumulate: true);
            for (int j = 0; j < cols; j++) { double s = 0; for (int i = 0; i < rows; i++) s += src[i * cols + j]; r[j] += s; }
            Compare.Close(r, d, 1e-13, $"column sums, {cols} columns");
        }
    }

    [Fact]
    public void Float32_products_match_to_single_precision()
    {
        int m = 29, n = 40, k = 33;
        var a = Random(m * k, 7); var b = Random(k * n, 8);
        var r = new double[m * n]; Gemm.NNReference<double>(a, b, r, m, n, k, false);
        var c = new float[m * n];
        Gemm.NN<float>(a.Select(v => (float)v).ToArray(), b.Select(v => (float)v).ToArray(), c, m, n, k, false);
        for (int i = 0; i < c.Length; i++) Assert.True(Math.Abs(c[i] - r[i]) <= 1e-5 * (1 + Math.Abs(r[i])) * Math.Sqrt(k), $"index {i}");
    }

    [Fact]
    public void Too_short_buffers_are_rejected_naming_the_argument()
    {
        var e = Assert.Throws<ArgumentException>(() => Gemm.NN<double>(new double[5], new double[6], new double[6], 2, 3, 3, false));
        Assert.Contains("a holds 5 values", e.Message);
    }

    [Fact]
    public void Large_b_blocked_by_columns_matches_the_reference()
    {
        // b over 8 MB and more than 256 columns: the column-blocked loop order, with edge rows, vector and scalar edge
        // columns, several k blocks, bias and accumulation.
        int m = 13, n = 1100, k = 1000;
        var a = Random(m * k, 11); var b = Random(k * n, 12); var bias = Random(n, 13);
        var r = new double[m * n]; Gemm.NNReference<double>(a, b, r, m, n, k, false);
        var c = new double[m * n];
        Gemm.NN<double>(a, b, c, m, n, k, false);
        Compare.Close(r, c, 1e-12, "large b");
        var cb = new double[m * n];
        Gemm.NN<double>(a, b, bias, cb, m, n, k);
        for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) Assert.Equal(c[i * n + j] + bias[j], cb[i * n + j], 1e-11);
        var acc = Random(m * n, 14); var accRef = (double[])acc.Clone();
        Gemm.NN<double>(a, b, acc, m, n, k, true);
        for (int i = 0; i < accRef.Length; i++) accRef[i] += r[i];
        Compare.Close(accRef, acc, 1e-12, "large b, accumulate");
    }
}

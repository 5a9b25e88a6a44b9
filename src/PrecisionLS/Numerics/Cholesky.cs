using System.Numerics;

namespace PrecisionLS.Numerics;

/// <summary>
/// Cholesky factorisation A = L Lᵀ of a dense symmetric positive definite matrix, in place, and the solves with it:
/// for the direct Gauss-Newton step (training.gn_solver: direct), whose Gram matrices have a few thousand rows.
/// Blocked, right-looking: each block column is factored (diagonal block unblocked, the panel below it by a
/// triangular solve), and the trailing matrix is updated by <see cref="Gemm"/>, where almost all the n³/3 multiply-adds
/// go. Row-major; only the lower triangle (diagonal included) is read and written; the strict upper triangle is left
/// as it was.
/// </summary>
public static class Cholesky
{
    /// <summary>Columns per block: the panel and its GEMM update.</summary>
    public const int Block = 128;

    /// <summary>
    /// Overwrites the lower triangle of <paramref name="a"/> [n, n] with L. Returns false, leaving <paramref name="a"/>
    /// partly overwritten, when a pivot is not positive and finite (A is not numerically positive definite).
    /// </summary>
    public static bool Factor<T>(Span<T> a, int n, int block = Block) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (n < 0) throw new ArgumentOutOfRangeException(nameof(n), n, "n must be >= 0");
        if (a.Length < (long)n * n) throw new ArgumentException($"a holds {a.Length} values; n x n = {(long)n * n}", nameof(a));
        if (block < 1) throw new ArgumentOutOfRangeException(nameof(block), block, "block must be >= 1");
        T[] panel = [], update = [];
        for (int k0 = 0; k0 < n; k0 += block)
        {
            int kb = Math.Min(block, n - k0), k1 = k0 + kb, m = n - k1;
            // Diagonal block (already updated by the blocks to its left): unblocked Cholesky.
            for (int j = k0; j < k1; j++)
            {
                T d = a[j * n + j];
                for (int p = k0; p < j; p++) d -= a[j * n + p] * a[j * n + p];
                if (!(d > T.Zero) || !T.IsFinite(d)) return false;
                T ljj = T.Sqrt(d);
                a[j * n + j] = ljj;
                for (int i = j + 1; i < k1; i++)
                {
                    T s = a[i * n + j];
                    for (int p = k0; p < j; p++) s -= a[i * n + p] * a[j * n + p];
                    a[i * n + j] = s / ljj;
                }
            }
            if (m == 0) break;
            // Panel below it: L21 = A21 L11⁻ᵀ, row by row (forward substitution), also copied contiguously for the GEMM.
            if (panel.Length < m * kb) panel = new T[m * kb];
            for (int i = 0; i < m; i++)
            {
                var row = a.Slice((k1 + i) * n + k0, kb);
                for (int j = 0; j < kb; j++)
                {
                    T s = row[j];
                    for (int p = 0; p < j; p++) s -= row[p] * a[(k0 + j) * n + k0 + p];
                    row[j] = s / a[(k0 + j) * n + k0 + j];
                }
                row.CopyTo(panel.AsSpan(i * kb, kb));
            }
            // Trailing update A22 -= L21 L21ᵀ (lower triangle), by row blocks: rows [r0, r1) against columns [0, r1).
            for (int r0 = 0; r0 < m; r0 += block)
            {
                int rb = Math.Min(block, m - r0), cols = r0 + rb;
                if (update.Length < rb * cols) update = new T[rb * cols];
                var u = update.AsSpan(0, rb * cols);
                Gemm.NT<T>(panel.AsSpan(r0 * kb, rb * kb), panel.AsSpan(0, cols * kb), u, rb, cols, kb, accumulate: false);
                for (int i = 0; i < rb; i++)
                {
                    var dst = a.Slice((k1 + r0 + i) * n + k1, r0 + i + 1);
                    var src = u.Slice(i * cols, r0 + i + 1);
                    for (int j = 0; j < dst.Length; j++) dst[j] -= src[j];
                }
            }
        }
        return true;
    }

    /// <summary>Solves L Lᵀ x = b in place (<paramref name="b"/> becomes x) with the factor from <see cref="Factor{T}"/>.</summary>
    public static void Solve<T>(ReadOnlySpan<T> l, int n, Span<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (l.Length < (long)n * n) throw new ArgumentException($"l holds {l.Length} values; n x n = {(long)n * n}", nameof(l));
        if (b.Length < n) throw new ArgumentException($"b holds {b.Length} values; n = {n}", nameof(b));
        for (int i = 0; i < n; i++)                  // L y = b
        {
            T s = b[i];
            var row = l.Slice(i * n, i);
            for (int p = 0; p < i; p++) s -= row[p] * b[p];
            b[i] = s / l[i * n + i];
        }
        for (int i = n - 1; i >= 0; i--)             // Lᵀ x = y
        {
            T s = b[i] / l[i * n + i];
            b[i] = s;
            for (int p = 0; p < i; p++) b[p] -= l[i * n + p] * s;
        }
    }
}

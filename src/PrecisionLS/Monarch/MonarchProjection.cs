using System.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace PrecisionLS.Monarch;

/// <summary>
/// Projection of a dense matrix onto the nearest Monarch matrix in Frobenius norm (REFERENCE §3; fly's
/// <c>blockdiag_butterfly_project</c>, generalised to any factor shapes, rectangular matrices and padding).
/// </summary>
/// <remarks>
/// <para><b>Why a per-block SVD is optimal, for any layout.</b> Intermediate node t (h's flat index, 0 ≤ t &lt; K·Q)
/// reads only input block k = t div Q, through row w1[k, t mod Q, :], and writes only output block l = t mod L, through
/// column w2[l, :, t div L]. So the (S × P) sub-matrix of M between output block l (rows s·L + l) and input block k
/// (columns k·P + p) is Σ_t w2[l,:,t div L] ⊗ w1[k,t mod Q,:] over the c_kl nodes linking the two blocks
/// (<see cref="MonarchLayout.Links"/>): any matrix of rank ≤ c_kl, and, since each w1 row and w2 column belongs to
/// exactly one node, distinct (k, l) pairs share no parameter. The sub-matrices tile M, so the problem splits into
/// independent best-rank-c_kl problems, each solved by a truncated SVD (Eckart–Young):
/// error² = Σ_kl Σ_{i ≥ c_kl} σ_i². The reference square layout has c_kl = 1 everywhere (one rank-1 block per pair,
/// √σ₁ on both factors, as fly does); MonarchLinear layouts with Q a multiple of L have c_kl = Q/L, and otherwise
/// c_kl varies between ⌊Q/L⌋ and ⌈Q/L⌉ (0 where no node links a pair: that sub-matrix is forced to zero).</para>
/// <para><b>Padding.</b> Padded inputs are zeros, so the columns of the padded product that multiply them never
/// reach y; outputs past <see cref="MonarchLayout.Out"/> are computed and dropped. The objective therefore weighs
/// only the observed entries, and in every sub-matrix the unobserved entries are whole rows (cut outputs) and whole
/// columns (padded inputs). A rank-c matrix restricted to a set of rows and columns has rank ≤ c, and any rank-c
/// matrix on the observed rows and columns extends to the full sub-matrix with zero rows and columns, so the optimum
/// is the truncated SVD of the observed part alone, with the factor entries that touch only padding left free. They
/// are set to zero here (the minimum-norm choice; a MonarchLinear layer loaded with them computes the same outputs
/// whatever they hold). Equivalently, zero-padding M to (L·S) × (K·P) and projecting in the unpadded layout gives
/// the same optimum: zero rows and columns appended to a sub-matrix change neither its singular values nor its
/// truncated SVD, so "free" and "fit zeros" coincide and the padded product is zero outside the observed part.</para>
/// <para>The optimum is an orthogonal projection onto a subspace that depends on M (each block's leading singular
/// subspaces), so ‖M‖² = ‖projected‖² + error² over the observed entries, although the Monarch set is not a
/// subspace. Ties between σ_c and σ_(c+1) make the optimum non-unique; the error is unique. Singular vectors are
/// determined up to sign (phase, for complex input), so factors are compared through their product.</para>
/// Computation is float64 (MathNet.Numerics' SVD), complex for complex input.
/// </remarks>
public static class MonarchProjection
{
    /// <summary>Projects a real (Out × In) row-major matrix onto the Monarch matrices of <paramref name="layout"/>.</summary>
    /// <exception cref="ArgumentException">The matrix size disagrees with the layout, or holds NaN or infinity.</exception>
    public static MonarchProjectionResult<double> Project(ReadOnlySpan<double> matrix, int rows, int cols, MonarchLayout layout) =>
        ProjectCore(matrix, rows, cols, layout);

    /// <summary>Projects a complex (Out × In) row-major matrix onto the complex Monarch matrices of <paramref name="layout"/>.</summary>
    /// <exception cref="ArgumentException">The matrix size disagrees with the layout, or holds NaN or infinity.</exception>
    public static MonarchProjectionResult<Complex> Project(ReadOnlySpan<Complex> matrix, int rows, int cols, MonarchLayout layout) =>
        ProjectCore(matrix, rows, cols, layout);

    /// <summary>Projects a real matrix in MonarchLinear's layout with <paramref name="nblocks"/> blocks
    /// (<see cref="MonarchLayout.ForLinear"/>; rows = out features, cols = in features).</summary>
    public static MonarchProjectionResult<double> Project(ReadOnlySpan<double> matrix, int rows, int cols, int nblocks) =>
        ProjectCore(matrix, rows, cols, MonarchLayout.ForLinear(cols, rows, nblocks));

    private static MonarchProjectionResult<T> ProjectCore<T>(ReadOnlySpan<T> m, int rows, int cols, MonarchLayout g)
        where T : struct, IEquatable<T>, IFormattable, INumberBase<T>
    {
        ArgumentNullException.ThrowIfNull(g);
        if (rows != g.Out || cols != g.In)
            throw new ArgumentException($"a {rows} x {cols} matrix does not fit layout {g.ShapeText} (out {g.Out}, in {g.In})");
        if (m.Length != rows * cols) throw new ArgumentException($"matrix holds {m.Length} values, {rows} x {cols} needs {rows * cols}", nameof(m));
        for (int i = 0; i < m.Length; i++)
            if (!T.IsFinite(m[i])) throw new ArgumentException($"matrix entry ({i / cols}, {i % cols}) is {m[i]}; projection needs finite values", nameof(m));

        var factors = new MonarchFactors<T>(g);
        var blocks = new MonarchBlockSvd[g.L * g.K];
        for (int l = 0; l < g.L; l++)
        for (int k = 0; k < g.K; k++)
        {
            int[] links = g.Links(l, k);
            int nr = g.ObservedRows(l), nc = g.ObservedColumns(k);
            if (nr == 0 || nc == 0) { blocks[l * g.K + k] = new MonarchBlockSvd(l, k, nr, nc, links.Length, []); continue; }

            // The observed sub-matrix A[s, p] = M[s·L + l, k·P + p] (strided rows, contiguous columns).
            var a = Matrix<T>.Build.Dense(nr, nc);
            for (int s = 0; s < nr; s++)
            for (int p = 0; p < nc; p++)
                a[s, p] = m[(s * g.L + l) * cols + k * g.P + p];
            var svd = a.Svd(computeVectors: true);
            var sigma = new double[Math.Min(nr, nc)];
            for (int i = 0; i < sigma.Length; i++) sigma[i] = Scalar.Real(svd.S[i]);

            // A ≈ Σ_{i < c} σ_i u_i v_iᴴ: node links[i] gets √σ_i u_i as its w2 column and √σ_i v_iᴴ as its w1 row.
            // VT is Vᴴ for complex input, so A = U Σ VT needs no extra conjugation.
            var u = svd.U; var vt = svd.VT;
            for (int i = 0; i < Math.Min(links.Length, sigma.Length); i++)
            {
                int t = links[i];
                T root = T.CreateTruncating(Math.Sqrt(sigma[i]));
                for (int s = 0; s < nr; s++) factors.W2At(l, s, t / g.L) = root * u[s, i];
                for (int p = 0; p < nc; p++) factors.W1At(k, t % g.Q, p) = root * vt[i, p];
            }
            blocks[l * g.K + k] = new MonarchBlockSvd(l, k, nr, nc, links.Length, sigma);
        }

        var projected = factors.ToDense();
        double norm2 = 0, err2 = 0;
        for (int i = 0; i < m.Length; i++) { norm2 += Scalar.Abs2(m[i]); err2 += Scalar.Abs2(projected[i] - m[i]); }
        return new MonarchProjectionResult<T>(factors, projected, Math.Sqrt(norm2), Math.Sqrt(err2), blocks);
    }
}

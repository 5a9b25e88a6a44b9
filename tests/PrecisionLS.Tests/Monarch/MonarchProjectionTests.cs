using System.Numerics;
using PrecisionLS.Monarch;
using PrecisionLS.Numerics;
using PrecisionLS.Tests.Fixtures;
using Xunit;

namespace PrecisionLS.Tests.Monarch;

/// <summary>Projection onto Monarch matrices: the fly fixtures, exactness on Monarch input, optimality and the
/// per-block SVD identities, in the reference layout and in MonarchLinear layouts with padding.</summary>
public class MonarchProjectionTests
{
    internal static double[] Gaussian(int n, ulong seed) { var a = new double[n]; new Rng(seed).FillGaussian(a.AsSpan()); return a; }

    internal static MonarchFactors<double> RandomFactors(MonarchLayout g, ulong seed) =>
        new(g, Gaussian(g.W1Length, seed), Gaussian(g.W2Length, seed + 1));

    private static double FrobeniusDistance(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += (a[i] - b[i]) * (a[i] - b[i]);
        return Math.Sqrt(s);
    }

    private static double Norm(ReadOnlySpan<double> a) => Math.Sqrt(a.ToArray().Sum(v => v * v));

    private static void AssertSingularValues(FixtureTensor expected, MonarchProjectionResult<double> r) =>
        Compare.Close(expected, r.Blocks.SelectMany(b => b.SingularValues).ToArray(), 1e-12, "block singular values");

    [Theory]
    [InlineData("monarch_project_random16")]
    [InlineData("monarch_project_random12")]
    [InlineData("monarch_project_monarch16")]
    public void Real_fixtures_match_to_1e_12(string name)
    {
        var c = FixtureCase.Load(name);
        int n = c.ConfigInt("n");
        var sizes = c.Config.GetProperty("sizes").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var r = MonarchProjection.Project(c.Inputs["M"].Data, n, n, MonarchLayout.Square(n, sizes[0], sizes[1]));
        Compare.Close(c.Outputs["projected"], r.Projected, 1e-12, "projected");
        Assert.Equal(c.Outputs["frobenius_error"].Data[0], r.FrobeniusError, 1e-12);
        Assert.Equal(c.Outputs["relative_error"].Data[0], r.RelativeError, 1e-12);
        Assert.Equal(c.Outputs["block_singular_values"].Shape, new[] { r.Factors.Layout.L, r.Factors.Layout.K, Math.Min(r.Factors.Layout.S, r.Factors.Layout.P) });
        AssertSingularValues(c.Outputs["block_singular_values"], r);
        Assert.Equal(r.FrobeniusError, r.DiscardedError, 1e-12);
    }

    [Fact]
    public void A_random_Gaussian_16x16_projects_with_relative_error_0_61()
    {
        var c = FixtureCase.Load("monarch_project_random16");
        var r = MonarchProjection.Project(c.Inputs["M"].Data, 16, 16, MonarchLayout.Square(16, 4, 4));
        Assert.Equal(0.61, Math.Round(r.RelativeError, 2));
        Assert.Equal(0.6076859763247761, r.RelativeError, 1e-13);
        // The MonarchLinear layout with sqrt(n) blocks is the same layout, so the same answer.
        Assert.Equal(r.RelativeError, MonarchProjection.Project(c.Inputs["M"].Data, 16, 16, 4).RelativeError, 1e-15);
    }

    [Fact]
    public void The_complex_DFT_fixture_projects_exactly()
    {
        var c = FixtureCase.Load("monarch_project_dft16");
        var re = c.Inputs["M_re"].Data; var im = c.Inputs["M_im"].Data;
        var m = re.Select((v, i) => new Complex(v, im[i])).ToArray();
        var r = MonarchProjection.Project(m, 16, 16, MonarchLayout.Square(16, 4, 4));
        Compare.Close(c.Outputs["projected_re"], r.Projected.Select(z => z.Real).ToArray(), 1e-12, "projected re");
        Compare.Close(c.Outputs["projected_im"], r.Projected.Select(z => z.Imaginary).ToArray(), 1e-12, "projected im");
        Assert.Equal(c.Outputs["frobenius_error"].Data[0], r.FrobeniusError, 1e-12);
        Assert.Equal(c.Outputs["relative_error"].Data[0], r.RelativeError, 1e-12);
        Compare.Close(c.Outputs["block_singular_values"], r.Blocks.SelectMany(b => b.SingularValues).ToArray(), 1e-12, "block singular values");
        Assert.True(r.RelativeError <= 1e-13, $"relative error {r.RelativeError:E3}");
        // The fixture's input is our closed-form DFT matrix with the input permutation.
        var perm = MonarchTransforms.DftPermutation(16);
        Assert.Equal(c.Inputs["perm"].Data, perm.Select(p => (double)p));
        var f = MonarchTransforms.DftMatrix(16);
        for (int j = 0; j < 16; j++)
        for (int col = 0; col < 16; col++)
            Assert.True(Complex.Abs(f[j * 16 + perm[col]] - m[j * 16 + col]) <= 1e-15);
    }

    public static TheoryData<string, int, int, int> LinearLayouts => new()
    {
        // name, in, out, nblocks: square root-n, square with rank-4 blocks, rectangular both ways, padding on both
        // sides, and layouts where some block pairs have no node at all (Q not a multiple of L).
        { "16x16/4", 16, 16, 4 },
        { "64x64/4", 64, 64, 4 },
        { "36x36/3", 36, 36, 3 },
        { "12->8/4", 12, 8, 4 },
        { "10->20/4", 10, 20, 4 },
        { "7->5/3", 7, 5, 3 },
        { "13->29/5", 13, 29, 5 },
        { "12->16/4", 12, 16, 4 },
        { "30->9/2", 30, 9, 2 },
    };

    [Theory]
    [MemberData(nameof(LinearLayouts))]
    public void A_Monarch_matrix_projects_to_itself_and_projection_is_idempotent(string name, int inF, int outF, int nblocks)
    {
        var g = MonarchLayout.ForLinear(inF, outF, nblocks);
        var m = RandomFactors(g, 11).ToDense();
        var r = MonarchProjection.Project(m, outF, inF, g);
        Assert.True(r.RelativeError <= 1e-13, $"{name}: relative error {r.RelativeError:E3}");
        Compare.Close(m, r.Projected, 1e-12, name + " projected");

        var random = Gaussian(outF * inF, 12);
        var once = MonarchProjection.Project(random, outF, inF, g);
        var twice = MonarchProjection.Project(once.Projected, outF, inF, g);
        Compare.Close(once.Projected, twice.Projected, 1e-12, name + " idempotent");
        Assert.True(twice.FrobeniusError <= 1e-12 * once.Norm, $"{name}: second projection moved by {twice.FrobeniusError:E3}");
    }

    [Theory]
    [MemberData(nameof(LinearLayouts))]
    public void The_error_is_the_discarded_singular_values_and_Pythagoras_holds(string name, int inF, int outF, int nblocks)
    {
        var g = MonarchLayout.ForLinear(inF, outF, nblocks);
        var m = Gaussian(outF * inF, 21);
        var r = MonarchProjection.Project(m, outF, inF, g);
        Assert.Equal(r.DiscardedError, r.FrobeniusError, 1e-12);
        // ‖M‖² = ‖projected‖² + error² over the observed entries, and per block Σσ² = ‖block‖², kept part = Σ_{i<c} σ².
        double total = r.Norm * r.Norm, kept = Norm(r.Projected) * Norm(r.Projected);
        Assert.Equal(total, kept + r.FrobeniusError * r.FrobeniusError, 1e-10);
        double blocksTotal = 0;
        foreach (var b in r.Blocks)
        {
            double sub = 0, subKept = 0;
            for (int s = 0; s < b.Rows; s++)
            for (int p = 0; p < b.Columns; p++)
            {
                int idx = (s * g.L + b.OutBlock) * inF + b.InBlock * g.P + p;
                sub += m[idx] * m[idx]; subKept += r.Projected[idx] * r.Projected[idx];
            }
            Assert.Equal(sub, b.SingularValues.Sum(v => v * v), 1e-10);
            Assert.Equal(subKept, b.SingularValues.Take(b.Rank).Sum(v => v * v), 1e-10);
            Assert.Equal(g.Links(b.OutBlock, b.InBlock).Length, b.Rank);
            Assert.True(b.SingularValues.Zip(b.SingularValues.Skip(1)).All(z => z.First >= z.Second), $"{name}: singular values not descending");
            blocksTotal += sub;
        }
        Assert.Equal(total, blocksTotal, 1e-10);   // the sub-matrices tile the observed matrix
    }

    [Theory]
    [MemberData(nameof(LinearLayouts))]
    public void No_sampled_or_perturbed_Monarch_matrix_does_better(string name, int inF, int outF, int nblocks)
    {
        var g = MonarchLayout.ForLinear(inF, outF, nblocks);
        var m = Gaussian(outF * inF, 31);
        var r = MonarchProjection.Project(m, outF, inF, g);
        for (ulong seed = 0; seed < 20; seed++)
        {
            var f = RandomFactors(g, 100 + 2 * seed);
            // Scale the sample to its best multiple of itself, so it is a fair competitor.
            var d = f.ToDense();
            double dot = 0, dd = 0;
            for (int i = 0; i < d.Length; i++) { dot += d[i] * m[i]; dd += d[i] * d[i]; }
            for (int i = 0; i < d.Length; i++) d[i] *= dot / dd;
            Assert.True(FrobeniusDistance(d, m) >= r.FrobeniusError, $"{name}: a random Monarch matrix beat the projection");
        }
        // Small perturbations of the optimal factors never lower the error (it is a minimum, not just a stationary point).
        var rng = new Rng(77);
        for (int trial = 0; trial < 20; trial++)
        {
            var w1 = (double[])r.Factors.W1.Clone(); var w2 = (double[])r.Factors.W2.Clone();
            for (int i = 0; i < w1.Length; i++) w1[i] += 1e-4 * rng.NextGaussian();
            for (int i = 0; i < w2.Length; i++) w2[i] += 1e-4 * rng.NextGaussian();
            double e = FrobeniusDistance(new MonarchFactors<double>(g, w1, w2).ToDense(), m);
            Assert.True(e >= r.FrobeniusError - 1e-12, $"{name}: a perturbation lowered the error from {r.FrobeniusError:R} to {e:R}");
        }
    }

    [Fact]
    public void Factor_entries_that_only_touch_padding_are_zero_and_zero_padding_is_already_optimal()
    {
        // in 10 -> padded 12 (3 blocks of 4 would be ceil(10/3) = 4 -> 12), out 7 -> padded 9.
        var g = MonarchLayout.ForLinear(10, 7, 3);
        Assert.Equal((12, 9), (g.InExtended, g.OutExtended));
        var m = Gaussian(7 * 10, 41);
        var r = MonarchProjection.Project(m, 7, 10, g);
        for (int k = 0; k < g.K; k++)
        for (int q = 0; q < g.Q; q++)
        for (int p = g.ObservedColumns(k); p < g.P; p++)
            Assert.Equal(0.0, r.Factors.W1At(k, q, p));
        for (int l = 0; l < g.L; l++)
        for (int s = g.ObservedRows(l); s < g.S; s++)
        for (int rr = 0; rr < g.R; rr++)
            Assert.Equal(0.0, r.Factors.W2At(l, s, rr));

        // Because the free entries are whole rows and columns of each sub-matrix, fitting zeros there instead
        // (projecting the zero-padded matrix in the unpadded layout) costs nothing: appending zero rows or columns
        // leaves a matrix's singular values and its truncated SVD unchanged. Same error, same observed entries.
        var padded = new double[g.OutExtended * g.InExtended];
        for (int i = 0; i < 7; i++) Array.Copy(m, i * 10, padded, i * g.InExtended, 10);
        var naive = MonarchProjection.Project(padded, g.OutExtended, g.InExtended, MonarchLayout.FromShapes(g.W1Shape, g.W2Shape));
        Assert.Equal(r.FrobeniusError, naive.FrobeniusError, 1e-12);
        for (int i = 0; i < g.OutExtended; i++)
        for (int j = 0; j < g.InExtended; j++)
            Assert.Equal(i < 7 && j < 10 ? r.Projected[i * 10 + j] : 0.0, naive.Projected[i * g.InExtended + j], 1e-12);
    }

    [Fact]
    public void Block_pairs_with_no_linking_node_are_projected_to_zero()
    {
        var g = MonarchLayout.ForLinear(12, 16, 4);   // w1 (4, 3, 3), w2 (4, 4, 3): Q = 3 nodes per input block, L = 4
        var r = MonarchProjection.Project(Gaussian(16 * 12, 51), 16, 12, g);
        var empty = r.Blocks.Where(b => b.Rank == 0).ToArray();
        Assert.Equal(4, empty.Length);   // each input block misses exactly one of the four output blocks
        foreach (var b in empty)
            for (int s = 0; s < b.Rows; s++)
            for (int p = 0; p < b.Columns; p++)
                Assert.Equal(0.0, r.Projected[(s * g.L + b.OutBlock) * 12 + b.InBlock * g.P + p]);
    }

    [Fact]
    public void Complex_Monarch_matrices_project_to_themselves()
    {
        var g = MonarchLayout.ForLinear(10, 14, 3);
        var re1 = Gaussian(g.W1Length, 61); var im1 = Gaussian(g.W1Length, 62);
        var re2 = Gaussian(g.W2Length, 63); var im2 = Gaussian(g.W2Length, 64);
        var f = new MonarchFactors<Complex>(g, re1.Select((v, i) => new Complex(v, im1[i])).ToArray(),
                                               re2.Select((v, i) => new Complex(v, im2[i])).ToArray());
        var m = f.ToDense();
        var r = MonarchProjection.Project(m, 14, 10, g);
        Assert.True(r.RelativeError <= 1e-13, $"relative error {r.RelativeError:E3}");
        Assert.True(m.Zip(r.Projected).Max(z => Complex.Abs(z.First - z.Second)) <= 1e-12);
    }

    [Fact]
    public void Bad_input_is_refused_naming_the_problem()
    {
        var g = MonarchLayout.ForLinear(4, 4, 2);
        var e = Assert.Throws<ArgumentException>(() => MonarchProjection.Project(new double[12], 3, 4, g));
        Assert.Contains("3 x 4 matrix does not fit", e.Message);
        var m = new double[16]; m[6] = double.NaN;
        e = Assert.Throws<ArgumentException>(() => MonarchProjection.Project(m, 4, 4, g));
        Assert.Contains("entry (1, 2) is NaN", e.Message);
    }
}

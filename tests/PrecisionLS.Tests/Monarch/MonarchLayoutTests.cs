using PrecisionLS.Monarch;
using PrecisionLS.Tests.Fixtures;
using Xunit;

namespace PrecisionLS.Tests.Monarch;

/// <summary>The factor layout: fly's multiply conventions (checked through the multiply fixtures' dense matrices),
/// MonarchLinear's shapes, and the node bookkeeping the projection relies on.</summary>
public class MonarchLayoutTests
{
    [Theory]
    [InlineData("monarch_multiply_square16")]
    [InlineData("monarch_multiply_rect12to8")]
    [InlineData("monarch_multiply_rect12to6")]
    public void The_dense_form_of_the_factors_is_the_fixtures_dense_matrix(string name)
    {
        var c = FixtureCase.Load(name);
        var w1 = c.Params["w1_bfly"]; var w2 = c.Params["w2_bfly"];
        var layout = MonarchLayout.FromShapes(w1.Shape, w2.Shape);
        Assert.Equal(c.ConfigInt("n"), layout.In);
        Assert.Equal(c.ConfigInt("m"), layout.Out);
        var dense = new MonarchFactors<double>(layout, w1.Data, w2.Data).ToDense();
        Compare.Close(c.Outputs["dense"], dense, 1e-13, name + " dense");

        // y = dense x on the fixture's batch.
        var x = c.Inputs["x"].Data; int n = layout.In, m = layout.Out, batch = x.Length / n;
        var y = new double[batch * m];
        for (int b = 0; b < batch; b++)
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
            y[b * m + i] += dense[i * n + j] * x[b * n + j];
        Compare.Close(c.Outputs["y"], y, 1e-12, name + " y");
    }

    [Theory]
    [InlineData(16, 16, 4, new[] { 4, 4, 4 }, new[] { 4, 4, 4 })]
    [InlineData(12, 8, 4, new[] { 4, 2, 3 }, new[] { 4, 2, 2 })]     // in_blksz 3 > out_blksz 2
    [InlineData(10, 20, 4, new[] { 4, 3, 3 }, new[] { 4, 5, 3 })]    // in_blksz 3 <= out_blksz 5
    [InlineData(64, 64, 4, new[] { 4, 16, 16 }, new[] { 4, 16, 16 })]
    [InlineData(7, 5, 3, new[] { 3, 2, 3 }, new[] { 3, 2, 2 })]
    public void ForLinear_has_MonarchLinears_shapes(int inF, int outF, int nblocks, int[] w1, int[] w2)
    {
        var g = MonarchLayout.ForLinear(inF, outF, nblocks);
        Assert.Equal(w1, g.W1Shape);
        Assert.Equal(w2, g.W2Shape);
        Assert.Equal((inF, outF), (g.In, g.Out));
    }

    [Fact]
    public void Square_is_the_reference_layout_and_ForLinear_with_root_n_blocks_agrees()
    {
        var g = MonarchLayout.Square(12, 4, 3);
        Assert.Equal(new[] { 4, 3, 3 }, g.W1Shape);
        Assert.Equal(new[] { 3, 4, 4 }, g.W2Shape);
        Assert.Equal(MonarchLayout.Square(64, 8, 8), MonarchLayout.ForLinear(64, 64, 8));
        Assert.Equal(8, MonarchLayout.DefaultBlocks(64, 64));
        Assert.Equal(4, MonarchLayout.DefaultBlocks(12, 12));
        Assert.Equal(4, MonarchLayout.DefaultBlocks(16, 9));
        Assert.Throws<ArgumentException>(() => MonarchLayout.Square(12, 5, 3));
        Assert.Throws<ArgumentException>(() => MonarchLayout.FromShapes([2, 3, 4], [5, 1, 1]));
    }

    public static TheoryData<int[], int[], int, int> Layouts => new()
    {
        { [4, 4, 4], [4, 4, 4], 16, 16 },
        { [4, 3, 3], [3, 4, 4], 12, 12 },
        { [2, 6, 6], [3, 2, 4], 12, 6 },
        { [4, 3, 3], [4, 5, 3], 10, 20 },
        { [4, 16, 16], [4, 16, 16], 64, 64 },
        { [3, 5, 2], [5, 4, 3], 5, 17 },
        { [4, 2, 3], [4, 2, 2], 12, 8 },
    };

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Every_node_links_exactly_one_pair_of_blocks(int[] w1, int[] w2, int inF, int outF)
    {
        var g = MonarchLayout.FromShapes(w1, w2, inF, outF);
        var seen = new int[g.Intermediate];
        for (int l = 0; l < g.L; l++)
        for (int k = 0; k < g.K; k++)
        {
            var expected = Enumerable.Range(0, g.Intermediate).Where(t => t / g.Q == k && t % g.L == l).ToArray();
            Assert.Equal(expected, g.Links(l, k));
            foreach (int t in expected) seen[t]++;
        }
        Assert.All(seen, n => Assert.Equal(1, n));
        // Observed rows/columns are the prefixes whose global index is in range.
        for (int l = 0; l < g.L; l++) Assert.Equal(Enumerable.Range(0, g.S).Count(s => s * g.L + l < g.Out), g.ObservedRows(l));
        for (int k = 0; k < g.K; k++) Assert.Equal(Enumerable.Range(0, g.P).Count(p => k * g.P + p < g.In), g.ObservedColumns(k));
    }
}

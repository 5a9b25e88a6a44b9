using PrecisionLS.Nn;
using PrecisionLS.Numerics;
using PrecisionLS.Tests.Fixtures;
using Xunit;

namespace PrecisionLS.Tests.Nn;

/// <summary>MonarchLinear and BlockdiagLinear: shapes and names as in fly, ToDense against forward, padding, gradients.</summary>
public class StructuredLinearTests
{
    private static ILinearLayer<double> Create(string kind, ParameterStore<double> s, int inF, int outF, int nblocks, bool bias = true) => kind switch
    {
        "monarch" => new MonarchLinear<double>(s, "lin", inF, outF, nblocks, bias),
        _ => new BlockdiagLinear<double>(s, "lin", inF, outF, nblocks, bias),
    };

    private static ModuleHarness Harness(ILinearLayer<double> layer, ParameterStore<double> s, int rows)
    {
        double[] xKeep = [];
        return new ModuleHarness(s,
            x => { xKeep = x; var y = new double[rows * layer.Out]; layer.Forward(x, y, rows); return y; },
            dy => { var dx = new double[rows * layer.In]; layer.Backward(xKeep, dy, dx, rows, accumulateDx: true); return dx; });
    }

    [Theory]
    [InlineData(64, 256, 4, new[] { 4, 16, 16 }, new[] { 4, 64, 16 })]     // in_blksz <= out_blksz
    [InlineData(256, 64, 4, new[] { 4, 16, 64 }, new[] { 4, 16, 16 })]     // in_blksz > out_blksz
    [InlineData(10, 7, 4, new[] { 4, 2, 3 }, new[] { 4, 2, 2 })]           // both padded: in 10 -> 12, out 8 -> 7
    [InlineData(7, 10, 4, new[] { 4, 2, 2 }, new[] { 4, 3, 2 })]
    [InlineData(16, 16, 4, new[] { 4, 4, 4 }, new[] { 4, 4, 4 })]          // square: the Monarch paper's shape
    public void Monarch_factor_shapes_and_names_follow_fly(int inF, int outF, int nblocks, int[] shape1, int[] shape2)
    {
        var s = new ParameterStore<double>();
        var m = new MonarchLinear<double>(s, "_backbone.transformer.h.0.mlp.c_fc", inF, outF, nblocks);
        Assert.Equal(["_backbone.transformer.h.0.mlp.c_fc.bias", "_backbone.transformer.h.0.mlp.c_fc.blkdiag1", "_backbone.transformer.h.0.mlp.c_fc.blkdiag2"],
            s.Parameters.Select(p => p.Name));
        Assert.Equal(shape1, m.Blkdiag1.Shape);
        Assert.Equal(shape2, m.Blkdiag2.Shape);
        Assert.Equal([outF], m.Bias!.Shape);
        Assert.Equal(nblocks * ((inF + nblocks - 1) / nblocks), m.InExtended);
        Assert.Equal(nblocks * ((outF + nblocks - 1) / nblocks), m.OutExtended);
    }

    [Fact]
    public void Monarch_saves_the_papers_fraction_of_parameters()
    {
        // REFERENCE §6: Monarch layers cut MLP parameters to 0.3125 for 768 -> 3072 with 4 blocks.
        var s = new ParameterStore<double>();
        var m = new MonarchLinear<double>(s, "fc", 768, 3072, 4, bias: false);
        Assert.Equal(0.3125, (double)s.Size / (768 * 3072));
        Assert.Equal(m.MultiplyAdds(1), s.Size);
        var b = new ParameterStore<double>();
        _ = new BlockdiagLinear<double>(b, "fc", 768, 3072, 4, bias: false);
        Assert.Equal(0.25, (double)b.Size / (768 * 3072));
        Assert.Equal(["fc.weight"], b.Parameters.Select(p => p.Name));
        Assert.Equal([4, 768, 192], b.Parameters[0].Shape);
    }

    [Theory]
    [InlineData("monarch", 10, 7, 4)]
    [InlineData("monarch", 7, 10, 4)]
    [InlineData("monarch", 5, 13, 3)]
    [InlineData("monarch", 64, 256, 4)]
    [InlineData("monarch", 256, 64, 4)]
    [InlineData("monarch", 12, 12, 3)]
    [InlineData("monarch", 9, 4, 1)]
    [InlineData("blockdiag", 10, 7, 4)]
    [InlineData("blockdiag", 7, 10, 4)]
    [InlineData("blockdiag", 64, 256, 4)]
    [InlineData("blockdiag", 12, 12, 3)]
    [InlineData("blockdiag", 3, 5, 8)]
    public void Forward_applies_the_dense_weight_and_gradients_match_finite_differences(string kind, int inF, int outF, int nblocks)
    {
        const int rows = 7;
        var s = new ParameterStore<double>();
        var layer = Create(kind, s, inF, outF, nblocks);
        s.Allocate();
        var rng = new Rng(3);
        rng.FillGaussian(s.Values.AsSpan());
        var x = new double[rows * inF]; rng.FillGaussian(x.AsSpan());
        var y = new double[rows * outF];
        layer.Forward(x, y, rows);
        var w = new double[outF * inF];
        layer.ToDense(w);
        var yDense = new double[rows * outF];
        Gemm.NTReference<double>(x, w, yDense, rows, outF, inF, false);
        var bias = s.Value(layer.Bias!);
        for (int r = 0; r < rows; r++) for (int o = 0; o < outF; o++) yDense[r * outF + o] += bias[o];
        Compare.Close(yDense, y, 1e-13, $"{kind} {inF}->{outF}/{nblocks}: forward vs x Wᵀ + b");
        if (kind == "blockdiag")
        {
            // Outside the diagonal blocks W is zero.
            var b = (BlockdiagLinear<double>)layer;
            for (int o = 0; o < outF; o++) for (int i = 0; i < inF; i++)
                if (o / b.OutBlock != i / b.InBlock) Assert.Equal(0.0, w[o * inF + i]);
        }

        // Backward: dx = dy W, and the gradients against central differences.
        var dy = new double[rows * outF]; rng.FillGaussian(dy.AsSpan());
        var dx = new double[rows * inF];
        s.ZeroGrads();
        layer.Backward(x, dy, dx, rows, accumulateDx: false);
        var dxDense = new double[rows * inF];
        Gemm.NNReference<double>(dy, w, dxDense, rows, inF, outF, false);
        Compare.Close(dxDense, dx, 1e-13, $"{kind} {inF}->{outF}/{nblocks}: dx vs dy W");
        Harness(layer, s, rows).CheckGradients(x);
    }

    [Theory]
    [InlineData("monarch", 10, 7)]
    [InlineData("monarch", 64, 64)]
    [InlineData("blockdiag", 10, 7)]
    public void Backward_accumulates_or_overwrites_dx_and_skips_it_when_empty(string kind, int inF, int outF)
    {
        const int rows = 5;
        var s = new ParameterStore<double>();
        var layer = Create(kind, s, inF, outF, 4);
        s.Allocate();
        var rng = new Rng(9);
        rng.FillGaussian(s.Values.AsSpan());
        var x = new double[rows * inF]; rng.FillGaussian(x.AsSpan());
        var dy = new double[rows * outF]; rng.FillGaussian(dy.AsSpan());
        layer.Forward(x, new double[rows * outF], rows);
        s.ZeroGrads();
        var dx1 = new double[rows * inF];
        layer.Backward(x, dy, dx1, rows, accumulateDx: false);
        var g1 = s.Grads.ToArray();
        var dx2 = Enumerable.Repeat(0.5, rows * inF).ToArray();
        layer.Backward(x, dy, dx2, rows, accumulateDx: true);
        for (int i = 0; i < dx1.Length; i++) Assert.Equal(0.5 + dx1[i], dx2[i], 1e-14);
        for (int i = 0; i < g1.Length; i++) Assert.Equal(2 * g1[i], s.Grads[i], 1e-13);
        s.ZeroGrads();
        layer.Backward(x, dy, default, rows, accumulateDx: true);
        Assert.Equal(g1, s.Grads);
    }

    [Fact]
    public void Reset_parameters_follow_the_fly_bounds()
    {
        var s = new ParameterStore<double>();
        var m = new MonarchLinear<double>(s, "m", 64, 256, 4);
        var b = new BlockdiagLinear<double>(s, "b", 64, 256, 4);
        s.Allocate();
        var rng = new Rng(1);
        m.ResetParameters(rng); b.ResetParameters(rng);
        void Bound(Parameter p, double bound)
        {
            var v = s.Value(p).ToArray();
            Assert.True(v.All(e => Math.Abs(e) <= bound), $"{p.Name} exceeds {bound}");
            Assert.True(v.Max(Math.Abs) > 0.9 * bound, $"{p.Name} does not fill ±{bound}");
        }
        Bound(m.Blkdiag1, 1 / Math.Sqrt(16)); Bound(m.Blkdiag2, 1 / Math.Sqrt(16)); Bound(m.Bias!, 1 / Math.Sqrt(256));
        Bound(b.Weight, 1 / Math.Sqrt(16)); Bound(b.Bias!, 1 / Math.Sqrt(256));
    }

    [Fact]
    public void Float32_agrees_with_float64()
    {
        const int rows = 9, inF = 10, outF = 7;
        foreach (var kind in new[] { "monarch", "blockdiag" })
        {
            var s64 = new ParameterStore<double>(); var l64 = Create(kind, s64, inF, outF, 4); s64.Allocate();
            var s32 = new ParameterStore<float>();
            ILinearLayer<float> l32 = kind == "monarch" ? new MonarchLinear<float>(s32, "lin", inF, outF, 4) : new BlockdiagLinear<float>(s32, "lin", inF, outF, 4);
            s32.Allocate();
            var rng = new Rng(2);
            rng.FillGaussian(s64.Values.AsSpan());
            for (int i = 0; i < s64.Size; i++) s32.Values[i] = (float)s64.Values[i];
            var x = new double[rows * inF]; rng.FillGaussian(x.AsSpan());
            var y64 = new double[rows * outF]; var y32 = new float[rows * outF];
            l64.Forward(x, y64, rows); l32.Forward(x.Select(v => (float)v).ToArray(), y32, rows);
            LayerNormTests.AssertSingleClose(y64, y32, 1e-5, $"{kind} y");
        }
    }

    [Fact]
    public void Rejects_bad_sizes_naming_the_layer()
    {
        var s = new ParameterStore<double>();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new MonarchLinear<double>(s, "c_fc", 8, 8, 0));
        Assert.Contains("c_fc", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new BlockdiagLinear<double>(s, "c_fc", 0, 8, 2));
    }
}

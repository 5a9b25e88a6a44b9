using PrecisionLS.Config;
using PrecisionLS.Nn;
using PrecisionLS.Numerics;
using PrecisionLS.Tests.Fixtures;
using Xunit;

namespace PrecisionLS.Tests.Nn;

/// <summary>The M2 dimension mixer (mlp_type m2_glu) and whole M2 models: formula, names, central differences.</summary>
public class M2GluTests
{
    [Fact]
    public void Computes_the_block_diagonal_gelu_glu_with_post_layernorm_and_passes_gradient_checks()
    {
        const int d = 8, up = 2, rows = 5;
        var s = new ParameterStore<double>();
        var glu = new M2Glu<double>(s, "mlp", d, up, nblocks: 4);
        s.Allocate();
        Assert.Equal(["mlp.gated_layers.weight:4,8,2", "mlp.wo.bias:8", "mlp.wo.weight:4,2,4", "mlp.layernorm.weight:8", "mlp.layernorm.bias:8"],
            s.Parameters.Select(p => $"{p.Name}:{string.Join(",", p.Shape)}"));
        var rng = new Rng(12);
        rng.FillGaussian(s.Values.AsSpan());
        var x = new double[rows * d]; rng.FillGaussian(x.AsSpan());
        var y = new double[rows * d];
        glu.Forward(x, y, rows);

        // The formula with dense matrices: a = x Gᵀ, g = gelu(a1)·a2, s = g Woᵀ + b + x, y = LN(s)
        int I = up * d;
        var G = new double[2 * I * d]; glu.GatedLayers.ToDense(G);
        var W = new double[d * I]; glu.Wo.ToDense(W);
        var b = s.Value(glu.Wo.Bias!).ToArray(); var lw = s.Value(glu.Norm.Weight).ToArray(); var lb = s.Value(glu.Norm.Bias!).ToArray();
        var expect = new double[rows * d];
        for (int r = 0; r < rows; r++)
        {
            var a = new double[2 * I];
            for (int o = 0; o < 2 * I; o++) for (int i = 0; i < d; i++) a[o] += G[o * d + i] * x[r * d + i];
            var g = new double[I];
            for (int j = 0; j < I; j++) g[j] = a[j] * 0.5 * (1 + ErrorFunction.Erf(a[j] / Math.Sqrt(2))) * a[I + j];
            var sv = new double[d];
            for (int o = 0; o < d; o++) { sv[o] = b[o] + x[r * d + o]; for (int j = 0; j < I; j++) sv[o] += W[o * I + j] * g[j]; }
            double mean = sv.Average(), vr = sv.Select(v => (v - mean) * (v - mean)).Average();
            for (int o = 0; o < d; o++) expect[r * d + o] = (sv[o] - mean) / Math.Sqrt(vr + 1e-5) * lw[o] + lb[o];
        }
        Compare.Close(expect, y, 1e-13, "m2 glu forward");

        double[] xKeep = [];
        var h = new ModuleHarness(s,
            xx => { xKeep = xx; var yy = new double[rows * d]; glu.Forward(xx, yy, rows); return yy; },
            dy => { var dx = new double[rows * d]; glu.Backward(xKeep, dy, dx, rows, accumulateDx: true); return dx; });
        h.CheckGradients(x, seed: 21);
    }

    private static ModuleHarness Harness(SequenceModel<double> model, int batch, int length)
    {
        int[] all = Enumerable.Range(0, length).ToArray();
        return new ModuleHarness(model.Store,
            x => { var y = new double[batch * length * model.OutDims]; model.Forward(x, batch, length, all, y); return y; },
            dy => { var dx = new double[batch * length * model.InDims]; model.Backward(dy, dx); return dx; });
    }

    [Theory]
    [InlineData(true, "explicit", "monarch_fft", true, false)]
    [InlineData(false, "hyena", "monarch_fft", true, true)]
    [InlineData(true, "hyena", "causal_monarch", false, true)]
    public void M2_models_pass_gradient_checks(bool causal, string filter, string conv, bool mlp, bool mlpLn)
    {
        var cfg = ConfigLoader.FromPreset("explicit-gradient",
            ["model.n_embd=8", "model.n_layer=2", "model.n_positions=7", "model.seq_op=m2", $"model.causal={causal}",
             $"model.m2_filter={filter}", $"model.m2_conv={conv}", $"model.use_mlps={mlp}", "model.mlp_type=m2_glu", "model.mlp_upfactor=2",
             $"model.use_mlp_ln={mlpLn}", "model.use_final_ln=true"]).Model;
        var model = new SequenceModel<double>(cfg);
        model.Initialize(new Rng(3));
        Assert.Equal(mlp, model.Blocks[0].M2Glu is not null);
        var rng = new Rng(4);
        foreach (var p in model.Store.Parameters.Where(p => p.Trainable && !p.Name.Contains("layernorm") && !p.Name.Contains(".ln_")))
        {
            rng.FillGaussian(model.Store.Value(p));
            System.Numerics.Tensors.TensorPrimitives.Multiply(model.Store.Value(p), 0.4, model.Store.Value(p));
        }
        int batch = 2, length = 6;
        var x = new double[batch * length * model.InDims]; new Rng(5).FillGaussian(x.AsSpan());
        Harness(model, batch, length).CheckGradients(x);
    }
}

using PrecisionLS.Config;
using PrecisionLS.Interop;
using PrecisionLS.Nn;
using PrecisionLS.Numerics;
using PrecisionLS.Tests.Fixtures;
using PrecisionLS.Training;
using Xunit;

namespace PrecisionLS.Tests.Nn;

/// <summary>model.mlp_type: Monarch and block-diagonal c_fc/c_proj in the MLP and in whole models.</summary>
public class StructuredMlpTests
{
    [Theory]
    [InlineData("monarch", "relu")]
    [InlineData("monarch", "gelu")]
    [InlineData("monarch", "glu")]
    [InlineData("blockdiag", "gelu")]
    [InlineData("blockdiag", "glu")]
    public void Mlp_with_structured_layers_passes_gradient_checks(string type, string activ)
    {
        const int d = 6, up = 2, rows = 7;
        var s = new ParameterStore<double>();
        var mlp = new Mlp<double>(s, "mlp", d, up, activ, type: type, nblocks: 4);   // 6 and 12 are not multiples of 4: padding
        s.Allocate();
        var rng = new Rng(31);
        rng.FillGaussian(s.Values.AsSpan());
        for (int i = 0; i < s.Size; i++) s.Values[i] *= 0.7;
        double[] xKeep = [];
        var h = new ModuleHarness(s,
            x => { xKeep = x; var y = new double[rows * d]; mlp.Forward(x, y, rows); return y; },
            dy => { var dx = new double[rows * d]; mlp.Backward(xKeep, dy, dx, rows); return dx; });
        var x0 = new double[rows * d]; rng.FillGaussian(x0.AsSpan());
        h.CheckGradients(x0, seed: 13);
        Assert.Equal(type, mlp.Type);
        Assert.IsType(type == "monarch" ? typeof(MonarchLinear<double>) : typeof(BlockdiagLinear<double>), mlp.CFc);
    }

    [Fact]
    public void Mlp_registers_the_fly_names()
    {
        var s = new ParameterStore<double>();
        _ = new Mlp<double>(s, "_backbone.transformer.h.0.mlp", 8, 4, "relu", type: "monarch");
        Assert.Equal(
            [("_backbone.transformer.h.0.mlp.c_fc.bias", "32"), ("_backbone.transformer.h.0.mlp.c_fc.blkdiag1", "4,2,2"),
             ("_backbone.transformer.h.0.mlp.c_fc.blkdiag2", "4,8,2"), ("_backbone.transformer.h.0.mlp.c_proj.bias", "8"),
             ("_backbone.transformer.h.0.mlp.c_proj.blkdiag1", "4,2,8"), ("_backbone.transformer.h.0.mlp.c_proj.blkdiag2", "4,2,2")],
            s.Parameters.Select(p => (p.Name, string.Join(",", p.Shape))));
        var b = new ParameterStore<double>();
        _ = new Mlp<double>(b, "mlp", 8, 4, "relu", type: "blockdiag", nblocks: 2);
        Assert.Equal([("mlp.c_fc.bias", "32"), ("mlp.c_fc.weight", "2,16,4"), ("mlp.c_proj.bias", "8"), ("mlp.c_proj.weight", "2,4,16")],
            b.Parameters.Select(p => (p.Name, string.Join(",", p.Shape))));
        var e = Assert.Throws<ArgumentException>(() => new Mlp<double>(new ParameterStore<double>(), "mlp", 8, 4, "relu", type: "sparse"));
        Assert.Contains("model.mlp_type 'sparse'", e.Message);
    }

    [Theory]
    [InlineData("model.mlp_type=butterfly", "model.mlp_type 'butterfly' is unknown; accepted: dense, monarch, blockdiag")]
    [InlineData("model.mlp_nblocks=0", "model.mlp_nblocks = 0 must be a positive integer")]
    [InlineData("model.mlp_nblocks=two", "model.mlp_nblocks = 'two' is not an integer")]
    public void Bad_values_are_rejected_naming_the_key_value_and_accepted_values(string assignment, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => new SequenceModel<double>(
            ConfigLoader.FromPreset("explicit-gradient", ["model.use_mlps=true", assignment]).Model));
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    // explicit-gradient (43,787 parameters, BaseConv 3 x 64) plus an MLP x4 per layer, 4 blocks:
    //  dense:     c_fc 64·256 + 256, c_proj 256·64 + 64                         = 33,088 per layer
    //  monarch:   c_fc bias 256 + blkdiag1 4·16·16 + blkdiag2 4·64·16 = 5,376;
    //             c_proj (in_blksz 64 > out_blksz 16) blkdiag1 4·16·64 + blkdiag2 4·16·16 + bias 64 = 5,184 → 10,560 per layer
    //  blockdiag: c_fc 4·64·16 + 256, c_proj 4·16·64 + 64                        = 8,512 per layer
    [InlineData("dense", 43_787 + 3 * 33_088)]
    [InlineData("monarch", 43_787 + 3 * 10_560)]
    [InlineData("blockdiag", 43_787 + 3 * 8_512)]
    public void Parameter_counts_match_a_hand_count(string type, long expected)
    {
        var cfg = ConfigLoader.FromPreset("explicit-gradient", ["model.use_mlps=true", $"model.mlp_type={type}"]).Model;
        Assert.Equal(4, cfg.MlpNblocks);
        Assert.Equal(expected, new SequenceModel<double>(cfg).Store.TrainableCount);
    }

    [Fact]
    public void Initialisation_scales_c_proj_output_factor_and_zeroes_biases()
    {
        var cfg = ConfigLoader.FromPreset("explicit-gradient", ["model.use_mlps=true", "model.mlp_type=monarch", "model.n_layer=8"]).Model;
        var model = new SequenceModel<double>(cfg);
        model.Initialize(new Rng(2));
        var s = model.Store;
        double MaxAbs(string name) => s.Value(s.Get("_backbone.transformer.h.3.mlp." + name)).ToArray().Max(Math.Abs);
        double scale = 1 / Math.Sqrt(2.0 * 8);
        // fan_in = last dimension: c_fc blkdiag1 (4,16,16), blkdiag2 (4,64,16); c_proj blkdiag1 (4,16,64), blkdiag2 (4,16,16).
        Assert.InRange(MaxAbs("c_fc.blkdiag1"), 0.9 / 4, 1 / 4.0);
        Assert.InRange(MaxAbs("c_fc.blkdiag2"), 0.9 / 4, 1 / 4.0);
        Assert.InRange(MaxAbs("c_proj.blkdiag1"), 0.9 / 8, 1 / 8.0);
        Assert.InRange(MaxAbs("c_proj.blkdiag2"), 0.9 * scale / 4, scale / 4);
        Assert.Equal(0.0, MaxAbs("c_fc.bias"));
        Assert.Equal(0.0, MaxAbs("c_proj.bias"));

        var bcfg = cfg with { MlpType = "blockdiag" };
        var bmodel = new SequenceModel<double>(bcfg);
        bmodel.Initialize(new Rng(2));
        double BMax(string name) => bmodel.Store.Value(bmodel.Store.Get("_backbone.transformer.h.0.mlp." + name)).ToArray().Max(Math.Abs);
        Assert.InRange(BMax("c_fc.weight"), 0.9 / 4, 1 / 4.0);         // (4, 64, 16): fan_in 16
        Assert.InRange(BMax("c_proj.weight"), 0.9 * scale / 8, scale / 8);   // (4, 16, 64): fan_in 64
    }

    [Theory]
    [InlineData("monarch")]
    [InlineData("blockdiag")]
    public void Model_with_structured_mlps_trains_with_finite_decreasing_loss(string type)
    {
        // The linear primitive (y = x·c, target variance 180) with MLPs: a dense MLP goes from about 130 to about 1 in 40 steps.
        var cfg = ConfigLoader.FromPreset("primitives-linear",
            ["training.batch_size=32", "model.n_embd=16", $"model.mlp_type={type}", "model.mlp_nblocks=4", "training.learning_rate=1e-2"]);
        var trainer = new Trainer<double>(cfg);
        var losses = new List<double>();
        for (int i = 0; i < 30; i++)
        {
            var step = trainer.TrainStep();
            Assert.False(step.Skipped, $"step {i} skipped");
            Assert.True(double.IsFinite(step.Loss), $"step {i}: loss {step.Loss}");
            losses.Add(step.Loss);
        }
        double first = losses.Take(5).Average(), last = losses.TakeLast(5).Average();
        Assert.True(last < 0.25 * first, $"{type}: loss went from {first:G4} (first 5 steps) to {last:G4} (last 5)");
    }

    [Fact]
    public void Gradients_of_a_model_with_monarch_mlps_match_finite_differences()
    {
        var cfg = ConfigLoader.FromPreset("explicit-gradient",
            ["model.n_embd=6", "model.n_layer=2", "model.n_positions=7", "model.use_mlps=true", "model.mlp_upfactor=2",
             "model.mlp_activ=gelu", "model.mlp_type=monarch", "model.mlp_nblocks=3"]).Model;
        var model = new SequenceModel<double>(cfg);
        model.Initialize(new Rng(3));
        int batch = 2, length = 5;
        int[] all = Enumerable.Range(0, length).ToArray();
        var h = new ModuleHarness(model.Store,
            x => { var y = new double[batch * length * model.OutDims]; model.Forward(x, batch, length, all, y); return y; },
            dy => { var dx = new double[batch * length * model.InDims]; model.Backward(dy, dx); return dx; });
        var x0 = new double[batch * length * model.InDims]; new Rng(5).FillGaussian(x0.AsSpan());
        h.CheckGradients(x0);
    }

    [Fact]
    public void Safetensors_export_keeps_the_structured_names_and_loads_back()
    {
        var cfg = ConfigLoader.FromPreset("explicit-gradient", ["model.use_mlps=true", "model.mlp_type=monarch", "model.n_embd=16", "model.n_layer=2"]).Model;
        var a = new SequenceModel<double>(cfg); a.Initialize(new Rng(7));
        var b = new SequenceModel<double>(cfg); b.Initialize(new Rng(8));
        string path = Path.Combine(Path.GetTempPath(), "pls-monarch-" + Guid.NewGuid().ToString("N") + ".safetensors");
        try
        {
            StateDict.Export(a, path);
            var names = StateDict.Tensors(a).Select(t => t.Name).ToList();
            Assert.Contains("_backbone.transformer.h.1.mlp.c_fc.blkdiag1", names);
            Assert.Contains("_backbone.transformer.h.1.mlp.c_proj.blkdiag2", names);
            Assert.Contains("_backbone.transformer.h.1.mlp.c_proj.bias", names);
            StateDict.Load(b, path);
            Assert.Equal(a.Store.Values, b.Store.Values);
        }
        finally { File.Delete(path); }
    }
}

using static PrecisionLS.Tests.Fixtures.TangentHarness;
using PrecisionLS.Config;
using PrecisionLS.Nn;
using PrecisionLS.Numerics;
using PrecisionLS.Tests.Fixtures;
using Xunit;

namespace PrecisionLS.Tests.Nn;

/// <summary>
/// The forward-mode tangents (JVP, issue 9) of every layer and of whole models: against fourth-order central
/// differences (relative 1e-7) and, through the adjoint identity ⟨u, J v⟩ = ⟨Jᵀ u, v⟩, against the existing
/// Backward to machine precision (the directional derivative of the fixtures' gradients). Fixture parameters and
/// inputs where a fixture exists, seeded random ones for the variants past the fixtures.
/// </summary>
public class TangentTests
{
    private const string Prefix = "m.";

    // ---- Linear layers ----

    private static TangentHarness LinearHarness(ParameterStore<double> s, ILinearLayer<double> lin, int rows)
    {
        double[] keep = [];
        return new TangentHarness(s, rows * lin.In,
            x => { keep = x; var y = new double[rows * lin.Out]; lin.Forward(x, y, rows); return y; },
            (x, dx, v) => { var dy = new double[rows * lin.Out]; lin.ForwardTangent(x, dx, v, dy, rows); return dy; },
            u => { var dx = new double[rows * lin.In]; lin.Backward(keep, u, dx, rows, accumulateDx: false); return dx; });
    }

    [Fact]
    public void Linear_tangent_on_the_fixture()
    {
        var fx = FixtureCase.Load("linear");
        var s = new ParameterStore<double>();
        var lin = new Linear<double>(s, "m", 5, 4);
        s.Allocate();
        var h = LinearHarness(s, lin, 6);
        h.LoadParams(fx, Prefix);
        Check(h, fx.Inputs["x"].Data);
    }

    [Theory]
    [InlineData("monarch", 6, 10)]
    [InlineData("monarch", 10, 6)]
    [InlineData("monarch", 16, 16)]
    [InlineData("blockdiag", 6, 10)]
    [InlineData("blockdiag", 12, 8)]
    public void Structured_linear_tangent(string type, int inF, int outF)
    {
        var s = new ParameterStore<double>();
        ILinearLayer<double> lin = type == "monarch" ? new MonarchLinear<double>(s, "m", inF, outF, 4) : new BlockdiagLinear<double>(s, "m", inF, outF, 4);
        s.Allocate();
        new Rng(3).FillGaussian(s.Values.AsSpan());
        const int rows = 7;
        Check(LinearHarness(s, lin, rows), Gaussian(rows * inF, 4));
    }

    [Fact]
    public void Frozen_linear_ignores_the_direction()
    {
        var s = new ParameterStore<double>();
        var lin = new Linear<double>(s, "m", 3, 2, trainable: false);
        s.Allocate();
        new Rng(1).FillGaussian(s.Values.AsSpan());
        var x = Gaussian(3 * 4, 2);
        var y = new double[2 * 4];
        lin.Forward(x, y, 4);
        var dy = new double[y.Length];
        lin.ForwardTangent(x, default, Gaussian(s.Size, 3), dy, 4);
        Assert.All(dy, e => Assert.Equal(0.0, e));
    }

    // ---- LayerNorm ----

    [Fact]
    public void LayerNorm_tangent_on_the_fixture()
    {
        var fx = FixtureCase.Load("layernorm");
        var s = new ParameterStore<double>();
        var ln = new LayerNorm<double>(s, "m", 6);
        s.Allocate();
        int rows = fx.Inputs["x"].Size / 6;
        double[] keep = [];
        var h = new TangentHarness(s, rows * 6,
            x => { keep = x; var y = new double[x.Length]; ln.Forward(x, y, rows); return y; },
            (x, dx, v) => { var dy = new double[x.Length]; ln.ForwardTangent(x, dx, v, dy, rows); return dy; },
            u => { var dx = new double[u.Length]; ln.Backward(keep, u, dx, rows); return dx; });
        h.LoadParams(fx, Prefix);
        Check(h, fx.Inputs["x"].Data);
    }

    // ---- MLP ----

    private static TangentHarness MlpHarness(ParameterStore<double> s, Mlp<double> mlp, int rows)
    {
        int d = mlp.D;
        double[] keep = [];
        return new TangentHarness(s, rows * d,
            x => { keep = x; var y = new double[rows * d]; mlp.Forward(x, y, rows); return y; },
            (x, dx, v) => { var dy = new double[rows * d]; mlp.ForwardTangent(x, dx, v, dy, rows); return dy; },
            u => { var dx = new double[rows * d]; mlp.Backward(keep, u, dx, rows); return dx; });
    }

    [Theory]
    [InlineData("mlp_relu")]
    [InlineData("mlp_gelu")]
    [InlineData("mlp_glu")]
    public void Mlp_tangent_on_the_fixture(string name)
    {
        var fx = FixtureCase.Load(name);
        int d = fx.ConfigInt("n_embd"), up = fx.ConfigInt("mlp_upfactor");
        var s = new ParameterStore<double>();
        var mlp = new Mlp<double>(s, "m", d, up, fx.ConfigString("mlp_activ"));
        s.Allocate();
        var h = MlpHarness(s, mlp, fx.Inputs["x"].Size / d);
        h.LoadParams(fx, Prefix);
        Check(h, fx.Inputs["x"].Data);
    }

    [Theory]
    [InlineData("relu", "monarch")]
    [InlineData("gelu", "monarch")]
    [InlineData("glu", "monarch")]
    [InlineData("relu", "blockdiag")]
    [InlineData("gelu", "blockdiag")]
    [InlineData("glu", "blockdiag")]
    public void Structured_mlp_tangent(string activ, string type)
    {
        const int d = 6, rows = 5;
        var s = new ParameterStore<double>();
        var mlp = new Mlp<double>(s, "m", d, 2, activ, type: type, nblocks: 4);
        s.Allocate();
        new Rng(8).FillGaussian(s.Values.AsSpan());
        Check(MlpHarness(s, mlp, rows), Gaussian(rows * d, 9));
    }

    // ---- Sequence mixers ----

    private static TangentHarness MixerHarness(ParameterStore<double> s, ISequenceMixer<double> m, int batch, int length, int d)
    {
        double[] keep = [];
        int n = batch * length * d;
        return new TangentHarness(s, n,
            x => { keep = x; var y = new double[n]; m.Forward(x, y, batch, length); return y; },
            (x, dx, v) => { var dy = new double[n]; m.ForwardTangent(x, dx, v, dy, batch, length); return dy; },
            u => { var dx = new double[n]; m.Backward(keep, u, dx, batch, length); return dx; });
    }

    [Theory]
    [InlineData("attn_softmax_causal")]
    [InlineData("attn_softmax_noncausal")]
    [InlineData("attn_linear_causal")]
    [InlineData("attn_linear_noncausal")]
    public void Attention_tangent_on_the_fixture(string name)
    {
        var fx = FixtureCase.Load(name);
        int d = fx.ConfigInt("n_embd"), nHead = fx.ConfigInt("n_head"), length = fx.ConfigInt("seq_len");
        int batch = fx.Inputs["x"].Shape[0];
        var s = new ParameterStore<double>();
        var m = new Attention<double>(s, "m", d, nHead, fx.ConfigBool("causal"), fx.ConfigBool("use_softmax_for_attn"));
        s.Allocate();
        var h = MixerHarness(s, m, batch, length, d);
        h.LoadParams(fx, Prefix);
        Check(h, fx.Inputs["x"].Data);
    }

    [Theory]
    [InlineData(true, true, 19)]     // past one vector of tokens: padded rows, several row tiles
    [InlineData(false, true, 19)]
    [InlineData(true, false, 11)]
    [InlineData(false, false, 11)]
    public void Attention_tangent_on_longer_sequences(bool causal, bool softmax, int length)
    {
        const int d = 8, nHead = 2, batch = 2;
        var s = new ParameterStore<double>();
        var m = new Attention<double>(s, "m", d, nHead, causal, softmax);
        s.Allocate();
        new Rng(21).FillGaussian(s.Values.AsSpan());
        for (int i = 0; i < s.Size; i++) s.Values[i] *= 0.5;
        Check(MixerHarness(s, m, batch, length, d), Gaussian(batch * length * d, 22));
    }

    [Theory]
    [InlineData("baseconv_short_causal")]
    [InlineData("baseconv_short_causal_noresid")]
    public void BaseConv_tangent_on_the_fixture(string name)
    {
        var fx = FixtureCase.Load(name);
        int d = fx.ConfigInt("d_model"), lMax = fx.ConfigInt("l_max"), l = fx.ConfigInt("seq_len");
        int batch = fx.Inputs["u"].Shape[0];
        var s = new ParameterStore<double>();
        var m = new BaseConv<double>(s, "m", d, lMax, fx.ConfigBool("causal"), fx.ConfigBool("resid"));
        s.Allocate();
        var h = MixerHarness(s, m, batch, l, d);
        h.LoadParams(fx, Prefix);
        Check(h, fx.Inputs["u"].Data);
    }

    [Theory]
    [InlineData("short", false, true)]
    [InlineData("short", false, false)]
    [InlineData("long", true, true)]
    [InlineData("long", false, true)]
    [InlineData("long", true, false)]
    [InlineData("implicit", true, true)]
    [InlineData("implicit", false, true)]
    [InlineData("implicit", false, false)]
    public void BaseConv_tangent_for_every_convolution(string convType, bool causal, bool resid)
    {
        const int d = 4, lMax = 7, length = 6, batch = 2;
        var s = new ParameterStore<double>();
        var m = new BaseConv<double>(s, "m", d, lMax, causal, resid, convType);
        s.Allocate();
        new Rng(31).FillGaussian(s.Values.AsSpan());
        if (m.Conv is ImplicitLongConvolution<double> imp) imp.InitializePositionalFeatures();
        Check(MixerHarness(s, m, batch, length, d), Gaussian(batch * length * d, 32));
    }

    // ---- Convolutions alone (ungated) ----

    private static TangentHarness ConvHarness(ParameterStore<double> s, IConvolution<double> c, int batch, int length)
    {
        double[] keep = [];
        int n = batch * length * c.Channels;
        return new TangentHarness(s, n,
            x => { keep = x; var y = new double[n]; c.Forward(x, y, default, default, batch, length); return y; },
            (x, dx, v) => { var dy = new double[n]; c.ForwardTangent(x, dx, v, dy, batch, length); return dy; },
            u => { var dx = new double[n]; c.Backward(keep, u, default, default, default, dx, batch, length); return dx; });
    }

    [Theory]
    [InlineData("conv_short_causal")]
    [InlineData("conv_short_causal_full")]
    [InlineData("conv_short_noncausal_odd")]
    [InlineData("conv_short_noncausal_even")]
    [InlineData("conv_long_causal")]
    [InlineData("conv_long_noncausal")]
    [InlineData("conv_implicit_causal")]
    [InlineData("conv_implicit_noncausal")]
    public void Convolution_tangent_on_the_fixture(string name)
    {
        var fx = FixtureCase.Load(name);
        int d = fx.ConfigInt("d_model"), l = fx.ConfigInt("seq_len");
        int batch = fx.Inputs["x"].Shape[0];
        bool causal = fx.ConfigBool("causal"), resid = fx.ConfigBool("resid");
        var s = new ParameterStore<double>();
        IConvolution<double> c = name.StartsWith("conv_short", StringComparison.Ordinal)
            ? new ShortConvolution<double>(s, "m.conv", d, fx.ConfigInt("kernel_size"), causal, resid)   // fixture names "conv.weight"
            : name.StartsWith("conv_long", StringComparison.Ordinal)
                ? new LongConvolution<double>(s, "m", d, fx.ConfigInt("l_max"), causal, resid)
                : new ImplicitLongConvolution<double>(s, "m", d, fx.ConfigInt("l_max"), causal, resid);
        s.Allocate();
        if (c is ImplicitLongConvolution<double> imp) imp.InitializePositionalFeatures();
        var h = ConvHarness(s, c, batch, l);
        h.LoadParams(fx, Prefix);
        Check(h, fx.Inputs["x"].Data);
    }

    // ---- Whole models ----

    private static TangentHarness ModelHarness(SequenceModel<double> model, int batch, int length, int[] reads)
    {
        int nOut = batch * reads.Length * model.OutDims;
        return new TangentHarness(model.Store, 0,
            x => { var y = new double[nOut]; model.Forward(x, batch, length, reads, y); return y; },
            (x, dx, v) => { var jv = new double[nOut]; model.ForwardTangent(v, jv); return jv; },
            u => { model.Backward(u); return []; });
    }

    [Theory]
    [InlineData("model_baseconv")]
    [InlineData("model_attn_mlp_ln")]
    public void Model_tangent_on_the_fixture(string name)
    {
        var fx = FixtureCase.Load(name);
        var model = new SequenceModel<double>(SequenceModelTests.ConfigOf(fx));
        int batch = fx.Inputs["x"].Shape[0], length = fx.Inputs["x"].Shape[1];
        var h = ModelHarness(model, batch, length, Enumerable.Range(0, length).ToArray());
        h.LoadParams(fx);
        Check(h, fx.Inputs["x"].Data);
        // Reading a subset of the positions (the gather after the stack).
        Check(ModelHarness(model, batch, length, [1, length - 1]), fx.Inputs["x"].Data);
    }

    [Fact]
    public void Model_tangent_on_the_explicit_gradient_preset()
    {
        var config = ConfigLoader.FromPreset("explicit-gradient").Model;
        var model = new SequenceModel<double>(config);
        model.Initialize(new Rng(41));
        Perturb(model, 42, 0.02);
        const int batch = 2;
        int length = config.NPositions;
        var h = ModelHarness(model, batch, length, [length - 1]);
        Check(h, Gaussian(batch * length * model.InDims, 43));
    }

    private static void Perturb(SequenceModel<double> model, ulong seed, double scale)
    {
        var noise = Gaussian(model.Store.Size, seed, scale);
        foreach (var p in model.Store.Parameters)
            if (p.Trainable) for (int i = p.Offset; i < p.Offset + p.Length; i++) model.Store.Values[i] += noise[i];
    }

    public static TheoryData<string> ModelVariants() =>
    [
        "attn linear noncausal glu monarch final_ln",
        "attn softmax noncausal gelu blockdiag",
        "attn linear causal relu dense frozen",
        "base_conv long noncausal",
        "base_conv implicit causal noresid",
        "base_conv short noncausal ln frozen",
    ];

    internal static ModelConfig VariantConfig(string variant)
    {
        var w = variant.Split(' ');
        bool attn = w[0] == "attn";
        return new ModelConfig
        {
            NDims = 3, NPositions = 7, NEmbd = 8, NLayer = 2, NHead = 2,
            SeqOp = w[0],
            ConvType = attn ? "short" : w[1],
            UseSoftmaxForAttn = attn && w[1] == "softmax",
            Causal = w[2] == "causal",
            UseMlps = attn,
            MlpActiv = attn ? w[3] : "relu",
            MlpType = attn ? w[4] : "dense",
            MlpUpfactor = 2,
            UseResid = !w.Contains("noresid"),
            UseSeqopLn = attn || w.Contains("ln"),
            UseMlpLn = attn,
            UseFinalLn = w.Contains("final_ln") || w.Contains("ln"),
            TrainProj = !w.Contains("frozen"),
            TrainPos = !w.Contains("frozen"),
        };
    }

    [Theory]
    [MemberData(nameof(ModelVariants))]
    public void Model_tangent_for_every_variant(string variant)
    {
        var model = new SequenceModel<double>(VariantConfig(variant));
        model.Initialize(new Rng(51));
        Perturb(model, 52, 0.2);
        const int batch = 2, length = 6;
        Check(ModelHarness(model, batch, length, [0, 3, 5]), Gaussian(batch * length * model.InDims, 53));
    }

    [Fact]
    public void Model_tangent_checks_its_arguments()
    {
        var model = new SequenceModel<double>(VariantConfig("base_conv long noncausal"));
        Assert.Throws<InvalidOperationException>(() => model.ForwardTangent(new double[model.Store.Size], new double[100]));
        var x = Gaussian(2 * 4 * model.InDims, 1);
        var y = new double[2 * model.OutDims];
        model.Forward(x, 2, 4, [3], y);
        Assert.Throws<ArgumentException>(() => model.ForwardTangent(new double[model.Store.Size - 1], new double[y.Length]));
        Assert.Throws<ArgumentException>(() => model.ForwardTangent(new double[model.Store.Size], new double[y.Length - 1]));
    }
}

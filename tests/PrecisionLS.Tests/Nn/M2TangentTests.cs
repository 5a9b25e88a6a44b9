using static PrecisionLS.Tests.Fixtures.TangentHarness;
using PrecisionLS.Config;
using PrecisionLS.Nn;
using PrecisionLS.Numerics;
using PrecisionLS.Tests.Fixtures;
using PrecisionLS.Training;
using Xunit;

namespace PrecisionLS.Tests.Nn;

/// <summary>
/// The forward-mode tangents of the Monarch Mixer layers (seq_op m2, mlp_type m2_glu) and of whole M2 models, with
/// the <see cref="TangentHarness"/>: against fourth-order central differences (relative 1e-7) and, through the
/// adjoint identity ⟨u, J v⟩ = ⟨Jᵀ u, v⟩, against the existing Backward to machine precision (which also checks that
/// a Backward after the tangent gives the same gradients bit for bit). Every filter (explicit, Hyena), direction
/// (causal, bidirectional), engine (monarch_fft, fft, causal_monarch) and the residual long convolution.
/// </summary>
[Collection(nameof(SharedPoolCollection))]   // the Gauss-Newton check runs on the shared worker pool, which other tests reconfigure
public class M2TangentTests
{
    private static TangentHarness MixerHarness(ParameterStore<double> s, ISequenceMixer<double> m, int batch, int length, int d)
    {
        double[] keep = [];
        int n = batch * length * d;
        return new TangentHarness(s, n,
            x => { keep = x; var y = new double[n]; m.Forward(x, y, batch, length); return y; },
            (x, dx, v) => { var dy = new double[n]; m.ForwardTangent(x, dx, v, dy, batch, length); return dy; },
            u => { var dx = new double[n]; m.Backward(keep, u, dx, batch, length); return dx; });
    }

    // Random trainable parameters (scaled), and the frozen Hyena buffers as the model fills them (t, deltas) or random (z).
    private static void Randomize(ParameterStore<double> s, ulong seed, double scale)
    {
        var rng = new Rng(seed);
        foreach (var p in s.Parameters)
        {
            var val = s.Value(p);
            if (p.Name.EndsWith(".pos_emb.t", StringComparison.Ordinal)) HyenaM2Filter<double>.FillTimes(val);
            else if (p.Name.EndsWith(".modulation.deltas", StringComparison.Ordinal)) HyenaM2Filter<double>.FillDeltas(val);
            else
            {
                rng.FillGaussian(val);
                for (int i = 0; i < val.Length; i++) val[i] *= scale;
            }
        }
    }

    [Theory]
    [InlineData("monarch_fft")]
    [InlineData("fft")]
    public void M2_mixer_tangent_on_the_fixture(string conv)
    {
        var fx = FixtureCase.Load("m2_sequence_mixer");
        int d = fx.ConfigInt("d_model"), l = fx.ConfigInt("seq_len");
        int batch = fx.Inputs["u"].Shape[0];
        var s = new ParameterStore<double>();
        var m = new M2SequenceMixer<double>(s, "m", d, l, causal: true, "explicit", conv);
        s.Allocate();
        var h = MixerHarness(s, m, batch, l, d);
        h.LoadParams(fx, "m.");
        Check(h, fx.Inputs["u"].Data);
    }

    [Theory]
    [InlineData(true, "explicit", "monarch_fft", false)]    // explicit causal
    [InlineData(false, "explicit", "monarch_fft", false)]   // explicit bidirectional (k and k_rev)
    [InlineData(true, "hyena", "monarch_fft", false)]       // Hyena causal
    [InlineData(false, "hyena", "monarch_fft", false)]      // Hyena bidirectional
    [InlineData(true, "explicit", "monarch_fft", true)]     // residual long conv
    [InlineData(false, "explicit", "monarch_fft", true)]
    [InlineData(true, "hyena", "monarch_fft", true)]
    [InlineData(false, "hyena", "monarch_fft", true)]
    [InlineData(true, "explicit", "fft", false)]            // MathNet's FFT
    [InlineData(false, "hyena", "fft", true)]
    [InlineData(true, "explicit", "causal_monarch", false)] // the causal Monarch map
    [InlineData(true, "hyena", "causal_monarch", true)]
    public void M2_mixer_tangent_for_every_configuration(bool causal, string filter, string conv, bool resid)
    {
        const int d = 5, lMax = 11, batch = 2, length = 9;   // L < l_max: only the first L taps are used
        var s = new ParameterStore<double>();
        var m = new M2SequenceMixer<double>(s, "m", d, lMax, causal, filter, conv, resid);
        s.Allocate();
        Randomize(s, 17, 0.5);
        Check(MixerHarness(s, m, batch, length, d), Gaussian(batch * length * d, 18));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void M2_mixer_tangent_at_full_length(bool causal)
    {
        // L = l_max: every tap (and, bidirectional, every reversed tap) is read
        const int d = 3, lMax = 7, batch = 2, length = 7;
        var s = new ParameterStore<double>();
        var m = new M2SequenceMixer<double>(s, "m", d, lMax, causal, "hyena", "monarch_fft", residualLongConv: true);
        s.Allocate();
        Randomize(s, 23, 0.5);
        Check(MixerHarness(s, m, batch, length, d), Gaussian(batch * length * d, 24));
    }

    [Fact]
    public void Monarch_fft_and_plain_fft_tangents_agree()
    {
        const int d = 4, lMax = 9, batch = 3, length = 8;
        var tangents = new List<double[]>();
        foreach (var conv in new[] { "monarch_fft", "fft" })
        {
            var s = new ParameterStore<double>();
            var m = new M2SequenceMixer<double>(s, "m", d, lMax, causal: false, "hyena", conv, residualLongConv: true);
            s.Allocate();
            Randomize(s, 29, 0.5);
            var x = Gaussian(batch * length * d, 30);
            var y = new double[x.Length];
            m.Forward(x, y, batch, length);
            var dy = new double[x.Length];
            m.ForwardTangent(x, Gaussian(x.Length, 31), Gaussian(s.Size, 32), dy, batch, length);
            tangents.Add(dy);
        }
        Compare.Close(tangents[1], tangents[0], 1e-12, "monarch fft vs plain fft tangent");
    }

    [Fact]
    public void Causal_monarch_tangent_is_causal_to_the_last_bit()
    {
        const int d = 4, lMax = 30, batch = 2, length = 23;
        var s = new ParameterStore<double>();
        var m = new M2SequenceMixer<double>(s, "m", d, lMax, causal: true, "explicit", "causal_monarch", residualLongConv: true);
        s.Allocate();
        Randomize(s, 37, 0.5);
        var x = Gaussian(batch * length * d, 38);
        var dx = Gaussian(x.Length, 39);
        var v = Gaussian(s.Size, 40);
        var y = new double[x.Length];
        var dy0 = new double[x.Length];
        m.Forward(x, y, batch, length);
        m.ForwardTangent(x, dx, v, dy0, batch, length);
        const int t = 11;
        var x2 = (double[])x.Clone(); var dx2 = (double[])dx.Clone();
        var rng = new Rng(41);
        for (int e = 0; e < batch; e++)
            for (int p = t + 1; p < length; p++)
                for (int c = 0; c < d; c++) { x2[(e * length + p) * d + c] = 1e3 * rng.NextGaussian(); dx2[(e * length + p) * d + c] = 1e3 * rng.NextGaussian(); }
        var dy2 = new double[x.Length];
        m.Forward(x2, y, batch, length);
        m.ForwardTangent(x2, dx2, v, dy2, batch, length);
        for (int e = 0; e < batch; e++)
            for (int p = 0; p <= t; p++)
                for (int c = 0; c < d; c++)
                {
                    int i = (e * length + p) * d + c;
                    Assert.True(BitConverter.DoubleToInt64Bits(dy0[i]) == BitConverter.DoubleToInt64Bits(dy2[i]), $"tangent at t={p} differs: {dy0[i]:R} vs {dy2[i]:R}");
                }
    }

    [Fact]
    public void Frozen_m2_parameters_ignore_the_direction()
    {
        // A direction only on frozen entries (the Hyena positional features, times and deltas) gives a zero tangent.
        const int d = 3, lMax = 6, batch = 1, length = 5;
        var s = new ParameterStore<double>();
        var m = new M2SequenceMixer<double>(s, "m", d, lMax, causal: false, "hyena", "monarch_fft", residualLongConv: true);
        s.Allocate();
        Randomize(s, 43, 0.5);
        var x = Gaussian(batch * length * d, 44);
        var y = new double[x.Length];
        m.Forward(x, y, batch, length);
        var v = new double[s.Size];
        foreach (var p in s.Parameters.Where(p => !p.Trainable)) v.AsSpan(p.Offset, p.Length).Fill(1.0);
        Assert.Contains(s.Parameters, p => !p.Trainable);
        var dy = new double[x.Length];
        m.ForwardTangent(x, default, v, dy, batch, length);
        Assert.All(dy, e => Assert.Equal(0.0, e));
    }

    // ---- M2 GLU ----

    [Theory]
    [InlineData(8, 2, 4)]
    [InlineData(6, 3, 2)]
    public void M2_glu_tangent(int d, int upfactor, int nblocks)
    {
        const int rows = 7;
        var s = new ParameterStore<double>();
        var glu = new M2Glu<double>(s, "m", d, upfactor, nblocks);
        s.Allocate();
        Randomize(s, 47, 0.6);
        double[] keep = [];
        var h = new TangentHarness(s, rows * d,
            x => { keep = x; var y = new double[x.Length]; glu.Forward(x, y, rows); return y; },
            (x, dx, v) => { var dy = new double[x.Length]; glu.ForwardTangent(x, dx, v, dy, rows); return dy; },
            u => { var dx = new double[u.Length]; glu.Backward(keep, u, dx, rows, accumulateDx: false); return dx; });
        Check(h, Gaussian(rows * d, 48));
    }

    // ---- Whole M2 models ----

    private static TangentHarness ModelHarness(SequenceModel<double> model, int batch, int length, int[] reads)
    {
        int nOut = batch * reads.Length * model.OutDims;
        return new TangentHarness(model.Store, 0,
            x => { var y = new double[nOut]; model.Forward(x, batch, length, reads, y); return y; },
            (x, dx, v) => { var jv = new double[nOut]; model.ForwardTangent(v, jv); return jv; },
            u => { model.Backward(u); return []; });
    }

    private static SequenceModel<double> Model(ModelConfig config, ulong seed, double noise)
    {
        var model = new SequenceModel<double>(config);
        model.Initialize(new Rng(seed));
        var z = Gaussian(model.Store.Size, seed + 1, noise);
        foreach (var p in model.Store.Parameters)
            if (p.Trainable) for (int i = p.Offset; i < p.Offset + p.Length; i++) model.Store.Values[i] += z[i];
        return model;
    }

    public static TheoryData<string, string> PresetVariants() => new()
    {
        { "explicit-gradient-m2", "" },
        { "explicit-gradient-m2-causal", "" },
        { "explicit-gradient-m2", "model.use_mlp_ln=true model.m2_filter=hyena model.m2_residual_long_conv=true" },
        { "explicit-gradient-m2", "model.causal=false model.m2_filter=hyena model.m2_residual_long_conv=true model.use_seqop_ln=true model.use_final_ln=true" },
        { "explicit-gradient-m2", "model.causal=false model.m2_conv=fft model.use_mlp_ln=true" },
        { "explicit-gradient-m2-causal", "model.m2_filter=hyena model.m2_residual_long_conv=true model.use_mlps=false" },
    };

    [Theory]
    [MemberData(nameof(PresetVariants))]
    public void M2_model_tangent_on_the_presets(string preset, string extra)
    {
        string[] overrides = ["model.n_embd=8", "model.n_layer=2", "model.use_mlps=true", "model.mlp_type=m2_glu", "model.mlp_upfactor=2",
            .. extra.Split(' ', StringSplitOptions.RemoveEmptyEntries)];
        var config = ConfigLoader.FromPreset(preset, overrides).Model;
        Assert.Equal("m2", config.SeqOp);
        var model = Model(config, 61, 0.05);
        const int batch = 2;
        int length = config.NPositions;
        Check(ModelHarness(model, batch, length, [3, length - 1]), Gaussian(batch * length * model.InDims, 63));
    }

    [Theory]
    [InlineData("monarch_fft")]
    [InlineData("causal_monarch")]
    public void Gauss_newton_product_of_a_tiny_m2_model_matches_the_explicit_jacobian(string conv)
    {
        var config = new ModelConfig
        {
            NDims = 2, NPositions = 5, NEmbd = 4, NLayer = 2, NHead = 1, SeqOp = "m2", M2Conv = conv, M2Filter = "hyena",
            M2ResidualLongConv = true, Causal = true, UseMlps = true, MlpType = "m2_glu", MlpUpfactor = 2, MlpNblocks = 2,
            UseResid = true, UseSeqopLn = false, UseMlpLn = true, UseFinalLn = false, TrainProj = true, TrainPos = true,
        };
        var model = Model(config, 71, 0.2);
        const int batch = 40, length = 5;
        int[] reads = [2, 4];
        var x = Gaussian(batch * length * model.InDims, 73);
        int nOut = batch * reads.Length * model.OutDims, nP = model.Store.Size;
        // J [outputs, parameters], column j = J e_j from ForwardTangent
        var y = new double[nOut];
        model.Forward(x, batch, length, reads, y);
        var jac = new double[nOut, nP];
        var e = new double[nP]; var col = new double[nOut];
        for (int j = 0; j < nP; j++)
        {
            e[j] = 1;
            model.ForwardTangent(e, col);
            e[j] = 0;
            for (int i = 0; i < nOut; i++) jac[i, j] = col[i];
        }
        var v = Gaussian(nP, 74);
        var jv = new double[nOut];
        for (int i = 0; i < nOut; i++) { double sum = 0; for (int j = 0; j < nP; j++) sum += jac[i, j] * v[j]; jv[i] = sum; }
        var expected = new double[nP];
        for (int j = 0; j < nP; j++) { double sum = 0; for (int i = 0; i < nOut; i++) sum += jac[i, j] * jv[i]; expected[j] = sum; }

        var mj = new ModelJacobian<double>(model);
        mj.SetBatch(x, batch, length, reads);
        var jtjv = new double[nP];
        var jv2 = new double[nOut];
        mj.GaussNewton(v, jtjv, jv2);
        double scaleJv = jv.Max(Math.Abs), errJv = 0;
        for (int i = 0; i < nOut; i++) errJv = Math.Max(errJv, Math.Abs(jv[i] - jv2[i]));
        Assert.True(errJv <= 1e-13 * scaleJv, $"J v: max difference {errJv:E2} against {scaleJv:E2}");
        double scale = expected.Max(Math.Abs), err = 0;
        for (int j = 0; j < nP; j++) err = Math.Max(err, Math.Abs(expected[j] - jtjv[j]));
        Assert.True(err <= 1e-13 * scale, $"J^T J v: max difference {err:E2} against {scale:E2}");
        foreach (var p in model.Store.Parameters.Where(p => !p.Trainable))
            for (int i = p.Offset; i < p.Offset + p.Length; i++) Assert.Equal(0.0, jtjv[i]);
    }
}

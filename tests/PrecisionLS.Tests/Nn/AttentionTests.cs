using PrecisionLS.Nn;
using PrecisionLS.Numerics;
using PrecisionLS.Tests.Fixtures;
using Xunit;

namespace PrecisionLS.Tests.Nn;

/// <summary>
/// The attention mixer (softmax and linear, causal and not) against the PyTorch float64 fixtures, central
/// differences, an independent naive formula, exact causality, float32 and its argument checks.
/// </summary>
public class AttentionTests
{
    private const string Prefix = "attn";

    private static (Attention<T> Mixer, ParameterStore<T> Store) Build<T>(int d, int nHead, bool causal, bool softmax)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var s = new ParameterStore<T>();
        var m = new Attention<T>(s, Prefix, d, nHead, causal, softmax);
        s.Allocate();
        return (m, s);
    }

    private static ModuleHarness Harness(Attention<double> m, ParameterStore<double> s, int batch, int length)
    {
        double[] xKeep = [];
        return new ModuleHarness(s,
            x => { xKeep = x; var y = new double[x.Length]; m.Forward(x, y, batch, length); return y; },
            dy => { var dx = new double[dy.Length]; m.Backward(xKeep, dy, dx, batch, length); return dx; });
    }

    // The fixtures name parameters relative to the module ("c_attn.weight"); the mixer registers "attn.c_attn.weight".
    private static FixtureCase Prefixed(FixtureCase fx) => new()
    {
        Name = fx.Name, Config = fx.Config, Inputs = fx.Inputs, Buffers = fx.Buffers, Outputs = fx.Outputs, Upstream = fx.Upstream,
        Params = fx.Params.ToDictionary(kv => Prefix + "." + kv.Key, kv => kv.Value),
        Grads = fx.Grads.ToDictionary(kv => kv.Key.StartsWith("param:", StringComparison.Ordinal) ? "param:" + Prefix + "." + kv.Key[6..] : kv.Key, kv => kv.Value),
    };

    [Theory]
    [InlineData("attn_softmax_causal")]
    [InlineData("attn_softmax_noncausal")]
    [InlineData("attn_linear_causal")]
    [InlineData("attn_linear_noncausal")]
    public void Matches_fixture_and_finite_differences(string name)
    {
        var fx = FixtureCase.Load(name);
        int d = fx.ConfigInt("n_embd"), nHead = fx.ConfigInt("n_head"), length = fx.ConfigInt("seq_len");
        int batch = fx.Inputs["x"].Shape[0];
        var (m, s) = Build<double>(d, nHead, fx.ConfigBool("causal"), fx.ConfigBool("use_softmax_for_attn"));
        Assert.Equal(fx.Params.Keys.Select(k => Prefix + "." + k), s.Parameters.Select(p => p.Name));   // names and order
        var h = Harness(m, s, batch, length);
        h.MatchFixture(Prefixed(fx), "x");
        h.CheckGradients(fx.Inputs["x"].Data);
    }

    // Shapes past the fixtures': several row tiles, head sizes on the 512-bit, 256-bit and scalar column paths.
    public static TheoryData<int, int, int, int, bool, bool> Shapes()
    {
        var data = new TheoryData<int, int, int, int, bool, bool>();
        foreach (bool causal in new[] { true, false })
            foreach (bool softmax in new[] { true, false })
            {
                data.Add(2, 11, 12, 3, causal, softmax);    // hs 4
                data.Add(2, 9, 18, 3, causal, softmax);     // hs 6: 256-bit + scalar
                data.Add(1, 21, 24, 2, causal, softmax);    // hs 12: 512 + 256
                data.Add(2, 17, 32, 2, causal, softmax);    // hs 16
            }
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Finite_differences_on_larger_shapes(int batch, int length, int d, int nHead, bool causal, bool softmax)
    {
        var (m, s) = Build<double>(d, nHead, causal, softmax);
        var rng = new Rng(11);
        rng.FillGaussian(s.Values.AsSpan());
        for (int i = 0; i < s.Size; i++) s.Values[i] *= 0.4;
        var x = new double[batch * length * d];
        rng.FillGaussian(x.AsSpan());
        Harness(m, s, batch, length).CheckGradients(x);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Matches_a_naive_formula(int batch, int length, int d, int nHead, bool causal, bool softmax)
    {
        var (m, s) = Build<double>(d, nHead, causal, softmax);
        var rng = new Rng(5);
        rng.FillGaussian(s.Values.AsSpan());
        for (int i = 0; i < s.Size; i++) s.Values[i] *= 0.5;
        var x = new double[batch * length * d];
        rng.FillGaussian(x.AsSpan());
        var y = new double[x.Length];
        m.Forward(x, y, batch, length);
        var expected = Naive(s, x, batch, length, d, nHead, causal, softmax);
        double scale = expected.Max(Math.Abs);
        for (int i = 0; i < y.Length; i++)
            Assert.True(Math.Abs(y[i] - expected[i]) <= 1e-13 * scale, $"y[{i}] = {y[i]:R}, naive {expected[i]:R}");
    }

    // y = c_proj(concat_h A_h v_h) with the triple loops written out (REFERENCE §2), nothing shared with the layer.
    private static double[] Naive(ParameterStore<double> s, double[] x, int batch, int length, int d, int nHead, bool causal, bool softmax)
    {
        var wa = s.Value(s.Get(Prefix + ".c_attn.weight")).ToArray(); var ba = s.Value(s.Get(Prefix + ".c_attn.bias")).ToArray();
        var wp = s.Value(s.Get(Prefix + ".c_proj.weight")).ToArray(); var bp = s.Value(s.Get(Prefix + ".c_proj.bias")).ToArray();
        int hs = d / nHead;
        var y = new double[batch * length * d];
        for (int b = 0; b < batch; b++)
        {
            var qkv = new double[length, 3 * d];
            for (int t = 0; t < length; t++)
                for (int o = 0; o < 3 * d; o++)
                {
                    double acc = ba[o];
                    for (int i = 0; i < d; i++) acc += wa[o * d + i] * x[(b * length + t) * d + i];
                    qkv[t, o] = acc;
                }
            var cat = new double[length, d];
            for (int h = 0; h < nHead; h++)
            {
                var att = new double[length, length];
                for (int i = 0; i < length; i++)
                    for (int j = 0; j < length; j++)
                    {
                        double acc = 0;
                        for (int c = 0; c < hs; c++) acc += qkv[i, h * hs + c] * qkv[j, d + h * hs + c];
                        att[i, j] = acc / Math.Sqrt(hs);
                    }
                for (int i = 0; i < length; i++)
                {
                    if (softmax)
                    {
                        double max = double.NegativeInfinity;
                        for (int j = 0; j < length; j++) if (!causal || j <= i) max = Math.Max(max, att[i, j]);
                        double sum = 0;
                        for (int j = 0; j < length; j++) { att[i, j] = !causal || j <= i ? Math.Exp(att[i, j] - max) : 0; sum += att[i, j]; }
                        for (int j = 0; j < length; j++) att[i, j] /= sum;
                    }
                    else if (causal)
                        for (int j = i + 1; j < length; j++) att[i, j] = 0;
                }
                for (int i = 0; i < length; i++)
                    for (int c = 0; c < hs; c++)
                    {
                        double acc = 0;
                        for (int j = 0; j < length; j++) acc += att[i, j] * qkv[j, 2 * d + h * hs + c];
                        cat[i, h * hs + c] = acc;
                    }
            }
            for (int t = 0; t < length; t++)
                for (int o = 0; o < d; o++)
                {
                    double acc = bp[o];
                    for (int i = 0; i < d; i++) acc += wp[o * d + i] * cat[t, i];
                    y[(b * length + t) * d + o] = acc;
                }
        }
        return y;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Causal_output_ignores_later_tokens_exactly(bool softmax)
    {
        const int batch = 2, length = 13, d = 16, nHead = 2;
        var (m, s) = Build<double>(d, nHead, causal: true, softmax);
        var rng = new Rng(21);
        rng.FillGaussian(s.Values.AsSpan());
        var x = new double[batch * length * d];
        rng.FillGaussian(x.AsSpan());
        var y0 = new double[x.Length];
        m.Forward(x, y0, batch, length);
        for (int t = 0; t < length - 1; t++)
        {
            var x2 = (double[])x.Clone();
            for (int b = 0; b < batch; b++)
                for (int u = t + 1; u < length; u++)
                    for (int c = 0; c < d; c++) x2[(b * length + u) * d + c] = 100 * rng.NextGaussian();
            var y = new double[x.Length];
            m.Forward(x2, y, batch, length);
            for (int b = 0; b < batch; b++)
                for (int u = 0; u <= t; u++)
                    for (int c = 0; c < d; c++)
                    {
                        int i = (b * length + u) * d + c;
                        Assert.True(y[i] == y0[i], $"changing tokens > {t} changed y[{b},{u},{c}]: {y0[i]:R} -> {y[i]:R}");
                    }
        }
        // And the non-causal mixer does look ahead.
        var (nc, ns) = Build<double>(d, nHead, causal: false, softmax);
        s.Values.CopyTo(ns.Values, 0);
        var a = new double[x.Length]; var bOut = new double[x.Length];
        nc.Forward(x, a, batch, length);
        var x3 = (double[])x.Clone(); x3[(length - 1) * d] += 1;
        nc.Forward(x3, bOut, batch, length);
        Assert.NotEqual(a[0], bOut[0]);
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(false, false)]
    public void Float32_agrees_with_float64(bool causal, bool softmax)
    {
        const int batch = 3, length = 21, d = 32, nHead = 4;
        var (m64, s64) = Build<double>(d, nHead, causal, softmax);
        var (m32, s32) = Build<float>(d, nHead, causal, softmax);
        var rng = new Rng(8);
        rng.FillGaussian(s64.Values.AsSpan());
        for (int i = 0; i < s64.Size; i++) { s64.Values[i] = (float)(0.3 * s64.Values[i]); s32.Values[i] = (float)s64.Values[i]; }
        var x = new double[batch * length * d];
        rng.FillGaussian(x.AsSpan());
        for (int i = 0; i < x.Length; i++) x[i] = (float)x[i];
        var dy = new double[x.Length];
        rng.FillGaussian(dy.AsSpan());
        for (int i = 0; i < dy.Length; i++) dy[i] = (float)dy[i];
        var x32 = x.Select(v => (float)v).ToArray(); var dy32 = dy.Select(v => (float)v).ToArray();

        var y64 = new double[x.Length]; var y32 = new float[x.Length];
        m64.Forward(x, y64, batch, length); m32.Forward(x32, y32, batch, length);
        var dx64 = new double[x.Length]; var dx32 = new float[x.Length];
        m64.Backward(x, dy, dx64, batch, length); m32.Backward(x32, dy32, dx32, batch, length);

        AssertSingle(y64, y32, "y");
        AssertSingle(dx64, dx32, "dx");
        foreach (var p in s64.Parameters)
            AssertSingle(s64.Grad(p).ToArray(), s32.Grad(s32.Get(p.Name)).ToArray(), "gradient of " + p.Name);
    }

    private static void AssertSingle(double[] expected, float[] actual, string what)
    {
        double scale = expected.Max(Math.Abs);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-5 * scale,
                $"{what}[{i}]: float32 {actual[i]:R}, float64 {expected[i]:R} (scale {scale:E2})");
    }

    [Fact]
    public void Registers_the_authors_parameters_in_order()
    {
        var (_, s) = Build<double>(8, 2, causal: true, softmax: true);
        Assert.Equal(
            [("attn.c_attn.weight", "24,8"), ("attn.c_attn.bias", "24"), ("attn.c_proj.weight", "8,8"), ("attn.c_proj.bias", "8")],
            s.Parameters.Select(p => (p.Name, string.Join(",", p.Shape))));
    }

    [Theory]
    [InlineData(10, 3)]
    [InlineData(8, 0)]
    [InlineData(8, -2)]
    public void Bad_head_counts_are_rejected_naming_the_key(int d, int nHead)
    {
        var ex = Assert.Throws<ArgumentException>(() => new Attention<double>(new ParameterStore<double>(), Prefix, d, nHead, true, true));
        Assert.Contains("model.n_head", ex.Message);
        if (nHead > 0) Assert.Contains("model.n_embd", ex.Message);
    }

    [Fact]
    public void Counts_forward_multiply_adds()
    {
        var (causal, _) = Build<double>(16, 4, causal: true, softmax: true);
        var (full, _) = Build<double>(16, 4, causal: false, softmax: false);
        // projections (3d² + d²)·B·L = 4·256·2·5; heads 2·B·pairs·d with pairs 15 (causal) or 25
        Assert.Equal(4L * 256 * 2 * 5 + 2L * 2 * 15 * 16, causal.ForwardMultiplyAdds(2, 5));
        Assert.Equal(4L * 256 * 2 * 5 + 2L * 2 * 25 * 16, full.ForwardMultiplyAdds(2, 5));
    }

    [Fact]
    public void Backward_accumulates_and_steady_state_allocates_nothing()
    {
        const int batch = 4, length = 9, d = 16, nHead = 2;
        var (m, s) = Build<double>(d, nHead, causal: true, softmax: true);
        var rng = new Rng(3);
        rng.FillGaussian(s.Values.AsSpan());
        var x = new double[batch * length * d]; rng.FillGaussian(x.AsSpan());
        var dy = new double[x.Length]; rng.FillGaussian(dy.AsSpan());
        var y = new double[x.Length];
        var dx = new double[x.Length];
        m.Forward(x, y, batch, length);
        m.Backward(x, dy, dx, batch, length);
        var dx1 = (double[])dx.Clone(); var g1 = (double[])s.Grads.Clone();
        long before = GC.GetAllocatedBytesForCurrentThread();
        m.Forward(x, y, batch, length);
        m.Backward(x, dy, dx, batch, length);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        for (int i = 0; i < dx.Length; i++) Assert.Equal(2 * dx1[i], dx[i], 1e-12 * Math.Max(1, Math.Abs(dx[i])));
        for (int i = 0; i < g1.Length; i++) Assert.Equal(2 * g1[i], s.Grads[i], 1e-12 * Math.Max(1, Math.Abs(g1[i])));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Residual_forms_add_the_input(bool softmax)
    {
        const int batch = 2, length = 7, d = 8, nHead = 2;
        var (m, s) = Build<double>(d, nHead, causal: true, softmax);
        var rng = new Rng(9);
        rng.FillGaussian(s.Values.AsSpan());
        var x = new double[batch * length * d]; rng.FillGaussian(x.AsSpan());
        var dy = new double[x.Length]; rng.FillGaussian(dy.AsSpan());
        ISequenceMixer<double> mixer = m;
        var y = new double[x.Length]; var yr = new double[x.Length];
        mixer.Forward(x, y, batch, length);
        var dx = new double[x.Length]; mixer.Backward(x, dy, dx, batch, length);
        mixer.ForwardResidual(x, yr, batch, length);
        var dxr = new double[x.Length]; Array.Fill(dxr, double.NaN);
        mixer.BackwardResidual(x, dy, dxr, batch, length);
        for (int i = 0; i < x.Length; i++)
        {
            Assert.Equal(y[i] + x[i], yr[i], 1e-14 * Math.Max(1, Math.Abs(yr[i])));
            Assert.Equal(dx[i] + dy[i], dxr[i], 1e-14 * Math.Max(1, Math.Abs(dxr[i])));
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Same_input_gives_the_same_bits_on_every_call(bool softmax)
    {
        // Enough calls for the JIT to re-tier and the GC to move buffers: neither may change a bit.
        const int batch = 2, length = 13, d = 16, nHead = 2;
        var (m, s) = Build<double>(d, nHead, causal: true, softmax);
        var rng = new Rng(21);
        rng.FillGaussian(s.Values.AsSpan());
        var x = new double[batch * length * d]; rng.FillGaussian(x.AsSpan());
        var dy = new double[x.Length]; rng.FillGaussian(dy.AsSpan());
        var y0 = new double[x.Length]; var dx0 = new double[x.Length];
        m.Forward(x, y0, batch, length); m.Backward(x, dy, dx0, batch, length);
        for (int it = 0; it < 400; it++)
        {
            var y = new double[x.Length]; var dx = new double[x.Length];
            m.Forward(x, y, batch, length); m.Backward(x, dy, dx, batch, length);
            Assert.True(y.AsSpan().SequenceEqual(y0) && dx.AsSpan().SequenceEqual(dx0), $"call {it} gave different bits");
            if (it % 100 == 99) { GC.Collect(); Thread.Sleep(50); }
        }
    }
}

using PrecisionLS.Numerics;
using PrecisionLS.Tasks;
using PrecisionLS.Tests.Fixtures;
using Xunit;

namespace PrecisionLS.Tests.Tasks;

/// <summary>ode_icl and ode_icl_final: fixture task_ode_icl, layouts, sampling and validation.</summary>
public class OdeTaskTests
{
    private const int Nodes = 41;

    [Fact]
    public void IclMatchesFixture()
    {
        var fx = FixtureCase.Load("task_ode_icl");
        int batch = fx.ConfigInt("batch"), l = fx.ConfigInt("n_points"), dn = fx.ConfigInt("n_samples"), o = fx.ConfigInt("out_dims");
        Assert.Equal(0.0, fx.ConfigDouble("noise_variance"));
        double[] cEval = fx.Inputs["c_eval"].Data, u0 = fx.Inputs["u0"].Data, uCheb = fx.Inputs["u_cheb"].Data, t = fx.Inputs["t_eval"].Data;
        double[] modelOutput = fx.Inputs["model_output"].Data;          // [B, 2L-1, out_dims]

        var task = new OdeIclTask<double>(dn, l, o);
        Assert.Equal("ode_icl", task.Name);
        Assert.Equal(2 * l - 1, task.PromptLength);
        Assert.Equal(dn + 3, task.TokenDims);
        Assert.Equal([0, 2, 4], task.ReadPositions.ToArray());
        Assert.Equal(o - 1, task.ReadChannelStart);
        var prompt = new double[batch * task.PromptLength * task.TokenDims];
        var target = new double[batch * task.TargetSize];
        OdeIclTask<double>.BuildPrompt(cEval, u0, uCheb, t, batch, l, dn, prompt, target);
        Compare.Close(fx.Outputs["u_eval"], target, 1e-13, "u_eval");
        Compare.Close(fx.Outputs["target"], target, 1e-13, "target");
        Compare.Close(fx.Outputs["prompt"], prompt, 1e-13, "prompt");

        // training_loss = mean((model_output[:, 0::2, -1:] - target)²).
        int rows = task.ReadPositions.Length;
        var read = new double[batch * rows * o];
        for (int e = 0; e < batch; e++)
            for (int r = 0; r < rows; r++)
                modelOutput.AsSpan((e * task.PromptLength + task.ReadPositions[r]) * o, o).CopyTo(read.AsSpan((e * rows + r) * o, o));
        var grad = new double[read.Length];
        double loss = task.Loss(read, target, batch, grad);
        Compare.Close(fx.Outputs["training_loss"].Data, [loss], 1e-13, "training_loss");

        double up = fx.Upstream["training_loss"].Data[0];
        var gradFull = new double[modelOutput.Length];
        for (int e = 0; e < batch; e++)
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < o; c++)
                    gradFull[(e * task.PromptLength + task.ReadPositions[r]) * o + c] = up * grad[(e * rows + r) * o + c];
        Compare.Close(fx.Grads["input:model_output"], gradFull, 1e-13, "grad model_output");
    }

    [Fact]
    public void IclFinalMatchesFixture()
    {
        var fx = FixtureCase.Load("task_ode_icl");
        int batch = fx.ConfigInt("batch"), l = fx.ConfigInt("n_points"), dn = fx.ConfigInt("n_samples");
        var task = new OdeIclFinalTask<double>(dn, l, 1);
        Assert.Equal("ode_icl_final", task.Name);
        Assert.Equal(l, task.PromptLength);
        Assert.Equal([l - 1], task.ReadPositions.ToArray());
        var prompt = new double[batch * task.PromptLength * task.TokenDims];
        var target = new double[batch * task.TargetSize];
        OdeIclFinalTask<double>.BuildPrompt(fx.Inputs["c_eval"].Data, fx.Inputs["u0"].Data, fx.Inputs["u_cheb"].Data,
            fx.Inputs["t_eval"].Data, batch, l, dn, prompt, target);
        Compare.Close(fx.Outputs["prompt_final"], prompt, 1e-13, "prompt_final");
        Compare.Close(fx.Outputs["target_final"], target, 1e-13, "target_final");
    }

    [Fact]
    public void WorkedExamplesFromTheDocs()
    {
        // u_cheb constant per equation and t* = 0 (snaps to node 20), so u(t*) is that constant exactly.
        double[] cEval = [1, 2, 3, 4], u0 = [5, 6], t = [0.0];
        var uCheb = new double[2 * Nodes];
        uCheb.AsSpan(0, Nodes).Fill(7); uCheb.AsSpan(Nodes).Fill(8);
        var prompt = new double[3 * 5]; var target = new double[2];
        OdeIclTask<double>.BuildPrompt(cEval, u0, uCheb, t, 1, 2, 2, prompt, target);
        Assert.Equal([1.0, 2, 5, 1, 0, 0, 0, 0, 0, 7, 3, 4, 6, 1, 0], prompt);
        Assert.Equal([7.0, 8], target);

        var promptFinal = new double[2 * 5]; var targetFinal = new double[1];
        OdeIclFinalTask<double>.BuildPrompt(cEval, u0, uCheb, t, 1, 2, 2, promptFinal, targetFinal);
        Assert.Equal([1.0, 2, 5, 1, 7, 3, 4, 6, 1, 0], promptFinal);
        Assert.Equal([8.0], targetFinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SampleLaysOutTheSamplersProblems(bool final)
    {
        const int dn = 6, l = 5, batch = 3;
        var opts = new OdeOperatorOptions(operator_scale: 0.1);
        ITask<double> task = final ? new OdeIclFinalTask<double>(dn, l, 2, opts) : new OdeIclTask<double>(dn, l, 2, opts);
        var prompt = new double[batch * task.PromptLength * task.TokenDims];
        var target = new double[batch * task.TargetSize];
        task.Sample(new Rng(77), batch, prompt, target);

        // The bare sampler on the same stream gives the problems; BuildPrompt lays them out identically.
        var sampler = new OdeOperatorSampler(dn, l, opts);
        var rng = new Rng(77);
        double[] cEval = new double[batch * l * dn], u0 = new double[batch * l], uCheb = new double[batch * l * Nodes], t = new double[batch];
        for (int e = 0; e < batch; e++)
        {
            sampler.SampleExample(rng);
            sampler.CEval.CopyTo(cEval.AsSpan(e * l * dn));
            sampler.U0.CopyTo(u0.AsSpan(e * l));
            sampler.UCheb.CopyTo(uCheb.AsSpan(e * l * Nodes));
            t[e] = sampler.QueryPoint;
        }
        var expectedPrompt = new double[prompt.Length];
        var expectedTarget = new double[target.Length];
        if (final) OdeIclFinalTask<double>.BuildPrompt(cEval, u0, uCheb, t, batch, l, dn, expectedPrompt, expectedTarget);
        else OdeIclTask<double>.BuildPrompt(cEval, u0, uCheb, t, batch, l, dn, expectedPrompt, expectedTarget);
        Assert.Equal(expectedPrompt, prompt);
        Assert.Equal(expectedTarget, target);
        Assert.Equal(1, task.ReadChannelStart);            // the last of out_dims = 2 channels
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void SamplerDrawsParametersInTheirRanges(int eqnClass)
    {
        const double s = 0.4, u0Scale = 2.5;
        var sampler = new OdeOperatorSampler(21, 25, new OdeOperatorOptions(eqn_class: eqnClass, operator_scale: s, u0_scale: u0Scale));
        var rng = new Rng(11);
        double[] expectedEval = new double[21];
        OdeOperatorSampler.Linspace(-1, 1, expectedEval);
        Assert.Equal(expectedEval, sampler.EvaluationPoints.ToArray());
        Assert.Equal(0.0, expectedEval[10]);
        double worstSameDraw = 0;
        for (int e = 0; e < 20; e++)
        {
            sampler.SampleExample(rng);
            if (eqnClass == 2) Assert.Equal(0.0, sampler.A1); else Assert.InRange(sampler.A1, 1 - s / 2, 1 + s / 2);
            if (eqnClass == 1) Assert.Equal(0.0, sampler.A2); else Assert.InRange(sampler.A2, 1 - s / 2, 1 + s / 2);
            Assert.InRange(sampler.A3, -s, s);
            Assert.InRange(sampler.A4, -s, s);
            Assert.InRange(sampler.QueryPoint, -1, 1);
            foreach (double v in sampler.U0) Assert.InRange(v, -u0Scale, u0Scale);
            // c_eval and c_cheb are one GP draw: the degree-40 interpolant of c_cheb reproduces c_eval.
            for (int i = 0; i < sampler.Points; i++)
                for (int j = 0; j < 21; j++)
                    worstSameDraw = Math.Max(worstSameDraw, Math.Abs(
                        sampler.Grid.Interpolate(sampler.CCheb.Slice(i * Nodes, Nodes), expectedEval[j]) - sampler.CEval[i * 21 + j]));
        }
        // Not 1e-15: the SVD factor carries sqrt(rounding-level eigenvalues) ~ 1e-8 of non-smooth noise (as numpy's).
        Assert.True(worstSameDraw < 1e-6, $"c_eval vs interpolated c_cheb: {worstSameDraw:E2}");
    }

    [Fact]
    public void ChebAndRandtEvaluationPoints()
    {
        var cheb = new OdeOperatorSampler(5, 2, new OdeOperatorOptions(c_sampling: "cheb"));
        Assert.Equal([1.0, Math.Cos(Math.PI / 4), Math.Cos(Math.PI / 2), Math.Cos(3 * Math.PI / 4), -1.0], cheb.EvaluationPoints.ToArray());
        var randt = new OdeOperatorSampler(4, 3, new OdeOperatorOptions(c_sampling: "randt"));
        var rng = new Rng(1);
        randt.SampleExample(rng);
        double[] first = randt.EvaluationPoints.ToArray();
        foreach (double x in first) Assert.InRange(x, -1, 1);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++)
                Assert.Equal(randt.Grid.Interpolate(randt.CCheb.Slice(i * Nodes, Nodes), first[j]), randt.CEval[i * 4 + j], 1e-6);
        randt.SampleExample(rng);
        Assert.NotEqual(first, randt.EvaluationPoints.ToArray());     // fresh points per example
    }

    [Fact]
    public void NoiseTouchesOnlyThePromptsU()
    {
        const int dn = 4, l = 4, batch = 2;
        var clean = new OdeIclTask<double>(dn, l, 1);
        var noisy = new OdeIclTask<double>(dn, l, 1, noiseVariance: 0.5);
        var pc = new double[batch * clean.PromptLength * clean.TokenDims]; var tc = new double[batch * l];
        var pn = new double[pc.Length]; var tn = new double[tc.Length];
        clean.Sample(new Rng(3), 1, pc, tc);
        noisy.Sample(new Rng(3), 1, pn, tn);
        Assert.Equal(tc[..l], tn[..l]);                               // first row: same draws, noiseless target
        int w = dn + 3;
        for (int k = 0; k < (2 * l - 1) * w; k++)
        {
            bool isAnswer = (k / w) % 2 == 1 && k % w == w - 1;
            if (isAnswer) Assert.NotEqual(pc[k], pn[k]); else Assert.Equal(pc[k], pn[k]);
        }
    }

    [Fact]
    public void CurriculumChangesPointsAndIgnoresDims()
    {
        var task = new OdeIclTask<double>(21, 25, 1);
        Assert.Equal(49, task.MaxPromptLength);
        Assert.Equal(25, task.MaxReadCount);
        task.SetSize(10, 3);                                          // dims accepted, token width unchanged
        Assert.Equal(19, task.PromptLength);
        Assert.Equal(24, task.TokenDims);
        Assert.Equal(10, task.TargetSize);
        var prompt = new double[2 * 19 * 24]; var target = new double[2 * 10];
        task.Sample(new Rng(4), 2, prompt, target);
        Assert.Contains(prompt, v => v != 0 && v != 1);
        Assert.Throws<ArgumentException>(() => task.SetSize(26, 21));

        var final = new OdeIclFinalTask<double>(21, 25, 1);
        final.SetSize(7, 21);
        Assert.Equal(7, final.PromptLength);
        Assert.Equal([6], final.ReadPositions.ToArray());
    }

    [Fact]
    public void SamplingIsReproducibleAndAllocatesNothingAfterTheFirstCall()
    {
        var task = new OdeIclFinalTask<double>(21, 25, 1, new OdeOperatorOptions(eqn_class: 1, gp_length: 0.1), noiseVariance: 0.01);
        var p1 = new double[4 * 25 * 24]; var t1 = new double[4];
        var p2 = new double[p1.Length]; var t2 = new double[4];
        var rng = new Rng(9);
        task.Sample(rng, 4, p1, t1);                       // first call sizes the generator's scratch
        rng.Reseed(9);
        long before = GC.GetAllocatedBytesForCurrentThread();
        task.Sample(rng, 4, p2, t2);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(p1, p2);
        Assert.Equal(t1, t2);
        Assert.Equal(0, allocated);
        task.Sample(new Rng(10), 4, p2, t2);
        Assert.NotEqual(t1, t2);

        // Float prompts are the double ones rounded.
        var single = new OdeIclFinalTask<float>(21, 25, 1, new OdeOperatorOptions(eqn_class: 1, gp_length: 0.1), noiseVariance: 0.01);
        var pf = new float[p1.Length]; var tf = new float[4];
        single.Sample(new Rng(9), 4, pf, tf);
        for (int k = 0; k < pf.Length; k++) Assert.Equal((float)p1[k], pf[k]);
    }

    [Fact]
    public void RejectsBadSizesAndOptions()
    {
        void Expect(Action make, string key, string value)
        {
            var e = Assert.Throws<ArgumentException>(make);
            Assert.Contains($"{key} = {value}", e.Message);
        }
        Expect(() => new OdeIclTask<double>(0, 25, 1), "n_dims", "0");
        Expect(() => new OdeIclTask<double>(21, 0, 1), "n_points", "0");
        Expect(() => new OdeIclFinalTask<double>(21, 25, 0), "out_dims", "0");
        Expect(() => new OdeIclTask<double>(21, 25, 1, noiseVariance: -1), "noise_variance", "-1");
        Expect(() => new OdeIclTask<double>(21, 25, 1, new OdeOperatorOptions(c_sampling: "grid")), "c_sampling", "'grid'");
        Expect(() => new OdeIclTask<double>(21, 25, 1, new OdeOperatorOptions(eqn_class: 3)), "eqn_class", "3");
        Expect(() => new OdeIclTask<double>(21, 25, 1, new OdeOperatorOptions(operator_scale: double.NaN)), "operator_scale", "NaN");
        Expect(() => new OdeIclTask<double>(21, 25, 1, new OdeOperatorOptions(gp_length: 0)), "gp_length", "0");
        Expect(() => new OdeIclTask<double>(21, 25, 1, new OdeOperatorOptions(u0_scale: -2)), "u0_scale", "-2");
        var task = new OdeIclTask<double>(3, 2, 1);
        Expect(() => task.Sample(new Rng(1), 2, new double[5], new double[4]), "prompt has 5 elements, needs batch·3·6", "36");
    }
}

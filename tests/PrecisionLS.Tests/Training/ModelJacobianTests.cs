using PrecisionLS.Config;
using PrecisionLS.Nn;
using PrecisionLS.Numerics;
using PrecisionLS.Tests.Fixtures;
using PrecisionLS.Training;
using Xunit;

namespace PrecisionLS.Tests.Training;

/// <summary>
/// <see cref="ModelJacobian{T}"/> against the explicit Jacobian of a tiny model, built column by column from
/// <see cref="SequenceModel{T}.ForwardTangent"/>; its products are independent of the thread count.
/// </summary>
[Collection(nameof(SharedPoolCollection))]
public class ModelJacobianTests
{
    private static double[] Gaussian(int n, ulong seed)
    {
        var a = new double[n];
        new Rng(seed).FillGaussian(a.AsSpan());
        return a;
    }

    private static ModelConfig Tiny(string seqOp, bool trainProj) => new()
    {
        NDims = 2, NPositions = 5, NEmbd = 4, NLayer = 2, NHead = 2, SeqOp = seqOp, ConvType = "short",
        Causal = true, UseMlps = seqOp == "attn", MlpUpfactor = 2, MlpActiv = "gelu", UseResid = true,
        UseSeqopLn = seqOp == "attn", UseMlpLn = seqOp == "attn", UseFinalLn = seqOp == "attn",
        TrainProj = trainProj, TrainPos = trainProj,
    };

    private static SequenceModel<double> Model(ModelConfig config)
    {
        var model = new SequenceModel<double>(config);
        model.Initialize(new Rng(61));
        var noise = Gaussian(model.Store.Size, 62);
        foreach (var p in model.Store.Parameters)
            if (p.Trainable) for (int i = p.Offset; i < p.Offset + p.Length; i++) model.Store.Values[i] += 0.3 * noise[i];
        return model;
    }

    // J [outputs, parameters], column j = J e_j from ForwardTangent on the whole batch.
    private static double[,] ExplicitJacobian(SequenceModel<double> model, double[] x, int batch, int length, int[] reads, out double[] y)
    {
        int nOut = batch * reads.Length * model.OutDims, nP = model.Store.Size;
        y = new double[nOut];
        model.Forward(x, batch, length, reads, y);
        var jac = new double[nOut, nP];
        var e = new double[nP];
        var col = new double[nOut];
        for (int j = 0; j < nP; j++)
        {
            e[j] = 1;
            model.ForwardTangent(e, col);
            e[j] = 0;
            for (int i = 0; i < nOut; i++) jac[i, j] = col[i];
        }
        return jac;
    }

    private static double[] Times(double[,] a, double[] v)
    {
        var r = new double[a.GetLength(0)];
        for (int i = 0; i < r.Length; i++) { double s = 0; for (int j = 0; j < v.Length; j++) s += a[i, j] * v[j]; r[i] = s; }
        return r;
    }

    private static double[] TransposeTimes(double[,] a, double[] u)
    {
        var r = new double[a.GetLength(1)];
        for (int j = 0; j < r.Length; j++) { double s = 0; for (int i = 0; i < u.Length; i++) s += a[i, j] * u[i]; r[j] = s; }
        return r;
    }

    // max |a − b| ≤ tol · max |b|: the products sum in a different order than the dense reference.
    private static void CloseInNorm(double[] expected, double[] actual, double tol, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = expected.Max(Math.Abs), err = 0;
        for (int i = 0; i < expected.Length; i++) err = Math.Max(err, Math.Abs(expected[i] - actual[i]));
        Assert.True(err <= tol * scale, $"{what}: max difference {err:E2} against max |expected| {scale:E2}");
    }

    [Theory]
    [InlineData("base_conv", true)]
    [InlineData("attn", true)]
    [InlineData("base_conv", false)]
    public void Products_match_the_explicit_jacobian(string seqOp, bool trainProj)
    {
        var model = Model(Tiny(seqOp, trainProj));
        const int batch = 530, length = 5;   // 32 groups of 16 or 17 examples: some run as two slices
        int[] reads = [2, 4];
        var x = Gaussian(batch * length * model.InDims, 63);
        var jac = ExplicitJacobian(model, x, batch, length, reads, out var y);
        int nOut = y.Length, nP = model.Store.Size;

        var mj = new ModelJacobian<double>(model);
        mj.SetBatch(x, batch, length, reads);
        Assert.Equal(nOut, mj.OutputCount);
        Assert.Equal(nP, mj.ParameterCount);

        var output = new double[nOut];
        mj.Outputs(output);
        Compare.Close(y, output, 1e-14, "outputs");

        var v = Gaussian(nP, 64);
        var jv = new double[nOut];
        var output2 = new double[nOut];
        mj.JacobianVector(v, jv, output2);
        CloseInNorm(Times(jac, v), jv, 1e-13, "J v");
        Assert.Equal(output, output2);

        var u = Gaussian(nOut, 65);
        var jtu = new double[nP];
        mj.JacobianTransposeVector(u, jtu);
        CloseInNorm(TransposeTimes(jac, u), jtu, 1e-13, "J^T u");

        var jtjv = new double[nP];
        var jv2 = new double[nOut];
        mj.GaussNewton(v, jtjv, jv2);
        CloseInNorm(TransposeTimes(jac, Times(jac, v)), jtjv, 1e-13, "J^T J v");
        Assert.Equal(jv, jv2);

        // Frozen parameters: zero columns of J, zero entries of J^T u, and their entries of v are ignored.
        foreach (var p in model.Store.Parameters)
        {
            if (p.Trainable) continue;
            for (int i = p.Offset; i < p.Offset + p.Length; i++)
            {
                Assert.Equal(0.0, jtu[i]); Assert.Equal(0.0, jtjv[i]);
                for (int r = 0; r < nOut; r++) Assert.Equal(0.0, jac[r, i]);
            }
        }
        Assert.Equal(trainProj, model.Store.Parameters.All(p => p.Trainable));

        // The whole Jacobian, row by row (a batch-1 forward and one backward per output), against the explicit one.
        var rows = new double[(long)nOut * nP];
        var output3 = new double[nOut];
        mj.JacobianRows(rows, output3);
        var flat = new double[nOut * nP];
        for (int i = 0; i < nOut; i++) for (int j = 0; j < nP; j++) flat[i * nP + j] = jac[i, j];
        CloseInNorm(flat, rows, 1e-13, "J rows");
        Compare.Close(y, output3, 1e-14, "outputs of the row pass");

        // Jᵀ applied to J v gives the Gauss-Newton product bit for bit (the same passes in the same order).
        var jtjv2 = new double[nP];
        mj.JacobianTransposeVector(jv, jtjv2);
        Assert.Equal(jtjv, jtjv2);
    }

    [Fact]
    public void Products_do_not_depend_on_the_thread_count()
    {
        var config = ConfigLoader.FromPreset("explicit-gradient", ["model.n_embd=16"]).Model;
        var model = Model(config);
        const int batch = 96;
        int length = config.NPositions;
        var x = Gaussian(batch * length * model.InDims, 71);
        var v = Gaussian(model.Store.Size, 72);
        var mj = new ModelJacobian<double>(model);
        mj.SetBatch(x, batch, length, [length - 1]);
        var one = new double[model.Store.Size];
        var two = new double[model.Store.Size];
        var jvOne = new double[mj.OutputCount];
        var jvTwo = new double[mj.OutputCount];
        WorkerPool.Configure(1);
        try { mj.GaussNewton(v, one, jvOne); }
        finally { WorkerPool.Configure(2); }
        try { mj.GaussNewton(v, two, jvTwo); }
        finally { WorkerPool.Configure(Environment.ProcessorCount); }
        Assert.Equal(jvOne, jvTwo);
        Assert.Equal(one, two);
    }

    [Fact]
    public void Arguments_are_checked()
    {
        var model = Model(Tiny("base_conv", true));
        var mj = new ModelJacobian<double>(model);
        Assert.Throws<InvalidOperationException>(() => mj.GaussNewton(new double[model.Store.Size], new double[model.Store.Size]));
        var x = Gaussian(3 * 5 * model.InDims, 1);
        Assert.Throws<ArgumentException>(() => mj.SetBatch(x, 3, 5, [5]));
        Assert.Throws<ArgumentException>(() => mj.SetBatch(x.AsSpan(1), 3, 5, [4]));
        mj.SetBatch(x, 3, 5, [4]);
        Assert.Throws<ArgumentException>(() => mj.JacobianVector(new double[model.Store.Size], new double[mj.OutputCount + 1]));
        Assert.Throws<ArgumentException>(() => mj.GaussNewton(new double[model.Store.Size - 1], new double[model.Store.Size]));
        Assert.Contains("outputs x parameters", Assert.Throws<ArgumentException>(() => mj.JacobianRows(new double[mj.OutputCount * model.Store.Size - 1])).Message);
    }
}

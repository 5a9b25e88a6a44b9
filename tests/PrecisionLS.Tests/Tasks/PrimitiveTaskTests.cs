using PrecisionLS.Numerics;
using PrecisionLS.Tasks;
using Xunit;

namespace PrecisionLS.Tests.Tasks;

public class PrimitiveTaskTests
{
    private const int D = 20, L = 40;   // the authors' configs

    /// <summary>The target by its formula from the prompt x [B, L, D] (REFERENCE §1 primitives table).</summary>
    private static double[] Expected(PrimitiveTask<double> task, double[] x, int batch)
    {
        int l = task.Points, d = task.NDims, c = task.ReadChannelCount;
        var y = new double[batch * l * c];
        for (int e = 0; e < batch; e++)
            for (int i = 0; i < l; i++)
            {
                int src = task.ReadDestination == i ? task.ReadSource!.Value : i;
                var row = x.AsSpan((e * l + src) * d, d);
                var yr = y.AsSpan((e * l + i) * c, c);
                switch (task.Name)
                {
                    case "identity": case "read": row.CopyTo(yr); break;
                    case "square": for (int k = 0; k < d; k++) yr[k] = row[k] * row[k]; break;
                    case "elementwise_multiply": for (int k = 0; k < d / 2; k++) yr[k] = row[k] * row[d / 2 + k]; break;
                    case "linear": for (int k = 0; k < d; k++) yr[0] += row[k] * task.LinearCoefficients![k]; break;
                }
            }
        return y;
    }

    [Theory]
    [InlineData("identity", 20, 20)]
    [InlineData("square", 20, 20)]
    [InlineData("elementwise_multiply", 10, 10)]
    [InlineData("elementwise_multiply", 20, 10)]
    [InlineData("read", 20, 20)]
    [InlineData("linear", 1, 1)]
    [InlineData("linear", 3, 1)]
    public void TargetsFollowTheFormulaAndPerfectPredictionsScoreZero(string name, int outDims, int channels)
    {
        const int batch = 3;
        var task = new PrimitiveTask<double>(name, D, L, outDims, seed: 5);
        Assert.Equal(name, task.Name);
        Assert.Equal(L, task.PromptLength);
        Assert.Equal(D, task.TokenDims);
        Assert.Equal(Enumerable.Range(0, L).ToArray(), task.ReadPositions.ToArray());
        Assert.Equal(0, task.ReadChannelStart);
        Assert.Equal(channels, task.ReadChannelCount);
        var prompt = new double[batch * L * D];
        var target = new double[batch * task.TargetSize];
        task.Sample(new Rng(21), batch, prompt, target);

        // The prompt is the Gaussian sampler's x for the same seed.
        var x = new double[prompt.Length];
        new GaussianSampler<double>(D, L).Sample(new Rng(21), batch, x);
        Assert.Equal(x, prompt);
        Assert.Equal(Expected(task, prompt, batch), target);

        // Perfect prediction in the read window, garbage outside it: zero loss and zero gradient.
        var outp = new double[batch * L * outDims];
        new Rng(1).FillGaussian(outp.AsSpan());
        for (int r = 0; r < batch * L; r++)
            for (int k = 0; k < channels; k++) outp[r * outDims + k] = target[r * channels + k];
        var grad = new double[outp.Length];
        Assert.Equal(0.0, task.Loss(outp, target, batch, grad));
        Assert.All(grad, g => Assert.Equal(0.0, g));
        Assert.Equal(0.0, task.Evaluate(outp, target, batch).Mse);
        // An error e on one read value costs e² / (B·L·C).
        outp[0] += 0.5;
        Assert.Equal(0.25 / (batch * L * channels), task.Loss(outp, target, batch, grad), 1e-18);
    }

    [Fact]
    public void WorkedExampleFromTheDocs()
    {
        double[] x = [1, 2, 3, 4];
        (string Name, int Out, double[] Y)[] cases =
        [
            ("identity", 2, [1, 2, 3, 4]),
            ("square", 2, [1, 4, 9, 16]),
            ("elementwise_multiply", 1, [2, 12]),
        ];
        foreach (var (name, outDims, y) in cases)
        {
            var task = new PrimitiveTask<double>(name, 2, 2, outDims);
            var prompt = new double[4];
            var target = new double[y.Length];
            task.BuildPrompt(x, 1, prompt, target);
            Assert.Equal(x, prompt);
            Assert.Equal(y, target);
        }
    }

    [Fact]
    public void ReadDrawsOrderedPositionsOncePerSeed()
    {
        var pairs = new HashSet<(int, int)>();
        for (int seed = 0; seed < 40; seed++)
        {
            var task = new PrimitiveTask<double>("read", D, L, D, seed: seed);
            int i = task.ReadSource!.Value, j = task.ReadDestination!.Value;
            Assert.InRange(i, 0, L - 1);
            Assert.InRange(j, i, L - 1);
            var again = new PrimitiveTask<double>("read", D, L, D, seed: seed);
            Assert.Equal((i, j), (again.ReadSource!.Value, again.ReadDestination!.Value));
            Assert.Equal(seed, task.Seed);
            pairs.Add((i, j));
        }
        Assert.True(pairs.Count > 20, $"only {pairs.Count} distinct (i, j) over 40 seeds");

        // Token j of the target is token i of the prompt; every other token is itself.
        var t = new PrimitiveTask<double>("read", 3, 6, 3, seed: 2);
        int src = t.ReadSource!.Value, dst = t.ReadDestination!.Value;
        var prompt = new double[6 * 3]; var target = new double[6 * 3];
        t.Sample(new Rng(4), 1, prompt, target);
        for (int row = 0; row < 6; row++)
            Assert.Equal(prompt.AsSpan((row == dst ? src : row) * 3, 3).ToArray(), target.AsSpan(row * 3, 3).ToArray());
        Assert.Null(new PrimitiveTask<double>("identity", 2, 2, 2).ReadSource);
    }

    [Fact]
    public void ReadRefusesPromptsThatLoseTheDestinationToken()
    {
        // Find a seed whose destination is not the first token, so some smaller sizes are refused.
        var task = Enumerable.Range(0, 100).Select(s => new PrimitiveTask<double>("read", 4, 10, 4, seed: s))
            .First(t => t.ReadDestination >= 2);
        int j = task.ReadDestination!.Value;
        Assert.Equal(j + 1, task.MinPoints);
        task.SetSize(j + 1, 4);
        Assert.Equal(j + 1, task.PromptLength);
        var ex = Assert.Throws<ArgumentException>(() => task.SetSize(j, 4));
        Assert.Contains($"points = {j}", ex.Message);
        Assert.Contains($"{j + 1}..10", ex.Message);
    }

    [Fact]
    public void LinearCoefficientsAreReproducibleAndSparsityZeroesTheRightCount()
    {
        var a = new PrimitiveTask<double>("linear", D, L, 1, seed: 3);
        var b = new PrimitiveTask<double>("linear", D, L, 1, seed: 3);
        var c = new PrimitiveTask<double>("linear", D, L, 1, seed: 4);
        Assert.Equal(a.LinearCoefficients!, b.LinearCoefficients!);
        Assert.NotEqual(a.LinearCoefficients!, c.LinearCoefficients!);
        Assert.Equal(D, a.LinearCoefficients!.Count);
        Assert.All(a.LinearCoefficients!, v => Assert.NotEqual(0.0, v));
        Assert.Null(new PrimitiveTask<double>("square", 2, 2, 2).LinearCoefficients);

        // c = 3 N(0, I): over many entries the mean square is near 9.
        var wide = new PrimitiveTask<double>("linear", 4000, 2, 1, seed: 1);
        double ms = wide.LinearCoefficients!.Average(v => v * v);
        Assert.InRange(ms, 9 * 0.9, 9 * 1.1);

        foreach (int sparsity in new[] { 1, 7, D })
        {
            var s1 = new PrimitiveTask<double>("linear", D, L, 1, seed: 9, sparsity: sparsity);
            var s2 = new PrimitiveTask<double>("linear", D, L, 1, seed: 9, sparsity: sparsity);
            var dense = new PrimitiveTask<double>("linear", D, L, 1, seed: 9);
            Assert.Equal(sparsity, s1.LinearCoefficients!.Count(v => v != 0));
            Assert.Equal(s1.LinearCoefficients!, s2.LinearCoefficients!);
            // Sparsity zeroes entries of the same dense draw; the surviving ones are unchanged.
            for (int k = 0; k < D; k++)
                if (s1.LinearCoefficients![k] != 0) Assert.Equal(dense.LinearCoefficients![k], s1.LinearCoefficients![k]);
        }
    }

    [Fact]
    public void CurriculumShrinksThePromptAndZeroesDeadColumns()
    {
        const int batch = 2, points = 7, dims = 12;
        foreach (string name in PrimitiveTask<double>.Primitives)
        {
            // read: the first seed whose destination token j fits in 7 tokens.
            var task = Enumerable.Range(0, 1000).Select(s => new PrimitiveTask<double>(name, D, L, name == "linear" ? 1 : D, seed: s))
                .First(t => t.MinPoints <= points);
            task.SetSize(points, dims);
            Assert.Equal(points, task.PromptLength);
            Assert.Equal(Enumerable.Range(0, points).ToArray(), task.ReadPositions.ToArray());
            Assert.Equal(points * task.ReadChannelCount, task.TargetSize);
            var prompt = new double[batch * points * D];
            var target = new double[batch * task.TargetSize];
            task.Sample(new Rng(6), batch, prompt, target);
            for (int row = 0; row < batch * points; row++)
            {
                for (int k = 0; k < D; k++)
                    if (k >= dims) Assert.Equal(0.0, prompt[row * D + k]);
                    else Assert.NotEqual(0.0, prompt[row * D + k]);
            }
            Assert.Equal(Expected(task, prompt, batch), target);
        }
    }

    [Fact]
    public void FloatTaskRoundsTheDoubleTask()
    {
        foreach (string name in PrimitiveTask<double>.Primitives)
        {
            int outDims = name == "linear" ? 1 : D;
            var td = new PrimitiveTask<double>(name, D, 8, outDims, seed: 2);
            var tf = new PrimitiveTask<float>(name, D, 8, outDims, seed: 2);
            var pd = new double[2 * 8 * D]; var yd = new double[2 * td.TargetSize];
            var pf = new float[pd.Length]; var yf = new float[yd.Length];
            td.Sample(new Rng(3), 2, pd, yd);
            tf.Sample(new Rng(3), 2, pf, yf);
            Assert.Equal(pd.Select(v => (float)v), pf);
            Assert.Equal(yd.Select(v => (float)v), yf);   // targets computed in double, rounded once
        }
    }

    [Fact]
    public void SampleAndLossAllocateNothingAfterTheFirstCall()
    {
        const int batch = 16;
        foreach (string name in PrimitiveTask<double>.Primitives)
        {
            var task = new PrimitiveTask<double>(name, D, L, D, new GaussianOptions(normalize: true), sparsity: name == "linear" ? 5 : null);
            var prompt = new double[batch * L * D];
            var target = new double[batch * task.TargetSize];
            var outp = new double[batch * L * D]; var grad = new double[outp.Length];
            var rng = new Rng(2);
            // Warm up every call below once (first calls may allocate while the JIT tiers them up), then measure.
            task.Sample(rng, batch, prompt, target);
            task.Sample(rng, batch / 2, prompt, target);
            task.Loss(outp, target, batch, grad);
            long before = GC.GetAllocatedBytesForCurrentThread();
            task.Sample(rng, batch, prompt, target);
            task.Sample(rng, batch / 2, prompt, target);
            task.Loss(outp, target, batch, grad);
            Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
        }
    }

    [Fact]
    public void BadArgumentsAreRejectedNamingTheKey()
    {
        var ex = Assert.Throws<ArgumentException>(() => new PrimitiveTask<double>("cube", D, L, D));
        Assert.Contains("task = 'cube'", ex.Message);
        Assert.Contains("'elementwise_multiply'", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => new PrimitiveTask<double>("identity", D, L, D - 1));
        Assert.Contains("out_dims = 19", ex.Message);
        Assert.Contains("at least 20", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => new PrimitiveTask<double>("elementwise_multiply", D, L, 9));
        Assert.Contains("at least 10", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => new PrimitiveTask<double>("elementwise_multiply", 5, L, 5));
        Assert.Contains("n_dims = 5", ex.Message);
        Assert.Contains("even", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => new PrimitiveTask<double>("linear", D, L, 0));
        Assert.Contains("out_dims = 0", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => new PrimitiveTask<double>("linear", D, L, 1, sparsity: 21));
        Assert.Contains("sparsity = 21", ex.Message);
        Assert.Contains("1..20", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => new PrimitiveTask<double>("linear", D, L, 1, sparsity: 0));
        Assert.Contains("sparsity = 0", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => new PrimitiveTask<double>("square", D, L, D, sparsity: 3));
        Assert.Contains("sparsity = 3", ex.Message);
        Assert.Contains("only the linear", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => new PrimitiveTask<double>("read", D, 0, D));
        Assert.Contains("n_points = 0", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => new PrimitiveTask<double>("identity", 0, L, 1));
        Assert.Contains("n_dims = 0", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => new PrimitiveTask<double>("identity", D, L, D, new GaussianOptions(scale: double.NaN)));
        Assert.Contains("scale = NaN", ex.Message);
        var task = new PrimitiveTask<double>("identity", 2, 3, 2);
        ex = Assert.Throws<ArgumentException>(() => task.Sample(new Rng(0), 2, new double[11], new double[12]));
        Assert.Contains("prompt", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => task.SetSize(3, 3));
        Assert.Contains("dims = 3", ex.Message);
    }
}

using PrecisionLS.Config;
using PrecisionLS.Monarch;
using PrecisionLS.Nn;
using PrecisionLS.Numerics;
using Xunit;

namespace PrecisionLS.Tests.Monarch;

/// <summary>Dense MLP weights projected onto MonarchLinear: the sparse model computes the projected dense model.</summary>
public class MonarchSparsifierTests
{
    [Theory]
    [InlineData(4)]
    [InlineData(3)]   // 3 does not divide 16 or 64: padded and truncated blocks
    public void The_sparse_model_equals_the_dense_model_with_projected_weights(int nblocks)
    {
        var cfg = ConfigLoader.FromPreset("primitives-read", ["model.n_embd=16", "model.n_head=2"]);
        var dense = new SequenceModel<double>(cfg.Model);
        dense.Initialize(new Rng(3));
        var sparseCfg = MonarchSparsifier.MonarchConfig(cfg, nblocks);
        var sparse = new SequenceModel<double>(sparseCfg.Model);
        var layers = MonarchSparsifier.Project(dense, sparse);

        Assert.Equal(2 * cfg.Model.NLayer, layers.Count);                     // c_fc and c_proj of each block
        Assert.All(layers, l => Assert.InRange(l.RelativeError, 1e-3, 1));    // random weights are far from Monarch
        Assert.All(layers, l => Assert.True(l.MonarchParameters < l.DenseParameters));
        Assert.True(sparse.Store.TrainableCount < dense.Store.TrainableCount);

        // The dense model with each MLP weight replaced by its projection computes what the sparse model computes.
        foreach (var l in layers)
        {
            var w = dense.Store.Value(dense.Store.Get(l.Name + ".weight"));
            var projected = MonarchProjection.Project(w.ToArray(), l.Out, l.In, nblocks);
            Assert.Equal(l.RelativeError, projected.RelativeError, 12);
            projected.Projected.CopyTo(w);
        }
        int batch = 3, length = cfg.Model.NPositions;
        var x = new double[batch * length * cfg.Model.InDims];
        new Rng(5).FillGaussian(x);
        int[] all = Enumerable.Range(0, length).ToArray();
        var yDense = new double[batch * length * cfg.Model.OutDims];
        var ySparse = new double[yDense.Length];
        dense.Forward(x, batch, length, all, yDense);
        sparse.Forward(x, batch, length, all, ySparse);
        for (int i = 0; i < yDense.Length; i++) Assert.True(Math.Abs(yDense[i] - ySparse[i]) <= 1e-12 * (1 + Math.Abs(yDense[i])), $"output {i}: {yDense[i]} vs {ySparse[i]}");
    }

    [Fact]
    public void Runs_without_dense_mlps_are_refused()
    {
        var noMlp = ConfigLoader.FromPreset("explicit-gradient");
        Assert.Contains("use_mlps = false", Assert.Throws<ConfigException>(() => MonarchSparsifier.MonarchConfig(noMlp, 4)).Message);
        var monarch = ConfigLoader.FromPreset("primitives-read", ["model.mlp_type=monarch"]);
        Assert.Contains("already model.mlp_type = monarch", Assert.Throws<ConfigException>(() => MonarchSparsifier.MonarchConfig(monarch, 4)).Message);
    }
}

/// <summary>monarch sparsify from the command line.</summary>
[Collection(nameof(SharedPoolCollection))]
public sealed class MonarchSparsifyCommandTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "pls-sparsify-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        WorkerPool.Configure(Environment.ProcessorCount);
        if (Directory.Exists(_root)) Directory.Delete(_root, true);
    }

    private static (int Code, string Output, string Error) Run(params string[] args) => PrecisionLS.Tests.Cli.CliRunner.Run(args);

    [Fact]
    public void Sparsify_projects_reports_and_continues_training_as_a_new_run()
    {
        string dense = Path.Combine(_root, "dense"), sparse = Path.Combine(_root, "sparse");
        Assert.Equal(0, Run("train", "--preset", "primitives-read", "--steps", "4", "--out", dense, "--threads", "1", "--set", "model.n_embd=16",
            "--set", "model.n_head=2", "--set", "training.batch_size=8", "--set", "training.eval_batch_size=8").Code);
        var (code, output, error) = Run("monarch", "sparsify", "--run", dense, "--out", sparse, "--steps", "6", "--threads", "1");
        Assert.True(code == 0, error);
        Assert.Contains("_backbone.transformer.h.1.mlp.c_proj", output);
        Assert.Contains("MLP weights: 4,096 -> 1,280 (0.313 of dense)", output);   // 2 blocks x (c_fc 64 x 16, c_proj 16 x 64): 320 Monarch entries each
        Assert.Contains("held-out mse: dense", output);
        var info = PrecisionLS.Training.RunInfo.Load(sparse);
        Assert.Equal(("finished", 6L), (info.Status, info.Steps));
        Assert.Equal("monarch", info.Config!.Model.MlpType);

        var again = Run("monarch", "sparsify", "--run", sparse);
        Assert.NotEqual(0, again.Code);
        Assert.Contains("already model.mlp_type = monarch", again.Error);
    }
}

using System.Numerics;
using PrecisionLS.Config;
using PrecisionLS.Nn;

namespace PrecisionLS.Monarch;

/// <summary>One dense MLP weight replaced by its nearest Monarch matrix.</summary>
/// <param name="Name">The layer, e.g. "_backbone.transformer.h.0.mlp.c_fc".</param>
/// <param name="Out">Output features.</param>
/// <param name="In">Input features.</param>
/// <param name="RelativeError">‖W - monarch(W)‖_F / ‖W‖_F.</param>
/// <param name="DenseParameters">Out·In.</param>
/// <param name="MonarchParameters">Entries of blkdiag1 and blkdiag2.</param>
public sealed record SparsifiedLayer(string Name, int Out, int In, double RelativeError, long DenseParameters, long MonarchParameters);

/// <summary>
/// The Monarch paper's dense-to-sparse path: a trained model's dense MLP weights (c_fc, c_proj) are projected onto
/// the nearest Monarch matrices in MonarchLinear's layout (<see cref="MonarchProjection"/>), every other parameter
/// is copied, and the result is a model with model.mlp_type = monarch that can be evaluated or trained further.
/// </summary>
public static class MonarchSparsifier
{
    /// <summary>The config of the sparse model: <paramref name="dense"/> with mlp_type monarch and <paramref name="nblocks"/> blocks.</summary>
    public static RunConfig MonarchConfig(RunConfig dense, int nblocks)
    {
        if (!dense.Model.UseMlps) throw new ConfigException("this run has no MLPs (model.use_mlps = false): nothing to make Monarch");
        if (dense.Model.MlpType != "dense") throw new ConfigException($"this run's MLPs are already model.mlp_type = {dense.Model.MlpType}; sparsify needs dense ones");
        if (nblocks < 1) throw new ConfigException($"--nblocks {nblocks} must be at least 1");
        return dense with { Model = dense.Model with { MlpType = "monarch", MlpNblocks = nblocks } };
    }

    /// <summary>
    /// Fills <paramref name="sparse"/> from <paramref name="dense"/>: parameters with the same name and shape are
    /// copied, and each dense "X.weight" whose sparse model has "X.blkdiag1"/"X.blkdiag2" is projected onto them.
    /// </summary>
    public static IReadOnlyList<SparsifiedLayer> Project<T>(SequenceModel<T> dense, SequenceModel<T> sparse) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var layers = new List<SparsifiedLayer>();
        var from = dense.Store.Parameters.ToDictionary(p => p.Name);
        int nblocks = sparse.Config.MlpNblocks;
        foreach (var p in sparse.Store.Parameters)
        {
            if (p.Name.EndsWith(".blkdiag2", StringComparison.Ordinal)) continue;   // filled with its blkdiag1
            if (p.Name.EndsWith(".blkdiag1", StringComparison.Ordinal))
            {
                string layer = p.Name[..^".blkdiag1".Length];
                var w = from.GetValueOrDefault(layer + ".weight")
                    ?? throw new ConfigException($"the dense model has no '{layer}.weight' to project onto '{p.Name}'");
                int outF = w.Shape[0], inF = w.Shape[1];
                var values = new double[w.Length];
                var src = dense.Store.Value(w);
                for (int i = 0; i < values.Length; i++) values[i] = double.CreateChecked(src[i]);
                var result = MonarchProjection.Project(values, outF, inF, nblocks);
                var b2 = sparse.Store.Get(layer + ".blkdiag2");
                if (result.Factors.W1.Length != p.Length || result.Factors.W2.Length != b2.Length)
                    throw new InvalidOperationException($"{layer}: projection layout {result.Factors.Layout.ShapeText} does not match MonarchLinear's blkdiag shapes");
                Copy(result.Factors.W1, sparse.Store.Value(p));
                Copy(result.Factors.W2, sparse.Store.Value(b2));
                layers.Add(new SparsifiedLayer(layer, outF, inF, result.RelativeError, w.Length, p.Length + b2.Length));
                continue;
            }
            var twin = from.GetValueOrDefault(p.Name);
            if (twin is null || !twin.Shape.SequenceEqual(p.Shape))
                throw new ConfigException($"the dense model has no parameter '{p.Name}' of shape [{string.Join(", ", p.Shape)}]");
            dense.Store.Value(twin).CopyTo(sparse.Store.Value(p));
        }
        return layers;
    }

    private static void Copy<T>(double[] from, Span<T> to) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < from.Length; i++) to[i] = T.CreateChecked(from[i]);
    }
}

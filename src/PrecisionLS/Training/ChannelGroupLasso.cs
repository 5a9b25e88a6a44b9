using System.Numerics;
using PrecisionLS.Config;
using PrecisionLS.Nn;

namespace PrecisionLS.Training;

/// <summary>
/// Group lasso over whole channels of a BaseConv model (training.group_lasso), applied as a proximal step after each
/// first-order update: every group w_g becomes w_g · max(0, 1 - τ/‖w_g‖) with τ = lr · group_lasso, the proximal map
/// of τ Σ_g ‖w_g‖. Unlike a penalty in the gradient (l1_reg) it sets whole groups exactly to zero.
/// </summary>
/// <remarks>
/// Why (issue 9): near a sparse exact solution the model's tangent space is small and Gauss-Newton with an exact
/// solve reaches 1e-19 in a few steps; dense trained models have no such gap. A channel whose every weight is zero
/// is idle to first order: its gradient is exactly zero (each of its weights multiplies one of the others, or a zero
/// activation), so Adam, Gauss-Newton and L-BFGS all leave it at zero once the penalty stops.
/// Groups:
/// <list type="bullet">
/// <item>inner channel c of a BaseConv layer: row c of in_proj and projection with their biases, the conv's
/// filter and bias of channel c, column c of out_proj;</item>
/// <item>with <c>group_lasso_residual</c>, residual-stream channel r: row r of read_in (and its bias), column r of
/// the position embedding, column r of every layer's in_proj and projection, row r of every out_proj and its bias,
/// column r of read_out (everything that writes or reads channel r).</item>
/// </list>
/// The two kinds overlap (in_proj[c, r] is in both); their proximal maps are applied one after the other, inner
/// channels first. That is not the exact proximal map of the sum, but it keeps what matters: groups reach exactly zero.
/// Frozen tensors (train_proj or train_pos false) are left out of every group: the step never changes them.
/// </remarks>
public sealed class ChannelGroupLasso<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly int[][] _groups;       // flat indices into the store's values

    private ChannelGroupLasso(int[][] groups, string[] names) { _groups = groups; Names = names; }

    /// <summary>Group names ("layer 0 inner 17", "residual 5"), in the order the proximal map visits them.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Number of groups.</summary>
    public int Count => _groups.Length;

    /// <summary>The flat parameter indices of group <paramref name="group"/>.</summary>
    public ReadOnlySpan<int> Indices(int group) => _groups[group];

    /// <summary>The groups of a BaseConv model without MLPs or LayerNorms; refuses anything else, naming what it met.</summary>
    public static ChannelGroupLasso<T> ForModel(ParameterStore<T> store, bool residual)
    {
        var groups = new List<int[]>(); var names = new List<string>();
        // Frozen tensors (train_proj / train_pos false) keep their values: the proximal step touches trainable weights only.
        var frozen = new bool[store.Size];
        foreach (var p in store.Parameters.Where(p => !p.Trainable)) Array.Fill(frozen, true, p.Offset, p.Length);
        void AddGroup(IEnumerable<int> indices, string name)
        {
            int[] kept = [.. indices.Where(i => !frozen[i])];
            if (kept.Length > 0) { groups.Add(kept); names.Add(name); }
        }
        var layers = store.Parameters.Select(p => p.Name).Where(n => n.EndsWith(".base_conv.in_proj.weight", StringComparison.Ordinal))
                          .Select(n => n[..^".in_proj.weight".Length]).ToList();
        if (layers.Count == 0)
            throw new ConfigException("training.group_lasso groups the channels of BaseConv layers; this model has none (model.seq_op: base_conv is accepted)");
        var known = new HashSet<string>();
        Parameter P(string name)
        {
            var p = store.Get(name);
            known.Add(name);
            return p;
        }
        for (int l = 0; l < layers.Count; l++)
        {
            string prefix = layers[l];
            var inW = P(prefix + ".in_proj.weight"); var inB = P(prefix + ".in_proj.bias");
            var pW = P(prefix + ".projection.weight"); var pB = P(prefix + ".projection.bias");
            var outW = P(prefix + ".out_proj.weight");
            string convPrefix = store.Parameters.Select(p => p.Name).FirstOrDefault(n => n.StartsWith(prefix + ".conv.", StringComparison.Ordinal) && n.EndsWith(".weight", StringComparison.Ordinal))
                                ?? throw new ConfigException($"training.group_lasso: layer '{prefix}' has no convolution weight");
            var convW = P(convPrefix);
            if (convW.Shape.Length != 3 || convW.Shape[1] != 1)
                throw new ConfigException($"training.group_lasso groups channels of the short convolution (filter [d, 1, k]); '{convPrefix}' has shape [{string.Join(", ", convW.Shape)}] (model.conv_type: short is accepted)");
            var convB = P(convPrefix[..^".weight".Length] + ".bias");
            int inner = inW.Shape[0], width = inW.Shape[1], k = convW.Shape[2];
            for (int c = 0; c < inner; c++)
            {
                var g = new List<int>();
                for (int j = 0; j < width; j++) { g.Add(inW.Offset + c * width + j); g.Add(pW.Offset + c * width + j); }
                g.Add(inB.Offset + c); g.Add(pB.Offset + c); g.Add(convB.Offset + c);
                for (int j = 0; j < k; j++) g.Add(convW.Offset + c * k + j);
                for (int r = 0; r < outW.Shape[0]; r++) g.Add(outW.Offset + r * inner + c);
                AddGroup(g, $"layer {l} inner {c}");
            }
        }
        if (residual)
        {
            var readIn = P("_read_in.weight"); var readOut = P("_read_out.weight");
            int width = readIn.Shape[0];
            var perChannel = Enumerable.Range(0, width).Select(_ => new List<int>()).ToArray();
            void Rows(Parameter p) { int cols = p.Length / p.Shape[0]; for (int r = 0; r < width; r++) for (int j = 0; j < cols; j++) perChannel[r].Add(p.Offset + r * cols + j); }
            void Columns(Parameter p) { int rows = p.Length / width; for (int i = 0; i < rows; i++) for (int r = 0; r < width; r++) perChannel[r].Add(p.Offset + i * width + r); }
            Rows(readIn);
            if (store.TryGet("_read_in.bias", out var readInBias)) Rows(P(readInBias.Name));
            Columns(readOut);
            if (store.TryGet("_backbone.transformer.wpe.weight", out var wpe)) Columns(P(wpe.Name));
            foreach (var prefix in layers)
            {
                Columns(store.Get(prefix + ".in_proj.weight")); Columns(store.Get(prefix + ".projection.weight"));
                Rows(store.Get(prefix + ".out_proj.weight")); Rows(P(prefix + ".out_proj.bias"));
            }
            // Every parameter that touches the residual stream must be in a group, or a "zero" channel could still be read.
            foreach (var name in layers.Select(p => p + ".branch_weights").Concat(["_read_out.bias"])) known.Add(name);
            var unknown = store.Parameters.FirstOrDefault(p => p.Trainable && !known.Contains(p.Name));
            if (unknown is not null)
                throw new ConfigException($"training.group_lasso_residual: parameter '{unknown.Name}' reads or writes the residual stream in a way the groups do not cover " +
                                          "(models with MLPs, LayerNorms or other mixers are not supported); set group_lasso_residual: false to group only the BaseConv channels");
            for (int r = 0; r < width; r++) AddGroup(perChannel[r], $"residual {r}");
        }
        return new ChannelGroupLasso<T>([.. groups], [.. names]);
    }

    /// <summary>The proximal step with threshold τ (each group in turn); returns the number of groups now exactly zero.</summary>
    public int Shrink(T[] values, double tau)
    {
        int zero = 0;
        foreach (var g in _groups)
        {
            double norm = Norm(values, g);
            if (norm <= tau)
            {
                foreach (int i in g) values[i] = T.Zero;
                zero++;
                continue;
            }
            T factor = T.CreateChecked(1 - tau / norm);
            foreach (int i in g) values[i] *= factor;
        }
        return zero;
    }

    /// <summary>Σ_g ‖w_g‖ (the penalty without its factor).</summary>
    public double Penalty(T[] values) => _groups.Sum(g => Norm(values, g));

    /// <summary>How many groups of each kind are exactly zero, e.g. "inner 12/64, 30/64, 40/64; residual 18/64".</summary>
    public string ZeroSummary(T[] values)
    {
        var byKind = new SortedDictionary<string, (int Zero, int Total)>(StringComparer.Ordinal);
        for (int i = 0; i < _groups.Length; i++)
        {
            string kind = Names[i][..Names[i].LastIndexOf(' ')];
            var (z, n) = byKind.GetValueOrDefault(kind);
            byKind[kind] = (z + (Norm(values, _groups[i]) == 0 ? 1 : 0), n + 1);
        }
        return string.Join(", ", byKind.Select(kv => $"{kv.Key}: {kv.Value.Zero}/{kv.Value.Total} zero"));
    }

    private static double Norm(T[] values, int[] group)
    {
        double s = 0;
        foreach (int i in group) { double x = double.CreateChecked(values[i]); s += x * x; }
        return Math.Sqrt(s);
    }
}

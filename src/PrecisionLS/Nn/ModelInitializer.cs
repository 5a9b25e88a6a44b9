using System.Numerics;
using PrecisionLS.Numerics;

namespace PrecisionLS.Nn;

/// <summary>
/// The authors' initialisation (REFERENCE §2), applied by parameter name in registration order:
/// backbone Linear weights N(0, 0.02) and biases 0; weights named c_proj N(0, 0.02/sqrt(2·n_layer)) (GPT-2's
/// scaled residual init); wpe N(0, 0.02); read-in/out PyTorch nn.Linear default U(±1/sqrt(fan_in)) for weight
/// and bias; depthwise Conv1d default U(±1/sqrt(K)); branch_weights (1, 0); LayerNorm weight 1, bias 0.
/// train_proj = false: read-in/out are rectangular identities with zero bias; train_pos = false: wpe = 0.
/// Structured MLPs (model.mlp_type monarch or blockdiag): every factor (blkdiag1, blkdiag2, or the block-diagonal
/// weight) uniform(±1/√fan_in), fan_in its last dimension, as the fly code initialises them (N(0, 0.02) per factor
/// would make a Monarch matrix's entries, each a sum of a few products of two factor entries, 10-50 times smaller
/// than a dense init's 0.02); GPT-2's scaled residual
/// init is kept as the ratio it sets between c_proj and c_fc: c_proj's output-side factor (blkdiag2, or its one
/// weight) is scaled by 1/√(2·n_layer), which scales c_proj's effective matrix by exactly that. Their biases are 0,
/// as every backbone bias (the fly layers' own uniform bias init is in their ResetParameters).
/// </summary>
public static class ModelInitializer
{
    public static void Initialize<T>(SequenceModel<T> model, Rng rng) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var store = model.Store;
        var cfg = model.Config;
        foreach (var p in store.Parameters)
        {
            var v = store.Value(p);
            string name = p.Name;
            bool readInOut = name.StartsWith("_read_in.", StringComparison.Ordinal) || name.StartsWith("_read_out.", StringComparison.Ordinal);
            if (readInOut && !cfg.TrainProj) { Identity(v, p); continue; }
            if (TryInitializeM2(store, p, v, rng)) continue;
            if (readInOut)
            {
                int fanIn = name.StartsWith("_read_in.", StringComparison.Ordinal) ? model.InDims : model.D;
                Uniform(rng, v, 1.0 / Math.Sqrt(fanIn));
            }
            else if (name.EndsWith("wpe.weight", StringComparison.Ordinal))
            {
                if (cfg.TrainPos) Normal(rng, v, 0.02); else v.Clear();
            }
            else if (name.EndsWith(".conv.conv.weight", StringComparison.Ordinal) || name.EndsWith(".conv.conv.bias", StringComparison.Ordinal))
                Uniform(rng, v, 1.0 / Math.Sqrt(cfg.NPositions));
            else if (name.EndsWith(".branch_weights", StringComparison.Ordinal)) { v[0] = T.One; v[1] = T.Zero; }
            else if (name.EndsWith(".conv.filter", StringComparison.Ordinal)) LongConvolution<T>.DeltaInit(v, p.Shape[0], p.Shape[1]);   // delta at lag 0
            else if (name.EndsWith(".pos_emb.z", StringComparison.Ordinal)) ImplicitLongConvolution<T>.FillPositionalFeatures(v, p.Shape[1], p.Shape[2]);
            else if (IsStructuredFactor(name, p, cfg))
            {
                double scale = name.Contains(".c_proj.", StringComparison.Ordinal) && !name.EndsWith(".blkdiag1", StringComparison.Ordinal)
                    ? 1.0 / Math.Sqrt(2.0 * cfg.NLayer) : 1.0;
                Uniform(rng, v, scale / Math.Sqrt(p.Shape[^1]));
            }
            else if (name.Contains(".ln_", StringComparison.Ordinal))
                v.Fill(name.EndsWith(".weight", StringComparison.Ordinal) ? T.One : T.Zero);
            else if (name.EndsWith("c_proj.weight", StringComparison.Ordinal)) Normal(rng, v, 0.02 / Math.Sqrt(2.0 * cfg.NLayer));
            else if (name.EndsWith(".weight", StringComparison.Ordinal)) Normal(rng, v, 0.02);
            else if (name.EndsWith(".bias", StringComparison.Ordinal)) v.Clear();
            else throw new InvalidOperationException($"no initialisation rule for parameter '{name}'");
        }
    }

    /// <summary>
    /// Monarch Mixer parameters (seq_op m2, mlp_type m2_glu), following the m2 code's PyTorch defaults: short_filter
    /// (Conv1d, fan_in 3) and the Hyena filter's Linears U(±1/√fan_in); the Sin frequency 1 (w); the skips D, D2 and
    /// filter_fn.bias N(0, 1) (torch.randn); explicit filters k N(0, 0.02) (in_linear/out_linear fall to the backbone
    /// rule N(0, 0.02)); the frozen pos_emb.t, modulation.deltas (and pos_emb.z, below); the causal Monarch map as
    /// <see cref="CausalMonarchMap{T}.Initialize"/>; m2_glu's block-diagonal weights U(±1/√fan_in), layernorm 1 and 0.
    /// </summary>
    private static bool TryInitializeM2<T>(ParameterStore<T> store, Parameter p, Span<T> v, Rng rng) where T : unmanaged, IFloatingPointIeee754<T>
    {
        string name = p.Name;
        bool E(string suffix) => name.EndsWith(suffix, StringComparison.Ordinal);
        bool C(string part) => name.Contains(part, StringComparison.Ordinal);
        if (E(".short_filter.weight") || E(".short_filter.bias")) Uniform(rng, v, 1.0 / Math.Sqrt(3));
        else if (C(".implicit_filter.") && E(".freq")) v.Fill(T.One);
        else if (C(".implicit_filter.") && E(".weight")) Uniform(rng, v, 1.0 / Math.Sqrt(p.Shape[1]));
        else if (C(".implicit_filter.") && E(".bias")) Uniform(rng, v, 1.0 / Math.Sqrt(store.Get(name[..^"bias".Length] + "weight").Shape[1]));
        else if (E(".modulation.deltas")) HyenaM2Filter<T>.FillDeltas(v);
        else if (E(".pos_emb.t")) HyenaM2Filter<T>.FillTimes(v);
        else if (C(".seq_mixer.filter_fn") && E(".bias") && p.Shape.Length == 1) Normal(rng, v, 1.0);
        else if (C(".seq_mixer.") && (E(".D") || E(".D2"))) Normal(rng, v, 1.0);
        else if (C(".seq_mixer.") && (E(".k") || E(".k_rev") || E(".k2") || E(".k2_rev"))) Normal(rng, v, 0.02);
        else if (C(".monarch_map") && E(".w1"))
        {
            var w2 = store.Get(name[..^"w1".Length] + "w2"); var w0 = store.Get(name[..^"w1".Length] + "w0");
            CausalMonarchMap<T>.Initialize(v, store.Value(w2), store.Value(w0), p.Shape[0], p.Shape[1], rng);
        }
        else if (C(".monarch_map") && (E(".w2") || E(".w0"))) { }   // set with w1 (registered first)
        else if (E(".mlp.gated_layers.weight") || E(".mlp.wo.weight")) Uniform(rng, v, 1.0 / Math.Sqrt(p.Shape[^1]));
        else if (C(".mlp.layernorm.")) v.Fill(E(".weight") ? T.One : T.Zero);
        else return false;
        return true;
    }

    // A factor of a Monarch or block-diagonal MLP layer (its biases fall to the .bias rule).
    private static bool IsStructuredFactor(string name, Parameter p, Config.ModelConfig cfg) =>
        name.EndsWith(".blkdiag1", StringComparison.Ordinal) || name.EndsWith(".blkdiag2", StringComparison.Ordinal)
        || (cfg.MlpType == "blockdiag" && p.Shape.Length == 3
            && (name.EndsWith(".mlp.c_fc.weight", StringComparison.Ordinal) || name.EndsWith(".mlp.c_proj.weight", StringComparison.Ordinal)));

    private static void Identity<T>(Span<T> v, Parameter p) where T : unmanaged, IFloatingPointIeee754<T>
    {
        v.Clear();
        if (p.Shape.Length != 2) return;      // bias: zero
        int rows = p.Shape[0], cols = p.Shape[1];
        for (int i = 0; i < Math.Min(rows, cols); i++) v[i * cols + i] = T.One;
    }

    private static void Normal<T>(Rng rng, Span<T> v, double std) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < v.Length; i++) v[i] = T.CreateChecked(std * rng.NextGaussian());
    }

    private static void Uniform<T>(Rng rng, Span<T> v, double bound) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < v.Length; i++) v[i] = T.CreateChecked(rng.NextUniform(-bound, bound));
    }
}
